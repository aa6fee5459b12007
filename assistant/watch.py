"""`kt watch`: keep the index fresh while notes change. One index update per settled batch of edits, one line
of output per update that changed something."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.notes import NOTE_SUFFIXES, SKIP_DIRS, YAML_SUFFIXES

if TYPE_CHECKING:
    from watchfiles.main import AbstractEvent

    from assistant.core import Assistant
    from assistant.store import UpdateReport

Echo = Callable[[str], None]


def is_note_path(path: str | Path) -> bool:
    """A file the index reads: a note suffix, not hidden, not an editor's swap, backup or lock file, and not
    inside a folder the scanner skips."""
    p = Path(path)
    name = p.name
    if not name.lower().endswith(NOTE_SUFFIXES + YAML_SUFFIXES):
        return False  # also rules out foo.md.swp, foo.md~, foo.md.tmp
    if name.startswith((".", "#", "~")):  # .foo.md.swp, .#foo.md (Emacs lock), #foo.md# (Emacs autosave)
        return False
    return not any(part in SKIP_DIRS or part.startswith(".") for part in p.parent.parts)


def watch_notes(
    assistant: Assistant,
    debounce_ms: int = 500,
    echo: Echo = print,
    stop_event: AbstractEvent | None = None,
) -> None:
    """Update the index once, then after every batch of note edits until stop_event is set (or Ctrl-C).

    A failed update is reported as a line and the watch goes on: the next edit may well fix it."""
    from watchfiles import watch

    report = _update(assistant, echo)
    if report is not None:
        echo(_summary(assistant, report))
    folders = [f for f in assistant.folders if f.is_dir()]
    if not folders:
        echo("no notes folder to watch")
        return
    for changes in watch(
        *folders,
        watch_filter=lambda _change, path: is_note_path(_relative(path, folders)),
        debounce=debounce_ms,
        stop_event=stop_event,
    ):
        if not changes:
            continue
        report = _update(assistant, echo)
        if report is not None and report.touched:
            echo(
                f"{time.strftime('%H:%M:%S')} updated: {_counts(report)} "
                f"({report.embedded} chunks embedded, {report.seconds:.1f} s)"
            )


def _update(assistant: Assistant, echo: Echo) -> UpdateReport | None:
    try:
        return assistant.update(wait=True)
    except Exception as e:  # one bad update must not end the watch
        echo(f"{time.strftime('%H:%M:%S')} update failed: {e.__class__.__name__}: {e}")
        return None


def _relative(path: str, folders: list[Path]) -> Path:
    """The path below its notes folder, so that a hidden folder above the notes (~/.notes) does not count."""
    p = Path(path)
    for folder in folders:
        for base in (folder, folder.resolve()):  # a symlinked folder may be reported resolved
            if p.is_relative_to(base):
                return p.relative_to(base)
    return p


def _counts(report: UpdateReport) -> str:
    parts = [(len(report.added), "added"), (len(report.changed), "changed"), (len(report.removed), "removed")]
    return ", ".join(f"{n} {what}" for n, what in parts if n)


def _summary(assistant: Assistant, report: UpdateReport) -> str:
    try:
        files = assistant.store.manifest()["counts"]["files"]
    except Exception:  # the summary is a courtesy: never fail the watch over it
        files = "?"
    line = f"index up to date: {files} files, {report.chunks} chunks"
    return f"{line} ({_counts(report)})" if report.touched and not report.rebuilt else line

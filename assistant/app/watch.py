"""`kt watch`: keep the index fresh while notes change. It says what it watches; then one index update per
settled batch of edits, and one line of output (time, files, chunks embedded) per update that changed
something. Lines are only ever added: progress bars of long updates are gone before a line is printed.

`NotesWatch` is the same watching for `kt mcp`: it does not update, it only says whether a call must sweep the
notes first (assistant/app/mcp_freshness.py)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.ingest.notes import NEVER_NOTES, NEVER_NOTES_SUFFIXES, NOTE_SUFFIXES, NOTE_TYPES, YAML_SUFFIXES

if TYPE_CHECKING:
    from watchfiles.main import AbstractEvent

    from assistant.app.core import Assistant
    from assistant.index.build import UpdateReport

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
    return not any(
        part in NEVER_NOTES or part.endswith(NEVER_NOTES_SUFFIXES) or part.startswith(".") for part in p.parent.parts
    )


def watch_notes(
    assistant: Assistant,
    debounce_ms: int = 500,
    echo: Echo = print,
    stop_event: AbstractEvent | None = None,
) -> None:
    """Say what is watched, update the index once, then after every batch of note edits until stop_event is
    set (or Ctrl-C). Each update that changed something is one line: time, files, chunks embedded.

    A failed update is reported as a line and the watch goes on: the next edit may well fix it."""
    from watchfiles import watch

    folders = [f for f in assistant.folders if f.is_dir()]
    files = [f for f in assistant.folders if f.is_file()]
    if not folders and not files:
        echo("no notes folder to watch")
        return
    echo(f"watching {', '.join(map(str, folders + files))} ({NOTE_TYPES} files) for the index in {_index(assistant)}")
    report = _update(assistant, echo)
    if report is not None:
        echo(_summary(assistant, report))
    single = {f.resolve() for f in files}

    def wanted(_change: object, path: str) -> bool:
        if Path(path).resolve() in single:
            return True
        below = _relative(path, folders)
        return below is not None and is_note_path(below)

    # A single note is watched through its folder: editors that save by renaming replace the file itself.
    for changes in watch(
        *folders,
        *sorted({f.parent for f in files}),
        watch_filter=wanted,
        debounce=debounce_ms,
        stop_event=stop_event,
    ):
        if not changes:
            continue
        report = _update(assistant, echo)
        if report is not None and report.touched:
            from assistant.app.core import plural

            echo(f"{_now()} {_files(report)}: {plural(report.embedded, 'chunk')} embedded ({report.seconds:.1f} s)")


def _now() -> str:
    return time.strftime("%H:%M:%S")


def _index(assistant: Assistant) -> str:
    settings = getattr(assistant, "settings", None)
    return str(settings.index) if settings else "?"


def _update(assistant: Assistant, echo: Echo) -> UpdateReport | None:
    try:
        return assistant.update(wait=True)
    except Exception as e:  # one bad update must not end the watch
        echo(f"{_now()} update failed: {e.__class__.__name__}: {e}")
        return None


def _relative(path: str, folders: list[Path]) -> Path | None:
    """The path below its notes folder (so that a hidden folder above the notes, ~/.notes, does not count), or
    None when it is in none of them."""
    p = Path(path)
    for folder in folders:
        for base in (folder, folder.resolve()):  # a symlinked folder may be reported resolved
            if p.is_relative_to(base):
                return p.relative_to(base)
    return None


def _files(report: UpdateReport, most: int = 4) -> str:
    """'pods.md changed, b.yaml added' — the files an update touched, the first few by name."""
    named = [(key, what) for what, keys in _touched(report) for key in keys]
    shown = ", ".join(f"{key} {what}" for key, what in named[:most])
    return f"{shown}, +{len(named) - most} more" if len(named) > most else shown


def _touched(report: UpdateReport) -> list[tuple[str, list[str]]]:
    return [("changed", report.changed), ("added", report.added), ("removed", report.removed)]


def _counts(report: UpdateReport) -> str:
    return ", ".join(f"{len(keys)} {what}" for what, keys in _touched(report) if keys)


def _summary(assistant: Assistant, report: UpdateReport) -> str:
    try:
        files = assistant.store.manifest().counts.files
    except Exception:  # the summary is a courtesy: never fail the watch over it
        files = "?"
    line = f"{_now()} index up to date: {files} file{'' if files == 1 else 's'}, {report.chunks} chunks"
    return f"{line} ({_counts(report)})" if report.touched and not report.rebuilt else line


# --- `kt mcp`: whether the notes may have changed since the last sweep -------------------------------------------


def missing_roots(folders: list[Path]) -> list[Path]:
    return [f for f in folders if not f.exists()]


class NotesWatch:
    """Whether the notes may have changed since the last sweep. A thread watches each notes root (watchfiles:
    inotify on Linux) and raises `changed` on any event that may touch a note: a note file, or a folder (a
    folder moved or copied in brings notes no event names). It re-arms when a root disappears, reappears or is
    replaced by another folder (`mv notes notes.old && mv notes.new notes`), and raises `changed` then too.
    `vouches()` is true only while it is armed and saw nothing."""

    def __init__(self, folders: list[Path], tick_ms: int = 300) -> None:
        self.folders = folders
        self.tick_ms = tick_ms
        self.changed = threading.Event()
        self.changed.set()  # the first call sweeps
        self.stop = threading.Event()
        self.armed = threading.Event()
        self.arms = 0  # how many times it (re)armed: for tests and index_status
        self.thread = threading.Thread(target=self._run, name="kt-notes-watch", daemon=True)
        self.thread.start()

    def vouches(self) -> bool:
        return self.armed.is_set() and not self.changed.is_set()

    def close(self) -> None:
        self.stop.set()

    def _roots(self) -> list[Path]:
        return sorted({f if f.is_dir() else f.parent for f in self.folders})

    @staticmethod
    def _identity(roots: list[Path]) -> list[tuple[int, int] | None]:
        ids: list[tuple[int, int] | None] = []
        for root in roots:
            try:
                st = os.stat(root)
                ids.append((st.st_dev, st.st_ino))
            except OSError:
                ids.append(None)
        return ids

    def _run(self) -> None:
        from watchfiles import watch

        while not self.stop.is_set():
            roots = self._roots()
            identity = self._identity(roots)
            if None in identity or missing_roots(self.folders):
                self.armed.clear()
                self.changed.set()
                self.stop.wait(self.tick_ms / 1000)  # poll until the root is back
                continue
            try:
                for changes in watch(*roots, watch_filter=self._wanted, debounce=50, step=10,
                                     rust_timeout=self.tick_ms, yield_on_timeout=True, stop_event=self.stop,
                                     raise_interrupt=False):  # fmt: skip
                    if not self.armed.is_set():  # the first tick: events are flowing from now on
                        self.arms += 1
                        self.armed.set()
                        self.changed.set()  # what happened before arming is found by a sweep
                    if changes:
                        self.changed.set()
                    if self._identity(roots) != identity:  # a root gone or replaced: watch it anew
                        break
            except Exception:  # noqa: BLE001 — inotify limits, a root gone mid-start: sweep, then try again
                self.stop.wait(self.tick_ms / 1000)
            self.armed.clear()
            self.changed.set()

    def _wanted(self, _change: object, path: str) -> bool:
        """A note, or a folder (present, or gone and named like one), not under a hidden or skipped folder."""
        p = Path(path)
        if is_note_path(p):
            return True
        if any(part.startswith(".") for part in p.parts[-1:]):
            return False
        return p.is_dir() or (not p.exists() and not p.suffix)

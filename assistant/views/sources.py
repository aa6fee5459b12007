"""Sources you can open: `kt open FILE:LINE` prints the heading section there, `--edit` opens it in your editor.
The FILE:LINE header is an OSC 8 hyperlink to the file at that line in terminals that support it (rich writes
it only to a terminal)."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

from assistant.records import Chunk

_LOCATION = re.compile(r"^(?P<path>.+?)(?::(?P<line>\d+))?(?::\d+)?$")  # FILE, FILE:LINE, FILE:LINE:COLUMN
# Editors that take FILE:LINE (or --goto FILE:LINE) rather than the `+LINE FILE` of vi, vim, nvim, nano,
# emacs, micro, kakoune, joe and most others.
_GOTO = {name: ["--goto"] for name in ("code", "code-insiders", "code-oss", "codium", "vscodium", "cursor")}
_COLON = {"subl", "zed", "hx", "helix"}


def current_line(path: Path, line: int, heading: str) -> int:
    """Where a section that began at `line` when the notes were indexed begins now: the heading line holding
    `heading` nearest to it (the note may have been edited since the answer); `line` when none is found."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return line
    found = [
        n for n, text in enumerate(lines, start=1) if text.lstrip().startswith("#") and heading and heading in text
    ]
    return min(found, key=lambda n: abs(n - line)) if found else line


def parse_location(text: str) -> tuple[str, int]:
    """'notes/pods.md:42' → ('notes/pods.md', 42); a bare path means line 1. ValueError when the line is 0."""
    m = _LOCATION.match(text.strip())
    if not m or not m.group("path"):
        raise ValueError(f"not a FILE:LINE location: {text!r}")
    if re.search(r"\.(?:md|markdown|txt|ya?ml):[^:/\\]+$", m.group("path")):  # notes.md:abc
        raise ValueError(f"LINE must be a number from 1: {text!r}")
    line = int(m.group("line") or 1)
    if line < 1:
        raise ValueError(f"lines are numbered from 1: {text!r}")
    return m.group("path"), line


FALLBACK_EDITORS = ("editor", "vi", "nano")  # what the platform has when $VISUAL and $EDITOR are unset


def editor_argv(path: Path, line: int, environ: dict[str, str] | None = None, which: Any = None) -> list[str] | None:
    """The command that opens path at line in $VISUAL (or $EDITOR, or the platform's editor: `editor`, `vi`,
    `nano`); None when there is none."""
    import shutil

    env = os.environ if environ is None else environ
    editor = env.get("VISUAL") or env.get("EDITOR")
    if not editor or not editor.strip():
        editor = next((name for name in FALLBACK_EDITORS if (which or shutil.which)(name)), None)
    if not editor or not editor.strip():
        return None
    argv = shlex.split(editor)
    name = Path(argv[0]).name
    if name in _GOTO:
        return [*argv, *_GOTO[name], f"{path}:{line}"]
    if name in _COLON:
        return [*argv, f"{path}:{line}"]
    return [*argv, f"+{line}", str(path)]


def print_section(file: Path, chunks: list[Chunk], console: Any) -> None:
    """Each piece of the section: its FILE:LINE and heading path, then its text (escape sequences from the
    note are made visible, never sent to the terminal)."""
    from rich.style import Style
    from rich.text import Text

    from assistant.views.terminal import file_url, heading_path, sanitize

    for chunk in chunks:
        header = Text()
        link = file_url(file, chunk.start_line)
        header.append(sanitize(f"{chunk.path}:{chunk.start_line}"), style=Style(bold=True, color="green", link=link))
        header.append(f"  {sanitize(heading_path(chunk.headings))}", style="bold")
        console.print(header)
        console.print(Text(sanitize(chunk.text)))

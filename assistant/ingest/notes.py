"""Finding and reading note files: every odd file is skipped with a named reason, never a crash."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NOTE_SUFFIXES = (".md", ".markdown", ".txt")
YAML_SUFFIXES = (".yaml", ".yml")
NOTE_TYPES = ", ".join(NOTE_SUFFIXES + YAML_SUFFIXES)  # for messages: the kinds of file kt reads
MAX_NOTE_BYTES = 8 * 1024 * 1024
# Folders nobody writes notes in: installed packages and their metadata. A folder holding pyvenv.cfg is a
# virtualenv whatever its name.
NEVER_NOTES = {"node_modules", "__pycache__", "site-packages", "dist-packages", "bower_components"}
NEVER_NOTES_SUFFIXES = (".dist-info", ".egg-info")
IGNORE_FILES = (".gitignore", ".ktignore")
# Control characters could drive the terminal wherever a note's name is printed; lone surrogates are bytes of
# a name that is not UTF-8 (os.fsdecode's surrogateescape) and cannot be written to the index.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class NoteFile:
    key: str  # how the file is named in answers: relative to its notes folder (prefixed when several)
    location: str  # its path; a plain string, since a scan before every answer makes thousands of these
    size: int
    mtime_ns: int

    @property
    def path(self) -> Path:
        return Path(self.location)


class UnreadableNote(Exception):
    """A note that cannot be indexed; the message says why in words a user understands."""


def shown(path: Path | str) -> str:
    """A path as it may be printed: control characters and bytes that are not UTF-8 made visible as \\xNN."""

    def escape(m: re.Match[str]) -> str:
        code = ord(m.group(0))
        return f"\\x{code - 0xDC00 if 0xDC80 <= code <= 0xDCFF else code:02x}"

    return _UNPRINTABLE.sub(escape, str(path))


def folder_labels(folders: list[Path]) -> dict[Path, str]:
    """Prefix for each folder's keys: none for one folder, its (unique) name when there are several."""
    if len(folders) == 1:
        return {folders[0]: ""}
    labels: dict[Path, str] = {}
    for folder in folders:
        name = folder.name or "notes"
        label, n = name, 2
        while label in labels.values():
            label, n = f"{name}-{n}", n + 1
        labels[folder] = label + "/"
    return labels


def is_note_name(name: str) -> bool:
    return name.lower().endswith(NOTE_SUFFIXES + YAML_SUFFIXES) and not name.startswith(".")


def notes_problem(paths: list[Path]) -> str | None:
    """Why these notes cannot be used (missing, not a note, no notes inside), or None. Cheap for a folder with
    notes: the walk stops at the first one."""
    for path in paths:
        if not path.exists():
            return f"notes folder not found: {shown(path)}"
        if path.is_file():
            if not is_note_name(path.name):
                return f"{shown(path)} is not a note (kt reads {NOTE_TYPES} files)"
            continue
        if not any(_note_names(path)):
            return f"no notes in {shown(path)} (looked for {NOTE_TYPES} files, hidden folders skipped)"
    return None


def _note_names(folder: Path) -> Any:
    for root, dirs, names in os.walk(folder, followlinks=True):
        if root != str(folder) and is_virtualenv(names):
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if not skipped_folder(root, d)]
        yield from (name for name in names if is_note_name(name))


def skipped_folder(root: str, name: str) -> str:
    """Why a folder is never searched for notes ("" when it is): hidden, a virtualenv, installed packages."""
    if name.startswith("."):
        return "hidden folder"
    if name in NEVER_NOTES or name.endswith(NEVER_NOTES_SUFFIXES):
        return "installed packages, not notes"
    return ""  # a virtualenv is known by the pyvenv.cfg among its own files, once the walk is inside it


VIRTUALENV = "a Python virtualenv, not notes"
OUTSIDE = "a symlink leading outside the notes folders"  # never indexed: every tool reads the notes alone


def is_virtualenv(names: list[str]) -> bool:
    """Whether a folder's file names mark it as a virtualenv (whatever the folder is called): no extra stat."""
    return "pyvenv.cfg" in names


class _Ignores:
    """The .gitignore and .ktignore patterns that hold in each folder of a walk, each file's patterns relative
    to its own folder, as git reads them (pathspec). Nothing is imported when no folder has one."""

    def __init__(self) -> None:
        self.specs: dict[str, list[tuple[str, Any]]] = {}

    def enter(self, root: str, names: list[str]) -> None:
        inherited = self.specs.get(root, [])
        own = [n for n in IGNORE_FILES if n in names]
        if own:
            import pathspec

            lines: list[str] = []
            for name in own:
                try:
                    with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
                        lines += f.read().splitlines()
                except OSError:
                    continue
            inherited = [*inherited, (root, pathspec.GitIgnoreSpec.from_lines(lines))]
        self.specs[root] = inherited

    def ignored(self, root: str, name: str, is_dir: bool) -> str:
        """The ignore file that leaves this entry out ("" when none does)."""
        full = os.path.join(root, name)
        for base, spec in self.specs.get(root, []):
            rel = os.path.relpath(full, base).replace(os.sep, "/") + ("/" if is_dir else "")
            if spec.match_file(rel):
                return "listed in .gitignore or .ktignore"
        return ""

    def inherit(self, root: str, child: str) -> None:
        if self.specs.get(root):
            self.specs[os.path.join(root, child)] = self.specs[root]


def scan(
    folders: list[Path], warnings: list[str] | None = None, skipped: dict[str, str] | None = None
) -> list[NoteFile]:
    """All note files under the folders (or the single files given), by stat only (cheap). Symlinked folders
    are followed once; a symlink (file or folder) leading outside every notes folder is skipped. Hidden
    folders, virtualenvs, installed packages and what .gitignore or .ktignore lists are left out; `skipped`
    gets each (key → why), a folder once, ending in "/"."""
    walk = _Walk(folders, warnings if warnings is not None else [], skipped if skipped is not None else {})
    for folder, prefix in folder_labels(folders).items():
        if folder.is_file() and is_note_name(folder.name):  # `--notes runbook.md`: one note on its own
            walk.single(folder, prefix)
        elif not folder.is_dir():
            walk.warnings.append(f"{shown(folder)}: not a folder, skipped")
        else:
            walk.folder(folder, prefix)
    return walk.files


class _Walk:
    """One scan: the notes found, the warnings (unreadable, odd names) and what was left out, and why."""

    def __init__(self, folders: list[Path], warnings: list[str], skipped: dict[str, str]) -> None:
        self.roots = [os.path.realpath(f) for f in folders]
        self.warnings = warnings
        self.skipped = skipped
        self.files: list[NoteFile] = []

    def leads_outside(self, path: str) -> bool:
        """A symlink whose target is in none of the notes folders."""
        if not os.path.islink(path):
            return False
        real = os.path.realpath(path)
        return not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self.roots)

    def single(self, file: Path, prefix: str) -> None:
        st = file.stat()
        key = prefix.rstrip("/") or file.name
        if _UNPRINTABLE.search(key):
            self.warnings.append(f"{shown(file)}: name has control characters or is not UTF-8, skipped")
        else:
            self.files.append(NoteFile(key, str(file), st.st_size, st.st_mtime_ns))

    def unreadable(self, e: OSError) -> None:
        self.warnings.append(f"{shown(e.filename)}: cannot be read ({e.strerror}), skipped")

    def folder(self, folder: Path, prefix: str) -> None:
        seen: set[tuple[int, int]] = set()
        ignores = _Ignores()
        for root, dirs, names in os.walk(folder, followlinks=True, onerror=self.unreadable):
            try:
                st = os.stat(root)
            except OSError:
                dirs[:] = []
                continue
            if (st.st_dev, st.st_ino) in seen:  # a symlink loop or a second path to the same folder
                self.warnings.append(f"{shown(root)}: already visited (symlink loop?), skipped")
                dirs[:] = []
                continue
            seen.add((st.st_dev, st.st_ino))
            # Plain strings here, not pathlib: this runs for every note before every answer.
            base = os.path.relpath(root, folder).replace(os.sep, "/")
            base = prefix + ("" if base == "." else base + "/")
            if base != prefix and is_virtualenv(names):
                self.skipped[base] = VIRTUALENV
                dirs[:] = []
                continue
            ignores.enter(root, names)
            dirs[:] = self.subfolders(root, sorted(dirs), base, ignores)
            for name in sorted(names):
                if is_note_name(name):
                    self.note(root, name, base, ignores)

    def subfolders(self, root: str, dirs: list[str], base: str, ignores: _Ignores) -> list[str]:
        """The folders the walk goes into; the others are skipped, each named once."""
        kept = []
        for d in dirs:
            outside = OUTSIDE if self.leads_outside(os.path.join(root, d)) else ""
            if why := outside or skipped_folder(root, d) or ignores.ignored(root, d, is_dir=True):
                self.skipped[base + d + "/"] = why
            else:
                kept.append(d)
                ignores.inherit(root, d)
        return kept

    def note(self, root: str, name: str, base: str, ignores: _Ignores) -> None:
        """A file with a note's name: a note, unless ignored, outside the notes, unreadable or not a file."""
        if why := ignores.ignored(root, name, is_dir=False):
            self.skipped[base + name] = why
            return
        full_name = os.path.join(root, name)
        if self.leads_outside(full_name):
            self.skipped[base + name] = OUTSIDE
            return
        try:
            fst = os.stat(full_name)
        except OSError as e:
            self.warnings.append(f"{shown(full_name)}: cannot be read ({e.strerror}), skipped")
            return
        if not stat.S_ISREG(fst.st_mode):  # a FIFO would block the read, /dev/zero would never end
            self.warnings.append(f"{shown(full_name)}: not a regular file, skipped")
            return
        key = base + name
        if _UNPRINTABLE.search(key):
            self.warnings.append(f"{shown(full_name)}: name has control characters or is not UTF-8, skipped")
            return
        self.files.append(NoteFile(key, full_name, fst.st_size, fst.st_mtime_ns))


def file_sha256(path: Path) -> str | None:
    """The sha256 of a file's bytes, as the index records it for each note; None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


LEGACY_ENCODING = "Windows-1252"  # what a note that is not UTF-8 most likely is (Latin-1 and its superset)


def read_note(note: NoteFile) -> tuple[str, str, str]:
    """(text, sha256 of the bytes, the encoding it was read in). UTF-8 first; a note that is not UTF-8 is read
    as Windows-1252 (Latin-1 where a byte has no Windows-1252 character) rather than lost. Raises UnreadableNote
    for binary, huge or unreadable files."""
    if note.size > MAX_NOTE_BYTES:
        raise UnreadableNote(f"too large ({note.size / 1e6:.1f} MB > {MAX_NOTE_BYTES / 1e6:.0f} MB)")
    try:
        # O_NONBLOCK: the file may have become a FIFO since the scan; opening a FIFO would wait for a writer.
        fd = os.open(note.location, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise UnreadableNote("not a regular file")
            data = f.read(MAX_NOTE_BYTES + 1)  # bounded: the file may have grown since the scan
    except OSError as e:
        raise UnreadableNote(f"cannot be read ({e.strerror})") from e
    if len(data) > MAX_NOTE_BYTES:
        raise UnreadableNote(f"too large (> {MAX_NOTE_BYTES / 1e6:.0f} MB)")
    if b"\x00" in data[:8192]:
        raise UnreadableNote("looks binary")
    digest = hashlib.sha256(data).hexdigest()
    try:
        return data.decode("utf-8-sig"), digest, "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), digest, LEGACY_ENCODING
    except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d: no Windows-1252 character, a Latin-1 one
        return data.decode("latin-1"), digest, LEGACY_ENCODING

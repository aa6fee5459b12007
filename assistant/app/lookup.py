"""The notes behind an answer, looked up in the live index: the note a wikilink names, and the heading section
at a line of a note (`kt open FILE:LINE`)."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.index.generation import IndexReader
    from assistant.records import Chunk


class NotInNotes(LookupError):
    """A file (or line) asked for by name that the notes do not hold."""


class NoteLookup:
    def __init__(
        self, folders: list[Path], reader: Callable[[], IndexReader], note_keys: Callable[[], Iterable[str]]
    ) -> None:
        """`reader`: the live index (built or healed on demand); `note_keys`: every note it holds, with passages
        or not."""
        self.folders = folders
        self.reader = reader
        self.note_keys = note_keys
        self._names: tuple[IndexReader, dict[str, str]] | None = None  # note names for wikilinks, per generation

    def note_named(self, target: str) -> str:
        """The note a wikilink names (`[[Node Drain]]` → "team/Node Drain.md"): by its path without the extension,
        else by its file name, any case; "" when no note has that name. The first in path order wins."""
        reader = self.reader()
        if self._names is None or self._names[0] is not reader:
            names: dict[str, str] = {}
            for key in sorted(self.note_keys()):
                stem = key.rsplit(".", 1)[0].lower()
                names.setdefault(stem, key)
                names.setdefault(stem.rsplit("/", 1)[-1], key)
            self._names = (reader, names)
        want = target.strip().lower()
        want = want[: -len(".md")] if want.endswith(".md") else want
        return self._names[1].get(want, "")

    def section(self, index: int) -> list[Chunk]:
        """The whole heading section a passage (chunk `index`) belongs to, all its pieces."""
        return self.reader().section_of(index)

    def section_at(self, where: str, line: int) -> tuple[Path, list[Chunk]]:
        """The note file and the heading section at one of its lines. `where` is a note as answers name it
        (relative to its notes folder) or a path to it."""
        from assistant.ingest.notes import scan

        files = {note.key: note.path for note in scan(self.folders)}
        key = where if where in files else None
        if key is None and Path(where).exists():
            target = Path(where).resolve()
            key = next((k for k, path in files.items() if path.resolve() == target), None)
        if key is None:
            raise NotInNotes(f"{where} is not one of your notes ({', '.join(map(str, self.folders))})")
        reader = self.reader()
        at = self._chunk_at(reader, key, line)
        if at is None:
            raise NotInNotes(f"{where} has no indexed text (it may be empty or was skipped: see `kt status`)")
        try:
            n_lines = len(files[key].read_bytes().splitlines())
        except OSError:
            n_lines = line
        if line > max(n_lines, 1):
            raise NotInNotes(f"{where}:{line} is past the end: the note has {n_lines} lines")
        return files[key], reader.section_of(at)

    @staticmethod
    def _chunk_at(reader: IndexReader, key: str, line: int) -> int | None:
        """The last chunk of a note starting at or before the line (or the note's first); None: it has none."""
        # A build stores chunks by note key, each note's in line order: a binary search finds the note's first
        # chunk without parsing the others (a linear scan if that order ever does not hold).
        first = bisect.bisect_left(range(reader.n_chunks), key, key=lambda i: reader.chunk(i).path)
        if first == reader.n_chunks or reader.chunk(first).path != key:
            first = 0
        at = None
        for i in range(first, reader.n_chunks):
            chunk = reader.chunk(i)
            if chunk.path != key:
                if at is not None:
                    break  # past the note's chunks
                continue
            if at is None or chunk.start_line <= line:
                at = i
            if chunk.start_line > line:
                break
        return at

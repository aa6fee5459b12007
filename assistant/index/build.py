"""An index build (`kt index`, first use, `kt watch`): notes → chunks → texts → vectors → a new generation → live.

Only notes whose content changed are chunked anew, and only texts never embedded before are embedded: the
rest comes from the live generation. The steps, in order, are the functions below `update_index`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.index.generation import (
    Counts,
    Generation,
    IndexCorrupt,
    IndexMissing,
    IndexReader,
    Manifest,
    NoteRecord,
    write_generation,
)
from assistant.index.vectors import Progress, VectorJournal, load_for_reuse, reuse_or_embed
from assistant.ingest.chunks import chunk_file
from assistant.ingest.notes import NoteFile, UnreadableNote, read_note, scan, shown
from assistant.ingest.snippets import link_examples
from assistant.ingest.texts import snippet_embed_text

if TYPE_CHECKING:
    from assistant.index.embed import Embedder
    from assistant.index.store import IndexStore
    from assistant.records import Chunk


@dataclass
class UpdateReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    files: int = 0  # note files indexed, those with no passage (front matter only, empty) included
    without_passages: list[str] = field(default_factory=list)  # of those, the ones with no passage
    chunks: int = 0
    snippets: int = 0
    embedded: int = 0
    rebuilt: bool = False  # everything was re-chunked (new index, or model/chunker changed, or damage)
    wrote: bool = False
    seconds: float = 0.0

    @property
    def touched(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def update_index(
    store: IndexStore,
    folders: list[Path],
    embedder: Embedder | Callable[[], Embedder],
    progress: Progress | None = None,
    wait: bool | float = True,
    on_wait: Callable[[str], None] | None = None,
    force: bool = False,
) -> UpdateReport:
    """Bring the index in line with the notes: only files whose content changed are re-chunked, and only
    texts never embedded before are embedded. Holds the store's lock while it works (IndexBusy,
    IndexUnwritable: see IndexStore.lock)."""
    lock = store.lock(wait=wait, on_wait=on_wait)
    try:
        return _update(store, folders, embedder, progress, force)
    finally:
        lock.release()


@dataclass
class _Notes:
    """The notes as this build reads them: every indexed file's record, and the chunks of those read anew."""

    files: dict[str, NoteRecord] = field(default_factory=dict)
    fresh: dict[str, list[Chunk]] = field(default_factory=dict)
    stat_only: bool = False  # some note was touched (same bytes, new stat): the manifest must be rewritten


def _update(
    store: IndexStore,
    folders: list[Path],
    embedder: Embedder | Callable[[], Embedder],
    progress: Progress | None,
    force: bool,
) -> UpdateReport:
    started = time.perf_counter()
    report = UpdateReport()
    old, old_gen = _previous(store, force, report)
    folders_key = [str(f.resolve()) for f in folders]
    notes = _read_notes(scan(folders, report.warnings, report.skipped), old.files, report, progress)
    report.removed = sorted(set(old.files) - set(notes.files) - set(report.skipped))
    report.removed += sorted(k for k in report.skipped if k in old.files)
    report.files = len(notes.files)
    same_skips = report.skipped == old.skipped  # a new skip is recorded once, then not re-announced
    if not report.touched and not notes.stat_only and not report.rebuilt and old.notes == folders_key and same_skips:
        report.chunks, report.snippets = old.counts.chunks, old.counts.snippets
        report.without_passages = list(old.without_passages)
        report.seconds = time.perf_counter() - started
        return report

    journal = VectorJournal(store.root / "journal.bin")
    generation = _embed(notes, old_gen, journal, embedder, progress, force, report)
    with_passages = {c.path for c in generation.chunks}
    report.without_passages = [k for k in sorted(notes.files) if k not in with_passages]
    manifest = Manifest.new(
        notes=folders_key,
        files=notes.files,
        skipped=report.skipped,
        # Every note file read counts, whether or not it has a passage: status, index and list_notes say so
        without_passages=report.without_passages,
        counts=Counts(len(notes.files), len(generation.chunks), len(generation.snippets)),
    )
    if progress:
        progress("writing index", 0, 1)
    store.switch(write_generation(store.root, replace(generation, manifest=manifest), old_gen))
    journal.discard()  # every vector is in the live generation now
    if progress:
        progress("writing index", 1, 1)  # the last stage reports too: a build ends at 100%
    report.chunks, report.snippets, report.wrote = len(generation.chunks), len(generation.snippets), True
    report.seconds = time.perf_counter() - started
    return report


def _previous(store: IndexStore, force: bool, report: UpdateReport) -> tuple[Manifest, Path | None]:
    """The live generation's manifest, and the generation whose vectors may be reused (None: embed all).
    An empty manifest when everything is chunked anew (report.rebuilt)."""
    if force:
        report.rebuilt = True
        return Manifest(), None
    try:
        manifest = store.manifest(verify=True)
        gen = store.current()
    except IndexMissing:
        report.rebuilt = True
        return Manifest(), None
    except IndexCorrupt as e:
        report.warnings.append(f"{e}; rebuilding the index")
        report.rebuilt = True
        return Manifest(), None
    if not manifest.compatible():
        report.rebuilt = True
        if manifest.same_vectors():
            # Only the chunker changed: every note is chunked anew, but a text embedded before keeps its
            # vector (same model, same text, same vector).
            report.warnings.append("the chunker changed; re-chunking all notes")
            return Manifest(), gen
        report.warnings.append("the model changed; rebuilding the index")
        return Manifest(), None
    return manifest, gen


def _read_notes(
    notes: list[NoteFile], known: dict[str, NoteRecord], report: UpdateReport, progress: Progress | None
) -> _Notes:
    """Chunk the notes whose stat changed since the last build, unless their bytes did not (`touch`)."""
    out = _Notes()
    for i, note in enumerate(notes):
        if progress:
            progress("reading notes", i, len(notes))  # the notes before this one are read
        old = known.get(note.key)
        if old and old.size == note.size and old.mtime_ns == note.mtime_ns:
            out.files[note.key] = old
            continue
        chunks, digest, reason, encoding = _chunk_note(note)
        if reason:
            report.skipped[note.key] = reason
            report.warnings.append(f"{shown(note.path)}: {reason}, skipped")
            continue
        if encoding != "UTF-8":  # said each time the note is indexed anew, i.e. once per edit
            report.warnings.append(f"{shown(note.path)}: not UTF-8, read as {encoding}")
        out.files[note.key] = NoteRecord(digest, note.size, note.mtime_ns)
        if old and old.sha256 == digest:
            out.stat_only = True
            continue
        (report.changed if old else report.added).append(note.key)
        out.fresh[note.key] = chunks
    if progress:
        progress("reading notes", len(notes), len(notes))  # the bar ends full, not one note short
    return out


def _chunk_note(note: NoteFile) -> tuple[list[Chunk], str, str, str]:
    """(chunks, sha256, why it is skipped or "", the encoding it was read in)."""
    try:
        text, digest, encoding = read_note(note)
    except UnreadableNote as e:
        return [], "", str(e), ""
    try:
        return chunk_file(text, note.key), digest, "", encoding
    except RecursionError:
        return [], digest, "nested too deeply to parse", encoding
    except Exception as e:  # a chunker bug on one odd note must cost that note, not the whole index
        return [], digest, f"could not be parsed ({e.__class__.__name__})", encoding


def _embed(
    notes: _Notes,
    old_gen: Path | None,
    journal: VectorJournal,
    embedder: Embedder | Callable[[], Embedder],
    progress: Progress | None,
    force: bool,
    report: UpdateReport,
) -> Generation:
    """Every chunk and snippet of the new generation with its vector: unchanged notes keep their chunks, and a
    text embedded before (in the last generation, or by a build that was killed) keeps its vector. Its
    manifest is left for the caller to fill in."""
    old_chunks, old_cvecs, old_svecs = load_for_reuse(IndexReader(old_gen)) if old_gen else ({}, {}, {})
    if force:
        journal.discard()
    elif resumed := journal.read():
        report.warnings.append(f"kept {len(resumed)} vectors from an interrupted build")
        old_cvecs.update(resumed)  # a journal holds chunk and snippet vectors alike; hashes do not collide
        old_svecs.update(resumed)
    chunks: list[Chunk] = []
    for key in sorted(notes.files):
        chunks.extend(notes.fresh[key] if key in notes.fresh else old_chunks.get(key, []))
    chunks = link_examples(chunks)
    snippets = [(ci, s) for ci, c in enumerate(chunks) for s in c.snippets]
    chunk_texts = [c.embed_text for c in chunks]
    snippet_texts = [snippet_embed_text(s) for _, s in snippets]
    cvecs, chunk_hashes, n_chunks = reuse_or_embed(chunk_texts, old_cvecs, embedder, progress, "chunks", journal)
    svecs, snippet_hashes, n_snippets = reuse_or_embed(
        snippet_texts, old_svecs, embedder, progress, "snippets", journal
    )
    report.embedded = n_chunks + n_snippets
    return Generation(Manifest(), chunks, snippets, cvecs, svecs, chunk_hashes, snippet_hashes)

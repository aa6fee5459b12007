"""The index on disk: a folder of plain files (JSON, JSONL, .npy, FAISS), updated incrementally and switched
atomically.

    index/
      CURRENT             name of the live generation (replaced by an atomic rename)
      .lock, .lock.json   one builder at a time, and who it is
      journal.bin         vectors embedded by a build that has not finished (see VectorJournal)
      gen-…-m<xxh3>/      one complete generation, named with the checksum of its manifest
        manifest.json     schema, model, chunker version, files (hash, stat), checksums of every file below
        chunks.jsonl      one chunk per line;  chunk_offsets.npy: byte offset of each line
        snippets.jsonl    one snippet per line; snippet_offsets.npy, snippet_chunk.npy (owning chunk)
        chunks.faiss      IndexFlatIP over normalised chunk vectors; snippets.faiss the same for snippets
        bm25_chunks/, bm25_snippets/   BM25 scores and per-text term counts (see lexical.py); bm25_chunks
                                       also scores each page as one document

A build writes a new generation beside the live one, fsyncs it, then renames CURRENT: a reader sees the old
index or the new one, never a mix. Every file's xxh3 checksum is in the manifest and is checked each time a
process opens the index (about a millisecond for the bundled notes), so damage is detected even when it keeps
the file's size and modification time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.chunks import CHUNKER_VERSION, chunk_file
from assistant.commands import snippet_features
from assistant.embed import DIM, MAX_TOKENS, MODEL_ID, Embedder
from assistant.model import Chunk, Snippet
from assistant.notes import NoteFile, UnreadableNote, read_note, scan, shown
from assistant.snippets import link_examples
from assistant.texts import chunk_lexical_text, snippet_embed_text, snippet_lexical_text
from assistant.vectors import Progress, VectorJournal, load_for_reuse, reuse_or_embed, write_faiss

SCHEMA_VERSION = 2
GENERATION_FILES = (  # besides manifest.json and the bm25 folders' files
    "chunks.jsonl",
    "chunk_offsets.npy",
    "snippets.jsonl",
    "snippet_offsets.npy",
    "snippet_chunk.npy",
    "chunks.faiss",
    "snippets.faiss",
    "chunk_generated.npy",
    "chunk_page.npy",
    "snippet_features.json",
)
if TYPE_CHECKING:
    import numpy as np


class IndexError_(Exception):
    """The index is missing or damaged; the message says which and why."""


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexBusy(Exception):
    def __init__(self, owner: str) -> None:
        super().__init__(f"another kt is updating this index ({owner})")
        self.owner = owner


class IndexUnwritable(Exception):
    """The index folder cannot be written (a read-only file system, or another user's folder)."""

    def __init__(self, root: Path, error: OSError) -> None:
        super().__init__(f"cannot write to the index in {root} ({error.strerror or error})")
        self.root = root


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


_MANIFEST_SEAL = re.compile(r"-m([0-9a-f]{16})$")


def _xxh3(data: bytes) -> str:
    import xxhash

    return xxhash.xxh3_64_hexdigest(data)


def _checksum(path: Path) -> str:
    """xxh3-64 of the file's bytes and its size: several GB/s, so every file can be checked on every open."""
    import mmap

    import xxhash

    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return f"xxh3:{xxhash.xxh3_64_hexdigest(b'')}:0"
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return f"xxh3:{xxhash.xxh3_64_hexdigest(data)}:{size}"


def _crc(path: Path) -> str:
    """The checksum of indexes built before xxh3 (CRC32), still verified until their next update."""
    crc = 0
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            crc = zlib.crc32(block, crc)
    return f"{crc:08x}:{path.stat().st_size}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class IndexStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._sealed: tuple[str, dict[str, Any]] | None = None  # (generation, its manifest), read once

    # --- reading ---------------------------------------------------------------------------------------

    def current(self) -> Path:
        pointer = self.root / "CURRENT"
        try:
            name = pointer.read_text().strip()
        except FileNotFoundError:
            raise IndexMissing(f"no index in {self.root} yet") from None
        except (OSError, ValueError) as e:  # ValueError: garbage that is not UTF-8
            raise IndexCorrupt(f"{pointer} is unreadable ({e.__class__.__name__})") from None
        gen = self.root / name
        if not name.startswith("gen-") or "/" in name or not gen.is_dir():
            raise IndexCorrupt(f"{pointer} points to a missing generation ({name[:80]!r})")
        return gen

    def manifest(self, verify: bool = False) -> dict[str, Any]:
        """The live generation's manifest (read-only). A generation never changes once written and its name
        seals its manifest's checksum, so an unverified read of the same generation is served from memory (an
        MCP call reads it several times); a verified read always reads and checks the files."""
        gen = self.current()
        if not verify and self._sealed is not None and self._sealed[0] == gen.name:
            return self._sealed[1]
        try:
            data = (gen / "manifest.json").read_bytes()
            if (sealed := _MANIFEST_SEAL.search(gen.name)) and _xxh3(data) != sealed.group(1):
                raise IndexCorrupt(f"{gen / 'manifest.json'} is damaged (checksum mismatch)")
            manifest = json.loads(data)
            checksums = manifest["checksums"]
            if not isinstance(checksums, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and ".." not in k.split("/") for k, v in checksums.items()
            ):
                raise TypeError("checksums")
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise IndexCorrupt(f"{gen / 'manifest.json'} is unreadable ({e.__class__.__name__})") from None
        if verify:
            # An index of another chunker version may lack newer files; it is only read to reuse its vectors.
            missing = [name for name in GENERATION_FILES if name not in checksums] if self.compatible(manifest) else []
            if missing:
                raise IndexCorrupt(f"{gen / 'manifest.json'} does not list {', '.join(missing)}")
            self._verify(gen, checksums)
        if sealed:
            self._sealed = (gen.name, manifest)
        return manifest

    def _verify(self, gen: Path, checksums: dict[str, str]) -> None:
        """Check every file's checksum. No shortcut by size and mtime: bytes overwritten in place keep both."""
        for name, expected in checksums.items():
            try:
                actual = _checksum(gen / name) if expected.startswith("xxh3:") else _crc(gen / name)
            except FileNotFoundError:
                raise IndexCorrupt(f"{gen / name} is missing") from None
            except OSError as e:
                raise IndexCorrupt(f"{gen / name} is unreadable ({e.strerror})") from None
            if actual != expected:
                raise IndexCorrupt(f"{gen / name} is damaged (checksum mismatch)")

    def compatible(self, manifest: dict[str, Any]) -> bool:
        return (
            manifest.get("schema") == SCHEMA_VERSION
            and manifest.get("model") == MODEL_ID
            and manifest.get("dim") == DIM
            and manifest.get("max_tokens") == MAX_TOKENS
            and manifest.get("chunker") == CHUNKER_VERSION
        )

    def mark_used(self) -> None:
        """Record that this index answers now (`kt status --all`, `kt prune --older-than`): the mtime of .used,
        touched at most once an hour. A read-only index stays as it is."""
        stamp = self.root / ".used"
        try:
            if time.time() - stamp.stat().st_mtime < 3600:
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
        try:
            stamp.touch()
        except OSError:
            pass

    def last_used(self) -> float:
        """When this index last answered or was built (epoch seconds; 0 when neither is known)."""
        times = []
        for name in (".used", "CURRENT"):
            try:
                times.append((self.root / name).stat().st_mtime)
            except OSError:
                pass
        if not times:  # a build that never finished: when the folder last changed
            try:
                times.append(self.root.stat().st_mtime)
            except OSError:
                pass
        return max(times, default=0.0)

    # --- locking ---------------------------------------------------------------------------------------

    def lock(self, wait: bool | float = True, on_wait: Callable[[str], None] | None = None) -> Any:
        """Take the builder's lock. `wait`: True waits for as long as it takes, False not at all, a number of
        seconds at most that long; IndexBusy when the lock stays taken, IndexUnwritable when the folder is
        read-only (or not ours)."""
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.root / ".lock"))
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                owner = self.lock_owner()
                if wait is False:
                    raise IndexBusy(owner) from None
                if on_wait:
                    on_wait(owner)
                try:
                    lock.acquire(timeout=-1 if wait is True else float(wait))
                except Timeout:
                    raise IndexBusy(owner) from None
            try:
                (self.root / ".lock.json").write_text(json.dumps({"pid": os.getpid(), "since": time.time()}))
            except OSError:
                lock.release()
                raise
        except OSError as e:
            raise IndexUnwritable(self.root, e) from None
        return lock

    def lock_owner(self) -> str:
        try:
            info = json.loads((self.root / ".lock.json").read_text())
            since = time.strftime("%H:%M:%S", time.localtime(info["since"]))
            return f"pid {info['pid']}, since {since}"
        except (OSError, ValueError, KeyError, TypeError):
            return "unknown process"

    # --- updating --------------------------------------------------------------------------------------

    def update(
        self,
        folders: list[Path],
        embedder: Embedder | Callable[[], Embedder],
        progress: Progress | None = None,
        wait: bool | float = True,
        on_wait: Callable[[str], None] | None = None,
        force: bool = False,
    ) -> UpdateReport:
        """Bring the index in line with the notes: only files whose content changed are re-chunked, and only
        texts never embedded before are embedded. Holds the lock while it works."""
        lock = self.lock(wait=wait, on_wait=on_wait)
        try:
            return self._update(folders, embedder, progress, force)
        finally:
            lock.release()

    def _old_state(self, force: bool, report: UpdateReport) -> tuple[dict[str, Any], Path | None]:
        if force:
            report.rebuilt = True
            return {}, None
        try:
            manifest = self.manifest(verify=True)
            gen = self.current()
        except IndexMissing:
            report.rebuilt = True
            return {}, None
        except IndexCorrupt as e:
            report.warnings.append(f"{e}; rebuilding the index")
            report.rebuilt = True
            return {}, None
        if not self.compatible(manifest):
            report.rebuilt = True
            vectors_from = (manifest.get(k) for k in ("schema", "model", "dim", "max_tokens"))
            if tuple(vectors_from) == (SCHEMA_VERSION, MODEL_ID, DIM, MAX_TOKENS):
                # Only the chunker changed: every note is chunked anew, but a text embedded before keeps its
                # vector (same model, same text, same vector).
                report.warnings.append("the chunker changed; re-chunking all notes")
                return {}, gen
            report.warnings.append("the model changed; rebuilding the index")
            return {}, None
        return manifest, gen

    def _update(
        self,
        folders: list[Path],
        embedder: Embedder | Callable[[], Embedder],
        progress: Progress | None,
        force: bool,
    ) -> UpdateReport:
        started = time.perf_counter()
        report = UpdateReport()
        manifest, old_gen = self._old_state(force, report)
        old_files: dict[str, Any] = manifest.get("files", {})
        folders_key = [str(f.resolve()) for f in folders]
        notes = scan(folders, report.warnings, report.skipped)

        files: dict[str, Any] = {}
        fresh: dict[str, list[Chunk]] = {}
        stat_only = False
        for i, note in enumerate(notes):
            if progress:
                progress("reading notes", i, len(notes))  # the notes before this one are read
            old = old_files.get(note.key)
            if old and old["size"] == note.size and old["mtime_ns"] == note.mtime_ns:
                files[note.key] = old
                continue
            chunks, digest, reason, encoding = _chunk_note(note)
            if reason:
                report.skipped[note.key] = reason
                report.warnings.append(f"{shown(note.path)}: {reason}, skipped")
                continue
            if encoding != "UTF-8":  # said each time the note is indexed anew, i.e. once per edit
                report.warnings.append(f"{shown(note.path)}: not UTF-8, read as {encoding}")
            entry = {"sha256": digest, "size": note.size, "mtime_ns": note.mtime_ns}
            if old and old.get("sha256") == digest:
                files[note.key] = {**old, **entry}
                stat_only = True
                continue
            (report.changed if old else report.added).append(note.key)
            files[note.key] = entry
            fresh[note.key] = chunks
        if progress:
            progress("reading notes", len(notes), len(notes))  # the bar ends full, not one note short
        report.removed = sorted(set(old_files) - set(files) - set(report.skipped))
        report.removed += sorted(k for k in report.skipped if k in old_files)
        same_skips = report.skipped == manifest.get("skipped", {})  # a new skip is recorded once, then not re-announced
        if (
            not report.touched
            and not stat_only
            and not report.rebuilt
            and manifest.get("notes") == folders_key
            and same_skips
        ):
            report.chunks, report.snippets = manifest["counts"]["chunks"], manifest["counts"]["snippets"]
            report.files, report.without_passages = len(files), list(manifest.get("without_passages", []))
            report.seconds = time.perf_counter() - started
            return report

        old_chunks, old_cvecs, old_svecs = load_for_reuse(old_gen) if old_gen else ({}, {}, {})
        journal = VectorJournal(self.root / "journal.bin")
        if force:
            journal.discard()
        elif resumed := journal.read():
            report.warnings.append(f"kept {len(resumed)} vectors from an interrupted build")
            old_cvecs.update(resumed)  # a journal holds chunk and snippet vectors alike; hashes do not collide
            old_svecs.update(resumed)
        chunks: list[Chunk] = []
        for key in sorted(files):
            if key in fresh:
                chunks.extend(fresh[key])
            else:
                chunks.extend(old_chunks.get(key, []))
        chunks = link_examples(chunks)
        snippets = [(ci, s) for ci, c in enumerate(chunks) for s in c.snippets]
        chunk_texts = [c.embed_text for c in chunks]
        snippet_texts = [snippet_embed_text(s) for _, s in snippets]
        cvecs, chunk_hashes, n_chunks = reuse_or_embed(chunk_texts, old_cvecs, embedder, progress, "chunks", journal)
        svecs, snippet_hashes, n_snippets = reuse_or_embed(
            snippet_texts, old_svecs, embedder, progress, "snippets", journal
        )
        report.embedded = n_chunks + n_snippets
        with_passages = {c.path for c in chunks}
        report.files, report.without_passages = len(files), [k for k in sorted(files) if k not in with_passages]

        new_manifest = {
            "schema": SCHEMA_VERSION,
            "model": MODEL_ID,
            "dim": DIM,
            "max_tokens": MAX_TOKENS,
            "chunker": CHUNKER_VERSION,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "notes": folders_key,
            "files": files,
            "skipped": report.skipped,
            # Every note file read counts, whether or not it has a passage: status, index and list_notes say so
            "without_passages": report.without_passages,
            "counts": {"files": len(files), "chunks": len(chunks), "snippets": len(snippets)},
        }
        if progress:
            progress("writing index", 0, 1)
        self._write_generation(new_manifest, chunks, snippets, chunk_hashes, snippet_hashes, cvecs, svecs, old_gen)
        journal.discard()  # every vector is in the live generation now
        if progress:
            progress("writing index", 1, 1)  # the last stage reports too: a build ends at 100%
        report.chunks, report.snippets, report.wrote = len(chunks), len(snippets), True
        report.seconds = time.perf_counter() - started
        return report

    def _write_generation(
        self,
        manifest: dict[str, Any],
        chunks: list[Chunk],
        snippets: list[tuple[int, Snippet]],
        chunk_hashes: list[str],
        snippet_hashes: list[str],
        cvecs: np.ndarray,
        svecs: np.ndarray,
        previous: Path | None,
    ) -> None:
        import numpy as np

        from assistant import lexical

        name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
        tmp = self.root / f".tmp-{name}"
        tmp.mkdir(parents=True)
        snippet_of_chunk: list[list[int]] = [[] for _ in chunks]
        for si, (ci, _) in enumerate(snippets):
            snippet_of_chunk[ci].append(si)
        _write_jsonl(
            tmp / "chunks.jsonl",
            tmp / "chunk_offsets.npy",
            (
                {**_chunk_record(c), "snippets": snippet_of_chunk[ci], "h": chunk_hashes[ci]}
                for ci, c in enumerate(chunks)
            ),
        )
        _write_jsonl(
            tmp / "snippets.jsonl",
            tmp / "snippet_offsets.npy",
            ({**s.to_json(), "chunk": ci, "h": snippet_hashes[si]} for si, (ci, s) in enumerate(snippets)),
        )
        np.save(tmp / "snippet_chunk.npy", np.array([ci for ci, _ in snippets], dtype=np.int32))
        np.save(tmp / "chunk_generated.npy", np.array([c.generated for c in chunks], dtype=np.bool_))
        pages = {path: n for n, path in enumerate(dict.fromkeys(c.path for c in chunks))}
        chunk_page = np.array([pages[c.path] for c in chunks], dtype=np.int32)
        np.save(tmp / "chunk_page.npy", chunk_page)
        features = [snippet_features(s.code, s.lang, s.kind) for _, s in snippets]
        (tmp / "snippet_features.json").write_text(json.dumps(features, separators=(",", ":")))
        write_faiss(tmp / "chunks.faiss", cvecs)
        write_faiss(tmp / "snippets.faiss", svecs)
        for folder, texts, groups in (
            ("bm25_chunks", [chunk_lexical_text(c) for c in chunks], chunk_page),  # pages too, as wholes
            ("bm25_snippets", [snippet_lexical_text(s) for _, s in snippets], None),
        ):
            lexical.build(texts, tmp / folder, previous / folder if previous else None, groups)
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        manifest["checksums"] = {p.relative_to(tmp).as_posix(): _checksum(p) for p in files}
        data = json.dumps(manifest, indent=1).encode()
        (tmp / "manifest.json").write_bytes(data)
        name = f"{name}-m{_xxh3(data)}"  # the manifest's own checksum, where a rewrite of it cannot reach
        for p in [*files, tmp / "manifest.json"]:
            with p.open("rb") as f:
                os.fsync(f.fileno())
        for d in {p.parent for p in files} | {tmp}:
            _fsync_dir(d)
        os.rename(tmp, self.root / name)
        try:
            previous = self.current().name
        except IndexError_:
            previous = ""
        pointer = self.root / f".CURRENT.{os.getpid()}"
        with pointer.open("w") as f:
            f.write(name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(pointer, self.root / "CURRENT")
        _fsync_dir(self.root)
        self._collect_garbage(keep={name, previous})

    def _collect_garbage(self, keep: set[str]) -> None:
        """Drop generations other than the live one and the one before it (a reader may still have it open),
        and leftovers of killed builds: half-written folders, pointers, generations never made live."""
        for old in self.root.glob("gen-*"):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
        for leftover in [*self.root.glob(".tmp-gen-*"), *self.root.glob(".CURRENT.*")]:
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


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


def _chunk_record(c: Chunk) -> dict[str, Any]:
    data = c.to_json()
    del data["snippets"]
    return data


def _write_jsonl(path: Path, offsets_path: Path, records: Any) -> None:
    import numpy as np

    offsets = [0]
    with path.open("wb") as f:
        for rec in records:
            line = json.dumps(rec, ensure_ascii=False).encode() + b"\n"
            f.write(line)
            offsets.append(offsets[-1] + len(line))
    np.save(offsets_path, np.array(offsets, dtype=np.int64))

"""One index generation on disk: its files, its manifest, the writer and the reader, side by side.

    gen-…-m<xxh3>/      one complete generation, named with the checksum of its manifest (see store.py for
                        the folder around it: CURRENT, the lock, the journal)
      manifest.json     schema, model, chunker version, files (hash, stat), checksums of every file below
      chunks.jsonl      one chunk per line;  chunk_offsets.npy: byte offset of each line
      snippets.jsonl    one snippet per line; snippet_offsets.npy, snippet_chunk.npy (owning chunk)
      chunk_generated.npy, chunk_page.npy   per chunk: from a generated page; the number of its page
      snippet_features.json                 per snippet: what its commands do (kubectl.snippet_features)
      chunks.faiss      IndexFlatIP over normalised chunk vectors; snippets.faiss the same for snippets
      bm25_chunks/, bm25_snippets/   BM25 scores and per-text term counts (see lexical.py); bm25_chunks
                                     also scores each page as one document

A generation never changes once written: `write_generation` writes it into a hidden folder, fsyncs it and
renames it to its sealed name; `IndexReader` reads it memory-mapped, parsing records only when asked (FAISS
files read as flat arrays, no `faiss` import on the query path). `SCHEMA_VERSION` says when the format changed.
"""

from __future__ import annotations

import json
import mmap
import os
import re
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from assistant.index.embed import DIM, MAX_TOKENS, MODEL_ID
from assistant.ingest.chunks import CHUNKER_VERSION, is_group_passage
from assistant.records import Chunk, Snippet

if TYPE_CHECKING:
    import numpy as np

    from assistant.index.lexical import LexicalIndex

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


class IndexError_(Exception):
    """The index is missing or damaged; the message says which and why."""


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


# --- the manifest ------------------------------------------------------------------------------------------

T = TypeVar("T")


def _typed(value: Any, kind: type[T] | tuple[type, ...]) -> T:
    """A value read from a manifest, checked: a wrong type is damage, caught as IndexCorrupt by the reader."""
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise TypeError(f"{type(value).__name__}, expected {kind}")
    return value  # type: ignore[return-value]


def _optional(data: dict[str, Any], key: str, kind: type[T]) -> T | None:
    return None if data.get(key) is None else _typed(data[key], kind)


def _strings(value: Any) -> dict[str, str]:
    return {_typed(k, str): _typed(v, str) for k, v in _typed(value, dict).items()}


class NoteRecord(NamedTuple):
    """What a generation knows of one note file: its content hash and the stat it had when it was read."""

    sha256: str
    size: int
    mtime_ns: int

    def to_json(self) -> dict[str, Any]:
        return self._asdict()


def _note_records(value: Any) -> dict[str, NoteRecord]:
    """The manifest's files, checked by exact type: a large corpus has thousands (this runs on every open)."""
    records = {}
    for key, data in _typed(value, dict).items():
        if type(data) is not dict:
            raise TypeError(f"files[{key!r}]")
        record = NoteRecord(data.get("sha256", ""), data["size"], data["mtime_ns"])
        if (type(key), type(record.sha256), type(record.size), type(record.mtime_ns)) != (str, str, int, int):
            raise TypeError(f"files[{key!r}]")
        records[key] = record
    return records


@dataclass(frozen=True)
class Counts:
    files: int = 0  # every note file read, with passages or not
    chunks: int = 0
    snippets: int = 0


@dataclass(frozen=True)
class Manifest:
    """manifest.json: what a generation was built from and with, and the checksum of each of its files. A field
    missing from an older manifest reads as its default; a field of the wrong type is damage (TypeError)."""

    schema: int | None = None
    model: str | None = None
    dim: int | None = None
    max_tokens: int | None = None
    chunker: str | None = None
    built_at: str | None = None  # local time, ISO 8601
    notes: list[str] = field(default_factory=list)  # the notes folders (resolved), in the order given
    files: dict[str, NoteRecord] = field(default_factory=dict)  # every note file indexed, by key
    skipped: dict[str, str] = field(default_factory=dict)  # note key → why it was not indexed
    without_passages: list[str] = field(default_factory=list)  # indexed files with no passage (front matter only…)
    counts: Counts = field(default_factory=Counts)
    checksums: dict[str, str] = field(default_factory=dict)  # file (relative, POSIX) → "xxh3:<hex>:<size>"

    @classmethod
    def new(cls, **fields: Any) -> Manifest:
        """A manifest for a generation built now, by this model and chunker."""
        return cls(
            schema=SCHEMA_VERSION,
            model=MODEL_ID,
            dim=DIM,
            max_tokens=MAX_TOKENS,
            chunker=CHUNKER_VERSION,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **fields,
        )

    def compatible(self) -> bool:
        """Whether this kt can answer from the generation: same schema, model and chunker."""
        return self.same_vectors() and self.chunker == CHUNKER_VERSION

    def same_vectors(self) -> bool:
        """Whether its vectors are what this kt would embed (same model, same texts → same vectors)."""
        return (self.schema, self.model, self.dim, self.max_tokens) == (SCHEMA_VERSION, MODEL_ID, DIM, MAX_TOKENS)

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        data = _typed(data, dict)
        counts = _typed(data.get("counts", {}), dict)
        checksums = _strings(data["checksums"])
        if any(".." in name.split("/") for name in checksums):
            raise ValueError("a checksum names a file outside the generation")
        return cls(
            schema=_optional(data, "schema", int),
            model=_optional(data, "model", str),
            dim=_optional(data, "dim", int),
            max_tokens=_optional(data, "max_tokens", int),
            chunker=_optional(data, "chunker", str),
            built_at=_optional(data, "built_at", str),
            notes=[_typed(n, str) for n in _typed(data.get("notes", []), list)],
            files=_note_records(data.get("files", {})),
            skipped=_strings(data.get("skipped", {})),
            without_passages=[_typed(k, str) for k in _typed(data.get("without_passages", []), list)],
            counts=Counts(**{k: _typed(counts.get(k, 0), int) for k in ("files", "chunks", "snippets")}),
            checksums=checksums,
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON written to disk, key for key in the order indexes have always been written in."""
        return {
            "schema": self.schema, "model": self.model, "dim": self.dim, "max_tokens": self.max_tokens,
            "chunker": self.chunker, "built_at": self.built_at, "notes": self.notes,
            "files": {key: record.to_json() for key, record in self.files.items()},
            "skipped": self.skipped, "without_passages": self.without_passages,
            "counts": {"files": self.counts.files, "chunks": self.counts.chunks, "snippets": self.counts.snippets},
            "checksums": self.checksums,
        }  # fmt: skip


# --- checksums ---------------------------------------------------------------------------------------------

_SEAL = re.compile(r"-m([0-9a-f]{16})$")  # a generation's name ends with its manifest's xxh3


def _xxh3(data: bytes) -> str:
    import xxhash

    return xxhash.xxh3_64_hexdigest(data)


def checksum(path: Path) -> str:
    """xxh3-64 of the file's bytes and its size: several GB/s, so every file can be checked on every open."""
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


def is_sealed(gen: Path) -> bool:
    """Whether the generation's name holds its manifest's checksum (every generation written since xxh3)."""
    return _SEAL.search(gen.name) is not None


def read_manifest(gen: Path) -> Manifest:
    """The generation's manifest, checked against the seal in its name; IndexCorrupt when unreadable."""
    try:
        data = (gen / "manifest.json").read_bytes()
        if (sealed := _SEAL.search(gen.name)) and _xxh3(data) != sealed.group(1):
            raise IndexCorrupt(f"{gen / 'manifest.json'} is damaged (checksum mismatch)")
        return Manifest.from_json(json.loads(data))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise IndexCorrupt(f"{gen / 'manifest.json'} is unreadable ({e.__class__.__name__})") from None


def verify_files(gen: Path, manifest: Manifest) -> None:
    """Check every file's checksum. No shortcut by size and mtime: bytes overwritten in place keep both."""
    # An index of another chunker version may lack newer files; it is only read to reuse its vectors.
    missing = [name for name in GENERATION_FILES if name not in manifest.checksums] if manifest.compatible() else []
    if missing:
        raise IndexCorrupt(f"{gen / 'manifest.json'} does not list {', '.join(missing)}")
    for name, expected in manifest.checksums.items():
        try:
            actual = checksum(gen / name) if expected.startswith("xxh3:") else _crc(gen / name)
        except FileNotFoundError:
            raise IndexCorrupt(f"{gen / name} is missing") from None
        except OSError as e:
            raise IndexCorrupt(f"{gen / name} is unreadable ({e.strerror})") from None
        if actual != expected:
            raise IndexCorrupt(f"{gen / name} is damaged (checksum mismatch)")


# --- FAISS files -------------------------------------------------------------------------------------------


def write_faiss(path: Path, vecs: np.ndarray) -> None:
    import faiss
    import numpy as np

    index = faiss.IndexFlatIP(DIM)
    if len(vecs):
        index.add(np.ascontiguousarray(vecs, dtype=np.float32))
    faiss.write_index(index, str(path))


_FLAT_HEADER = struct.Struct("<4siqqq?iq")  # faiss IndexFlat: fourcc, d, ntotal, 2 dummies, trained, metric, n


def read_faiss_vectors(path: Path) -> np.ndarray:
    """The vectors of a FAISS IndexFlatIP file, memory-mapped, without importing faiss (~60 ms of a cold
    query). The header is checked field by field; any other layout is read by faiss itself."""
    import numpy as np

    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(_FLAT_HEADER.size)
    if len(head) == _FLAT_HEADER.size:
        magic, d, ntotal, _, _, _, metric, n = _FLAT_HEADER.unpack(head)
        if magic == b"IxFI" and d == DIM and metric == 0 and n == ntotal * d and size == len(head) + 4 * n:
            if ntotal == 0:
                return np.zeros((0, DIM), np.float32)
            return np.memmap(path, dtype="<f4", mode="r", offset=len(head), shape=(ntotal, d))
    import faiss

    index = faiss.read_index(str(path))
    if index.d != DIM:
        raise ValueError(f"{path}: {index.d} dimensions, expected {DIM}")
    return index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, DIM), np.float32)


# --- the writer --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Generation:
    """What a build hands to write_generation: the chunks and snippets, each with its vector and text hash."""

    manifest: Manifest  # its checksums are filled in when the files are written
    chunks: list[Chunk]
    snippets: list[tuple[int, Snippet]]  # (owning chunk, snippet), in chunk order
    chunk_vectors: np.ndarray
    snippet_vectors: np.ndarray
    chunk_hashes: list[str]  # vectors.text_hash of each chunk's embedded text
    snippet_hashes: list[str]


def write_generation(root: Path, generation: Generation, previous: Path | None) -> Path:
    """Write a generation into `root` under its sealed name, fsynced, but not live (store.switch does that).
    `previous`: the live generation, whose BM25 statistics are reused where the texts did not change."""
    name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    tmp = root / f".tmp-{name}"
    tmp.mkdir(parents=True)
    chunk_page = _write_records(tmp, generation)
    _write_searchable(tmp, generation, chunk_page, previous)
    files = sorted(p for p in tmp.rglob("*") if p.is_file())
    manifest = replace(generation.manifest, checksums={p.relative_to(tmp).as_posix(): checksum(p) for p in files})
    data = json.dumps(manifest.to_json(), indent=1).encode()
    (tmp / "manifest.json").write_bytes(data)
    name = f"{name}-m{_xxh3(data)}"  # the manifest's own checksum, where a rewrite of it cannot reach
    for p in [*files, tmp / "manifest.json"]:
        with p.open("rb") as f:
            os.fsync(f.fileno())
    for d in {p.parent for p in files} | {tmp}:
        fsync_dir(d)
    os.rename(tmp, root / name)
    return root / name


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_records(tmp: Path, g: Generation) -> np.ndarray:
    """The chunk and snippet records with their offsets and per-record arrays; returns each chunk's page."""
    import numpy as np

    from assistant.knowledge.kubectl import snippet_features

    snippet_of_chunk: list[list[int]] = [[] for _ in g.chunks]
    for si, (ci, _) in enumerate(g.snippets):
        snippet_of_chunk[ci].append(si)
    _write_jsonl(
        tmp / "chunks.jsonl",
        tmp / "chunk_offsets.npy",
        (
            {**_chunk_record(c), "snippets": snippet_of_chunk[ci], "h": g.chunk_hashes[ci]}
            for ci, c in enumerate(g.chunks)
        ),
    )
    _write_jsonl(
        tmp / "snippets.jsonl",
        tmp / "snippet_offsets.npy",
        ({**s.to_json(), "chunk": ci, "h": g.snippet_hashes[si]} for si, (ci, s) in enumerate(g.snippets)),
    )
    np.save(tmp / "snippet_chunk.npy", np.array([ci for ci, _ in g.snippets], dtype=np.int32))
    np.save(tmp / "chunk_generated.npy", np.array([c.generated for c in g.chunks], dtype=np.bool_))
    pages = {path: n for n, path in enumerate(dict.fromkeys(c.path for c in g.chunks))}
    chunk_page = np.array([pages[c.path] for c in g.chunks], dtype=np.int32)
    np.save(tmp / "chunk_page.npy", chunk_page)
    features = [snippet_features(s.code, s.lang, s.kind) for _, s in g.snippets]
    (tmp / "snippet_features.json").write_text(json.dumps(features, separators=(",", ":")))
    return chunk_page


def _write_searchable(tmp: Path, g: Generation, chunk_page: np.ndarray, previous: Path | None) -> None:
    """The vectors (FAISS) and the BM25 indexes."""
    from assistant.index import lexical
    from assistant.ingest.texts import chunk_lexical_text, snippet_lexical_text

    write_faiss(tmp / "chunks.faiss", g.chunk_vectors)
    write_faiss(tmp / "snippets.faiss", g.snippet_vectors)
    for folder, texts, groups in (
        ("bm25_chunks", [chunk_lexical_text(c) for c in g.chunks], chunk_page),  # pages too, as wholes
        ("bm25_snippets", [snippet_lexical_text(s) for _, s in g.snippets], None),
    ):
        lexical.build(texts, tmp / folder, previous / folder if previous else None, groups)


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


# --- the reader --------------------------------------------------------------------------------------------


class IndexReader:
    """Read-only view of one index generation; records are parsed only when asked for. Only the offsets, the
    records and the vectors are needed to open one (a generation of an older chunker is read to reuse its
    vectors); the other files load on first use."""

    def __init__(self, gen: Path) -> None:
        import numpy as np

        self.gen = gen
        try:
            self.chunk_offsets = np.load(gen / "chunk_offsets.npy", allow_pickle=False)
            self.snippet_offsets = np.load(gen / "snippet_offsets.npy", allow_pickle=False)
            self._chunks_raw = _map(gen / "chunks.jsonl")
            self._snippets_raw = _map(gen / "snippets.jsonl")
        except (OSError, ValueError) as e:
            raise IndexCorrupt(f"{gen} is unreadable ({e.__class__.__name__}: {e})") from None

    @property
    def n_chunks(self) -> int:
        return len(self.chunk_offsets) - 1

    @property
    def n_snippets(self) -> int:
        return len(self.snippet_offsets) - 1

    @cached_property
    def snippet_chunk(self) -> np.ndarray:
        return _guarded(_load_npy, self.gen / "snippet_chunk.npy")

    @cached_property
    def chunk_generated(self) -> np.ndarray:
        return _guarded(_load_npy, self.gen / "chunk_generated.npy")

    @cached_property
    def chunk_page(self) -> np.ndarray:
        return _guarded(_load_npy, self.gen / "chunk_page.npy")

    @cached_property
    def chunk_vectors(self) -> np.ndarray:
        return _guarded(read_faiss_vectors, self.gen / "chunks.faiss")

    @cached_property
    def snippet_vectors(self) -> np.ndarray:
        return _guarded(read_faiss_vectors, self.gen / "snippets.faiss")

    @cached_property
    def command_index(self) -> tuple[dict[str, list[tuple[int, str, str]]], dict[str, list[int]]]:
        """kubectl verb → [(snippet, subcommand, resource)], YAML kind → [snippet]: what each snippet does."""
        by_verb: dict[str, list[tuple[int, str, str]]] = {}
        by_kind: dict[str, list[int]] = {}
        for si, f in enumerate(self.snippet_features):
            for verb, sub, resource in f.get("actions", ()):
                by_verb.setdefault(verb, []).append((si, sub, resource))
            for kind in f.get("kinds", ()):
                by_kind.setdefault(kind, []).append(si)
        return by_verb, by_kind

    @cached_property
    def snippet_langs(self) -> list[str]:
        """Each snippet's language (kept in the features file so no record needs parsing)."""
        return [f.get("lang", "") for f in self.snippet_features]

    @cached_property
    def snippet_features(self) -> list[dict[str, Any]]:
        return _guarded(lambda p: json.loads(p.read_text()), self.gen / "snippet_features.json")

    @cached_property
    def chunk_bm25(self) -> LexicalIndex:
        from assistant.index.lexical import LexicalIndex

        return _guarded(LexicalIndex, self.gen / "bm25_chunks")

    def page_bm25(self, query: str) -> np.ndarray:
        """BM25 of each page taken as one document (chunk_page numbers the pages)."""
        n_pages = int(self.chunk_page.max()) + 1 if self.n_chunks else 0
        return _guarded(lambda _: self.chunk_bm25.group_scores(query, n_pages), self.gen / "bm25_chunks")

    @cached_property
    def snippet_bm25(self) -> LexicalIndex:
        from assistant.index.lexical import LexicalIndex

        return _guarded(LexicalIndex, self.gen / "bm25_snippets")

    def _record(self, raw: bytes | mmap.mmap, offsets: np.ndarray, i: int) -> dict:  # type: ignore[type-arg]
        try:
            return json.loads(raw[int(offsets[i]) : int(offsets[i + 1])])
        except (ValueError, IndexError) as e:
            raise IndexCorrupt(f"{self.gen}: record {i} is unreadable ({e.__class__.__name__})") from None

    def _records(self, raw: bytes | mmap.mmap, offsets: np.ndarray) -> Iterator[dict]:  # type: ignore[type-arg]
        bounds = offsets.tolist()
        for i in range(len(bounds) - 1):
            try:
                yield json.loads(raw[bounds[i] : bounds[i + 1]])
            except ValueError as e:
                raise IndexCorrupt(f"{self.gen}: record {i} is unreadable ({e.__class__.__name__})") from None

    def snippet(self, i: int) -> Snippet:
        rec = self._record(self._snippets_raw, self.snippet_offsets, i)
        return Snippet.from_record(rec)

    def text(self, i: int) -> tuple[str, int, str]:
        """Chunk i's (path, start line, text), without parsing its snippets."""
        rec = self._record(self._chunks_raw, self.chunk_offsets, i)
        return rec["path"], rec["start_line"], rec["text"]

    def headings(self, i: int) -> list[str]:
        """Chunk i's heading path, without parsing its snippets."""
        return self._record(self._chunks_raw, self.chunk_offsets, i)["headings"]

    def chunk(self, i: int) -> Chunk:
        rec = self._record(self._chunks_raw, self.chunk_offsets, i)
        snippets = tuple(self.snippet(s) for s in rec["snippets"])
        return Chunk.from_record(rec, snippets)

    def every_chunk(self) -> tuple[list[Chunk], list[str], list[str]]:
        """Every chunk with its snippets, each record parsed once, and the text hash of each chunk and of each
        snippet: what the next build reuses."""
        snippet_records = list(self._records(self._snippets_raw, self.snippet_offsets))
        snippets = [Snippet.from_record(rec) for rec in snippet_records]
        chunks, chunk_hashes = [], []
        for rec in self._records(self._chunks_raw, self.chunk_offsets):
            chunks.append(Chunk.from_record(rec, tuple(snippets[s] for s in rec["snippets"])))
            chunk_hashes.append(rec["h"])
        return chunks, chunk_hashes, [rec["h"] for rec in snippet_records]

    def section_of(self, i: int) -> list[Chunk]:
        """All pieces of the heading section chunk i belongs to. A file's chunks are stored together and in
        order, so the pieces are its neighbours: only they are parsed. A command group that is a passage of its
        own belongs to the section around its fence (stored just before it)."""
        own = self.chunk(i)
        if is_group_passage(own):
            j = i - 1
            while j >= 0 and (c := self.chunk(j)).path == own.path:
                if c.headings == own.headings[:-1] and not is_group_passage(c):
                    return self.section_of(j)
                j -= 1
        same = lambda c: c.path == own.path and c.headings == own.headings  # noqa: E731
        first = i
        while first > 0 and same(self.chunk(first - 1)):
            first -= 1
        pieces = [self.chunk(j) for j in range(first, i)] + [own]
        j = i + 1
        while j < self.n_chunks and same(nxt := self.chunk(j)):
            pieces.append(nxt)
            j += 1
        return pieces


def _guarded(load: Callable[[Path], T], path: Path) -> T:
    """Load one index file; a file damaged or removed after the checksum check reads as a corrupt index."""
    try:
        return load(path)
    except (OSError, RuntimeError, ValueError, KeyError) as e:
        raise IndexCorrupt(f"{path} is unreadable ({e.__class__.__name__})") from None


def _load_npy(path: Path) -> np.ndarray:
    import numpy as np

    return np.load(path, allow_pickle=False)


def _map(path: Path) -> bytes | mmap.mmap:
    with path.open("rb") as f:
        if path.stat().st_size == 0:
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)

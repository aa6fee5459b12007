"""The vector files of an index: FAISS flat indexes written by faiss and read memory-mapped, and the reuse of
vectors across builds (a text embedded once keeps its vector)."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.embed import DIM, MAX_TOKENS, MODEL_ID, Embedder
from assistant.model import Chunk, Snippet

if TYPE_CHECKING:
    import numpy as np

Progress = Callable[[str, int, int], None]


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


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


def load_for_reuse(gen: Path) -> tuple[dict[str, list[Chunk]], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Old chunks per file (to keep unchanged files as they were) and old vectors by text hash."""
    import numpy as np

    by_file: dict[str, list[Chunk]] = {}
    records = [json.loads(line) for line in (gen / "chunks.jsonl").open("rb")]
    snippet_records = [json.loads(line) for line in (gen / "snippets.jsonl").open("rb")]
    for rec in records:
        snips = tuple(Snippet.from_record(snippet_records[i]) for i in rec["snippets"])
        chunk = Chunk.from_record(rec, snips)
        by_file.setdefault(rec["path"], []).append(chunk)
    cvecs = np.array(read_faiss_vectors(gen / "chunks.faiss"))  # in memory: rows of a memmap are slow views
    svecs = np.array(read_faiss_vectors(gen / "snippets.faiss"))
    chunk_cache = {rec["h"]: cvecs[i] for i, rec in enumerate(records)}
    snippet_cache = {rec["h"]: svecs[i] for i, rec in enumerate(snippet_records)}
    return by_file, chunk_cache, snippet_cache


class VectorJournal:
    """Vectors a build has embedded but not yet written into a generation, appended batch by batch: a build
    killed after minutes of embedding loses at most its last batch, and the next build picks up the rest.
    Records are (12-byte text hash, vector, CRC32); a torn or damaged tail is ignored. The first line names
    the model, so vectors of another model are never reused."""

    HEADER = (json.dumps({"model": MODEL_ID, "dim": DIM, "max_tokens": MAX_TOKENS}) + "\n").encode()
    RECORD = struct.Struct(f"<12s{DIM * 4}sI")

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, np.ndarray]:
        import numpy as np

        try:
            data = self.path.read_bytes()
        except OSError:
            return {}
        if not data.startswith(self.HEADER):
            self.discard()  # another model's, or garbage
            return {}
        out: dict[str, np.ndarray] = {}
        body = memoryview(data)[len(self.HEADER) :]
        good = 0
        for start in range(0, len(body) - self.RECORD.size + 1, self.RECORD.size):
            digest, raw, crc = self.RECORD.unpack_from(body, start)
            if zlib.crc32(digest + raw) != crc:
                break
            out[digest.hex()] = np.frombuffer(raw, dtype="<f4")
            good = start + self.RECORD.size
        if good < len(body):
            os.truncate(self.path, len(self.HEADER) + good)  # later records must start on a record boundary
        return out

    def append(self, items: list[tuple[str, np.ndarray]]) -> None:
        import numpy as np

        with self.path.open("ab") as f:
            if f.tell() == 0:  # append mode starts at the end: 0 means a new (or emptied) journal
                f.write(self.HEADER)
            for h, vec in items:
                digest, raw = bytes.fromhex(h), np.asarray(vec, dtype="<f4").tobytes()
                f.write(self.RECORD.pack(digest, raw, zlib.crc32(digest + raw)))

    def discard(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def reuse_or_embed(
    texts: list[str],
    cache: dict[str, np.ndarray],
    embedder: Embedder | Callable[[], Embedder],
    progress: Progress | None,
    what: str,
    journal: VectorJournal | None = None,
) -> tuple[np.ndarray, list[str], int]:
    """(vectors, text hashes, how many embedded) for texts: a vector is reused when the same text was embedded
    before, and each new distinct text is embedded once. Progress counts texts (chunks or snippets), not
    embeddings: a reused vector or a repeated text is a text done, so the bar ends at the count the build
    reports."""
    embedded = 0
    from collections import Counter

    import numpy as np

    hashes = [text_hash(t) for t in texts]
    todo: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        if h not in cache and h not in todo:
            todo[h] = t
    if todo:
        if not hasattr(embedder, "embed"):
            embedder = embedder()  # type: ignore[operator]
        items = sorted(todo.items(), key=lambda item: len(item[1]))  # similar lengths batch with little padding
        uses = Counter(hashes)
        finished = len(texts) - sum(uses[h] for h in todo)  # reused vectors
        step = 64
        for start in range(0, len(items), step):
            if progress:
                progress(f"embedding {what}", finished, len(texts))
            part = items[start : start + step]
            vecs = embedder.embed([t for _, t in part])  # type: ignore[union-attr]
            done = [(h, v) for (h, _), v in zip(part, vecs, strict=True)]
            cache.update(done)
            if journal:
                journal.append(done)
            finished += sum(uses[h] for h, _ in part)
        if progress:
            progress(f"embedding {what}", finished, len(texts))
        embedded = len(items)
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, h in enumerate(hashes):
        out[i] = cache[h]
    return out, hashes, embedded

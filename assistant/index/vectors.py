"""Vectors across builds: a text embedded once keeps its vector (reused from the last generation, or from the
journal of a build that was killed), and only new texts are embedded. The vector files themselves are part of
a generation (generation.py)."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.index.embed import DIM, MAX_TOKENS, MODEL_ID, Embedder
from assistant.records import Chunk

if TYPE_CHECKING:
    import numpy as np

    from assistant.index.generation import IndexReader

Progress = Callable[[str, int, int], None]


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def load_for_reuse(reader: IndexReader) -> tuple[dict[str, list[Chunk]], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """A generation's chunks per file (to keep unchanged files as they were) and its vectors by text hash."""
    import numpy as np

    chunks, chunk_hashes, snippet_hashes = reader.every_chunk()
    by_file: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_file.setdefault(chunk.path, []).append(chunk)
    cvecs = np.array(reader.chunk_vectors)  # in memory: rows of a memmap are slow views
    svecs = np.array(reader.snippet_vectors)
    chunk_cache = {h: cvecs[i] for i, h in enumerate(chunk_hashes)}
    snippet_cache = {h: svecs[i] for i, h in enumerate(snippet_hashes)}
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

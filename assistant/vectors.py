"""The vector files of an index: FAISS flat indexes written by faiss and read memory-mapped, and the reuse of
vectors across builds (a text embedded once keeps its vector)."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.embed import DIM, Embedder
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
        snips = tuple(Snippet.from_json(_snippet_fields(snippet_records[i])) for i in rec["snippets"])
        chunk = Chunk.from_record(rec, snips)
        by_file.setdefault(rec["path"], []).append(chunk)
    cvecs = np.array(read_faiss_vectors(gen / "chunks.faiss"))  # in memory: rows of a memmap are slow views
    svecs = np.array(read_faiss_vectors(gen / "snippets.faiss"))
    chunk_cache = {rec["h"]: cvecs[i] for i, rec in enumerate(records)}
    snippet_cache = {rec["h"]: svecs[i] for i, rec in enumerate(snippet_records)}
    return by_file, chunk_cache, snippet_cache


def _snippet_fields(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rec.items() if k not in ("chunk", "h")}


def reuse_or_embed(
    texts: list[str],
    cache: dict[str, np.ndarray],
    embedder: Embedder | Callable[[], Embedder],
    progress: Progress | None,
    what: str,
) -> tuple[np.ndarray, int]:
    """Vectors for texts: reused when the same text was embedded before, each new distinct text embedded once."""
    embedded = 0
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
        step = 64
        for start in range(0, len(items), step):
            if progress:
                progress(f"embedding {what}", start, len(items))
            part = items[start : start + step]
            vecs = embedder.embed([t for _, t in part])  # type: ignore[union-attr]
            cache.update({h: v for (h, _), v in zip(part, vecs, strict=True)})
        if progress:
            progress(f"embedding {what}", len(items), len(items))
        embedded = len(items)
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, h in enumerate(hashes):
        out[i] = cache[h]
    return out, embedded

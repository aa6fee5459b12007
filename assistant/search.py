"""Hybrid retrieval: dense (FAISS) and BM25 fused by reciprocal rank, for passages and for snippets.

The query path imports numpy, faiss, onnxruntime and tokenizers only — never torch.
"""

from __future__ import annotations

import json
import mmap
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from assistant.lexical import LexicalIndex
from assistant.model import Chunk, Snippet

RRF_K = 60
CANDIDATES = 60


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    chunk: Chunk
    index: int


@dataclass(frozen=True)
class SnippetHit:
    rank: int
    score: float
    snippet: Snippet
    index: int
    passage: int | None  # rank of the passage it belongs to, when that passage is shown


class IndexReader:
    """Read-only view of one index generation; records are parsed only when asked for."""

    def __init__(self, gen: Path) -> None:
        self.gen = gen
        self.chunk_offsets = np.load(gen / "chunk_offsets.npy", allow_pickle=False)
        self.snippet_offsets = np.load(gen / "snippet_offsets.npy", allow_pickle=False)
        self.snippet_chunk = np.load(gen / "snippet_chunk.npy", allow_pickle=False)
        self._chunks_raw = _map(gen / "chunks.jsonl")
        self._snippets_raw = _map(gen / "snippets.jsonl")

    @property
    def n_chunks(self) -> int:
        return len(self.chunk_offsets) - 1

    @property
    def n_snippets(self) -> int:
        return len(self.snippet_offsets) - 1

    @cached_property
    def chunk_faiss(self):  # type: ignore[no-untyped-def]
        return _read_faiss(self.gen / "chunks.faiss")

    @cached_property
    def snippet_faiss(self):  # type: ignore[no-untyped-def]
        return _read_faiss(self.gen / "snippets.faiss")

    @cached_property
    def chunk_bm25(self) -> LexicalIndex:
        return LexicalIndex(self.gen / "bm25_chunks")

    @cached_property
    def snippet_bm25(self) -> LexicalIndex:
        return LexicalIndex(self.gen / "bm25_snippets")

    def _record(self, raw: bytes | mmap.mmap, offsets: np.ndarray, i: int) -> dict:  # type: ignore[type-arg]
        return json.loads(raw[int(offsets[i]) : int(offsets[i + 1])])

    def snippet(self, i: int) -> Snippet:
        rec = self._record(self._snippets_raw, self.snippet_offsets, i)
        return Snippet.from_json({k: v for k, v in rec.items() if k not in ("chunk", "h")})

    def chunk(self, i: int) -> Chunk:
        rec = self._record(self._chunks_raw, self.chunk_offsets, i)
        snippets = tuple(self.snippet(s) for s in rec["snippets"])
        return Chunk(rec["path"], rec["start_line"], rec["end_line"], tuple(rec["headings"]), rec["text"], snippets)

    def chunks_of(self, path: str) -> list[int]:
        """Indices of all chunks of one file (they are stored together, in file order)."""
        return [i for i in range(self.n_chunks) if self._record(self._chunks_raw, self.chunk_offsets, i)["path"]
                == path]


def _map(path: Path) -> bytes | mmap.mmap:
    with path.open("rb") as f:
        if path.stat().st_size == 0:
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _read_faiss(path: Path):  # type: ignore[no-untyped-def]
    import faiss

    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)


def _dense_ranks(index, qvec: np.ndarray, n: int) -> dict[int, int]:  # type: ignore[no-untyped-def]
    if index.ntotal == 0:
        return {}
    _, ids = index.search(qvec.reshape(1, -1).astype(np.float32), min(n, index.ntotal))
    return {int(i): r for r, i in enumerate(ids[0]) if i >= 0}


def _lexical_ranks(scores: np.ndarray, n: int) -> dict[int, int]:
    if not len(scores):
        return {}
    n = min(n, len(scores))
    top = np.argpartition(-scores, n - 1)[:n]
    top = top[np.argsort(-scores[top], kind="stable")]
    return {int(i): r for r, i in enumerate(top) if scores[i] > 0}


def fuse(*rankings: tuple[dict[int, int], float]) -> dict[int, float]:
    """Weighted reciprocal rank fusion: Σ w / (K + rank)."""
    fused: dict[int, float] = {}
    for ranks, weight in rankings:
        for i, r in ranks.items():
            fused[i] = fused.get(i, 0.0) + weight / (RRF_K + r + 1)
    return fused


def search_passages(reader: IndexReader, query: str, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
    dense = _dense_ranks(reader.chunk_faiss, qvec, CANDIDATES)
    lexical = _lexical_ranks(reader.chunk_bm25.scores(query), CANDIDATES)
    fused = fuse((dense, 1.0), (lexical, 1.0))
    return sorted(fused.items(), key=lambda kv: -kv[1])[:k]


def search_snippets(
    reader: IndexReader, query: str, qvec: np.ndarray, passages: list[tuple[int, float]], k: int
) -> list[tuple[int, float]]:
    """Rank snippets by their own relevance (their label, heading path, context and code), helped by the
    rank of the passage they sit in."""
    if reader.n_snippets == 0:
        return []
    dense = _dense_ranks(reader.snippet_faiss, qvec, CANDIDATES)
    lexical = _lexical_ranks(reader.snippet_bm25.scores(query), CANDIDATES)
    passage_rank = {ci: r for r, (ci, _) in enumerate(passages)}
    in_passages = np.flatnonzero(np.isin(reader.snippet_chunk, list(passage_rank)))
    parent = {int(si): passage_rank[int(reader.snippet_chunk[si])] for si in in_passages}
    fused = fuse((dense, 1.0), (lexical, 1.0), (parent, 1.0))
    return sorted(fused.items(), key=lambda kv: -kv[1])[:k]

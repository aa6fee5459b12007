"""BM25 over chunks and snippets: built with bm25s, queried straight from its saved files.

Querying reads bm25s's on-disk format (a CSC matrix of precomputed token scores plus a vocabulary) with a few
lines of numpy, so the query path does not pay for importing bm25s and scipy (~0.2 s).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


@lru_cache(maxsize=1 << 18)
def _stem(token: str) -> str:
    """A light plural fold (pods → pod, policies → policy) so singular and plural queries meet."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 4 and token.endswith(("sses", "xes", "ches", "shes")):
        return token[:-2]
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


# Words that shape a question but say nothing about its subject (bm25s's English list lacks them).
QUESTION_WORDS = frozenset(
    "how do does did what which why when where who whom can could should would shall may might must i me my "
    "we our us you your please tell need want wanna".split()
)


def tokenize(text: str, stopwords: frozenset[str] = frozenset()) -> list[str]:
    return [_stem(t) for t in _TOKEN.findall(text.lower()) if t not in stopwords]


def query_tokens(text: str, stopwords: frozenset[str]) -> list[str]:
    """Query terms, plus each adjacent pair joined, so "roll back" also meets "rollback" and "config map"
    meets "configmap" (a joined pair only counts if the notes use it)."""
    words = [t for t in _TOKEN.findall(text.lower()) if t not in stopwords]
    return [_stem(t) for t in words] + [_stem(a + b) for a, b in zip(words, words[1:], strict=False)]


def english_stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | QUESTION_WORDS


def build(texts: list[str], folder: Path) -> None:
    """Index the texts with bm25s and save them (plain .npy + JSON) in folder."""
    import bm25s

    stopwords = english_stopwords()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stopwords.json").write_text(json.dumps(sorted(stopwords)))
    if not texts:  # bm25s cannot index nothing: write the same files, empty
        (folder / "vocab.index.json").write_text("{}")
        (folder / "params.index.json").write_text(json.dumps({"num_docs": 0}))
        np.save(folder / "data.csc.index.npy", np.zeros(0, dtype=np.float32))
        np.save(folder / "indices.csc.index.npy", np.zeros(0, dtype=np.int32))
        np.save(folder / "indptr.csc.index.npy", np.zeros(1, dtype=np.int64))
        return
    corpus = [tokenize(t, stopwords) or [""] for t in texts]
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    retriever.save(str(folder), show_progress=False)


class LexicalIndex:
    """Reads a saved bm25s index; `scores(query)` gives one BM25 score per indexed text."""

    def __init__(self, folder: Path) -> None:
        self.vocab: dict[str, int] = json.loads((folder / "vocab.index.json").read_text())
        self.stopwords = frozenset(json.loads((folder / "stopwords.json").read_text()))
        params = json.loads((folder / "params.index.json").read_text())
        self.num_docs = int(params["num_docs"])
        self.data = np.load(folder / "data.csc.index.npy", mmap_mode="r", allow_pickle=False)
        self.indices = np.load(folder / "indices.csc.index.npy", mmap_mode="r", allow_pickle=False)
        self.indptr = np.load(folder / "indptr.csc.index.npy", mmap_mode="r", allow_pickle=False)

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(self.num_docs, dtype=np.float32)
        for token in set(query_tokens(query, self.stopwords)):
            tid = self.vocab.get(token)
            if tid is None:
                continue
            a, b = int(self.indptr[tid]), int(self.indptr[tid + 1])
            out[self.indices[a:b]] += self.data[a:b]  # a token's column holds each doc once
        return out

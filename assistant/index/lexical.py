"""BM25 over chunks and snippets, kept as plain .npy + JSON files and updated incrementally.

Each indexed text's term counts are stored with a hash of the text, so a re-index tokenises only the texts it
has not seen (a one-page edit in the Kubernetes docs re-tokenises a few dozen of 17,000 texts, not all). The
scores are the Lucene variant of BM25, the default of bm25s (k1 1.5, b 0.75; a test checks them against
bm25s), laid out as bm25s lays them out: a CSC matrix of precomputed per-document term scores plus a
vocabulary. bm25s itself rebuilds from scratch on every change (~1 s here), and querying the matrix takes a
few lines of numpy, so neither path imports bm25s or scipy.

    bm25_*/   vocab.index.json {term: id}, params.index.json, stopwords.json,
              data/indices/indptr.csc.index.npy   (term id → documents and their scores)
              counts.terms.npy, counts.tfs.npy, counts.ptr.npy, hashes.json   (per-text term counts)
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from assistant.knowledge.words import word_set

FORMAT = "kt-bm25-1"
# BM25's parameters (bm25s's defaults): term-frequency saturation and length normalisation. They are scored into
# the index when it is built (and saved in params.index.json), so they are the index's, not the query's
# (search.RankConfig): a change means a rebuild.
K1, B = 1.5, 0.75
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
QUESTION_WORDS = word_set("question_words")


def tokenize(text: str, stopwords: frozenset[str] = frozenset()) -> list[str]:
    return [_stem(t) for t in _TOKEN.findall(text.lower()) if t not in stopwords]


def query_tokens(text: str, stopwords: frozenset[str]) -> list[str]:
    """Query terms, plus each adjacent pair joined, so "roll back" also meets "rollback" and "config map"
    meets "configmap" (a joined pair only counts if the notes use it)."""
    words = [t for t in _TOKEN.findall(text.lower()) if t not in stopwords]
    return [_stem(t) for t in words] + [_stem(a + b) for a, b in zip(words, words[1:], strict=False)]


STOPWORDS_EN = word_set("english_stopwords")  # bm25s's (importing it from bm25s would import scipy: ~0.2 s)


def english_stopwords() -> frozenset[str]:
    return STOPWORDS_EN | QUESTION_WORDS


class _Counts:
    """Term counts of the texts of one saved index (CSR rows: terms[ptr[i]:ptr[i+1]], tfs alike)."""

    def __init__(self, folder: Path, stopwords: frozenset[str]) -> None:
        params = json.loads((folder / "params.index.json").read_text())
        saved_stopwords = frozenset(json.loads((folder / "stopwords.json").read_text()))
        if params.get("format") != FORMAT or saved_stopwords != stopwords:
            raise ValueError("another tokenisation")
        self.vocab: dict[str, int] = json.loads((folder / "vocab.index.json").read_text())
        self.terms = np.load(folder / "counts.terms.npy", allow_pickle=False)
        self.tfs = np.load(folder / "counts.tfs.npy", allow_pickle=False)
        self.ptr = np.load(folder / "counts.ptr.npy", allow_pickle=False)
        self.row = {h: i for i, h in enumerate(json.loads((folder / "hashes.json").read_text()))}


def _previous_counts(folder: Path | None, stopwords: frozenset[str]) -> _Counts | None:
    if folder is None:
        return None
    try:
        return _Counts(folder, stopwords)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # older layout or unreadable: every text is tokenised afresh


def build(
    texts: list[str],
    folder: Path,
    previous: Path | None = None,
    groups: np.ndarray | None = None,
    k1: float = K1,
    b: float = B,
) -> None:
    """Index the texts and save them in folder. Texts already counted in `previous` (an earlier build's folder)
    keep their counts; only the others are tokenised. `groups` (a group id per text, e.g. its page) also
    indexes each group as one document, from the same counts: nothing is tokenised twice."""
    from assistant.index.vectors import text_hash

    stopwords = english_stopwords()
    old = _previous_counts(previous, stopwords)
    vocab: dict[str, int] = dict(old.vocab) if old else {}  # ids only grow, so old rows stay valid
    hashes = [text_hash(t) for t in texts]
    rows_terms: list[np.ndarray] = []
    rows_tfs: list[np.ndarray] = []
    for text, h in zip(texts, hashes, strict=True):
        i = old.row.get(h) if old else None
        if old is not None and i is not None:
            start, end = old.ptr[i], old.ptr[i + 1]
            rows_terms.append(old.terms[start:end])
            rows_tfs.append(old.tfs[start:end])
            continue
        counts = Counter(tokenize(text, stopwords))
        rows_terms.append(np.fromiter((vocab.setdefault(t, len(vocab)) for t in counts), np.int32, len(counts)))
        rows_tfs.append(np.fromiter(counts.values(), np.int32, len(counts)))
    sizes = np.fromiter((len(r) for r in rows_terms), np.int64, len(rows_terms))
    ptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])
    terms = np.concatenate(rows_terms) if rows_terms else np.zeros(0, np.int32)
    tfs = np.concatenate(rows_tfs) if rows_tfs else np.zeros(0, np.int32)

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stopwords.json").write_text(json.dumps(sorted(stopwords)))
    (folder / "vocab.index.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (folder / "params.index.json").write_text(json.dumps({"format": FORMAT, "num_docs": len(texts), "k1": k1, "b": b}))
    (folder / "hashes.json").write_text(json.dumps(hashes))
    np.save(folder / "counts.terms.npy", terms)
    np.save(folder / "counts.tfs.npy", tfs)
    np.save(folder / "counts.ptr.npy", ptr)
    data, indices, indptr = _scores(terms, tfs, sizes, len(vocab), k1, b)
    np.save(folder / "data.csc.index.npy", data)
    np.save(folder / "indices.csc.index.npy", indices)
    np.save(folder / "indptr.csc.index.npy", indptr)
    if groups is not None:
        group_scores = _scores(*_group_counts(terms, tfs, ptr, groups, len(vocab)), k1, b)
        for name, array in zip(("data", "indices", "indptr"), group_scores, strict=True):
            np.save(folder / f"{name}.groups.npy", array)


def _group_counts(
    terms: np.ndarray, tfs: np.ndarray, ptr: np.ndarray, groups: np.ndarray, n_terms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The term counts of each group of texts (the sum of its texts' counts), as _scores takes them."""
    width = max(n_terms, 1)
    group = np.repeat(np.asarray(groups, dtype=np.int64), np.diff(ptr))
    key = group * width + terms
    order = np.argsort(key, kind="stable")  # by group, then term (a third of np.unique's time)
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    unique = key[starts]
    summed = np.add.reduceat(tfs[order], starts).astype(np.int32) if len(key) else np.zeros(0, np.int32)
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    sizes = np.bincount(unique // width, minlength=n_groups)
    return (unique % width).astype(np.int32), summed, sizes, n_terms


def _scores(
    terms: np.ndarray, tfs: np.ndarray, sizes: np.ndarray, n_terms: int, k1: float, b: float
) -> tuple[np.ndarray, ...]:
    """BM25 (Lucene variant) of every (text, term) pair, as a CSC matrix: column t lists the texts holding
    term t and their scores, so a query adds up a few columns. `sizes`: each text's number of distinct terms
    (its row of `terms`/`tfs`)."""
    n_docs = len(sizes)
    doc = np.repeat(np.arange(n_docs, dtype=np.int32), sizes)
    doc_len = np.bincount(doc, weights=tfs, minlength=n_docs)
    avg_len = float(doc_len.mean()) if n_docs and doc_len.any() else 1.0
    df = np.bincount(terms, minlength=n_terms)
    idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
    tf = tfs.astype(np.float64)
    score = idf[terms] * tf / (k1 * ((1 - b) + b * doc_len[doc] / avg_len) + tf)
    order = np.argsort(terms, kind="stable")
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    return score[order].astype(np.float32), doc[order], indptr


class LexicalIndex:
    """Reads a saved index; `scores(query)` gives one BM25 score per indexed text."""

    def __init__(self, folder: Path) -> None:
        self.vocab: dict[str, int] = json.loads((folder / "vocab.index.json").read_text())
        self.stopwords = frozenset(json.loads((folder / "stopwords.json").read_text()))
        params = json.loads((folder / "params.index.json").read_text())
        self.num_docs = int(params["num_docs"])
        self.data = np.load(folder / "data.csc.index.npy", mmap_mode="r", allow_pickle=False)
        self.indices = np.load(folder / "indices.csc.index.npy", mmap_mode="r", allow_pickle=False)
        self.indptr = np.load(folder / "indptr.csc.index.npy", mmap_mode="r", allow_pickle=False)
        self.folder = folder

    def scores(self, query: str) -> np.ndarray:
        return self._add_up(query, self.data, self.indices, self.indptr, self.num_docs)

    def group_scores(self, query: str, n_groups: int) -> np.ndarray:
        """BM25 of each group of texts (see build's `groups`) taken as one document: a page as a whole."""
        return self._add_up(query, *self._groups, n_groups)

    @cached_property
    def _groups(self) -> tuple[np.ndarray, ...]:
        return tuple(
            np.load(self.folder / f"{name}.groups.npy", mmap_mode="r", allow_pickle=False)
            for name in ("data", "indices", "indptr")
        )

    def _add_up(self, query: str, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, n_docs: int) -> np.ndarray:
        out = np.zeros(n_docs, dtype=np.float32)
        for token in dict.fromkeys(query_tokens(query, self.stopwords)):  # in query order: float sums repeat
            tid = self.vocab.get(token)
            if tid is None:
                continue
            a, b = int(indptr[tid]), int(indptr[tid + 1])
            out[indices[a:b]] += data[a:b]  # a token's column holds each doc once
        return out

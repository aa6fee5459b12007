"""BM25: the same scores as bm25s (the reference), and incremental builds equal to builds from scratch."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from assistant.index import lexical
from assistant.index.lexical import LexicalIndex, english_stopwords, tokenize

WORDS = (
    "pod pods deployment service ingress calico flannel node nodes taint toleration volume claim storage class "
    "kubectl apply rollout undo scale replicas namespace secret configmap network policy cni etcd backup"
).split()


def corpus(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 40))) for _ in range(n)]


def all_scores(folder: Path) -> dict[str, np.ndarray]:
    index = LexicalIndex(folder)
    return {w: index.scores(w) for w in WORDS}


def test_scores_match_bm25s(tmp_path: Path) -> None:
    bm25s = pytest.importorskip("bm25s")
    texts = corpus(1, 300) + ["The node runs pods; Calico and Flannel are CNI plugins.", "etcd backup, then restore"]
    lexical.build(texts, tmp_path / "ours")
    reference = bm25s.BM25()  # Lucene variant, k1 1.5, b 0.75
    reference.index([tokenize(t, english_stopwords()) for t in texts], show_progress=False)
    ours = LexicalIndex(tmp_path / "ours")
    for word in WORDS:
        expected = reference.get_scores(tokenize(word))
        assert np.allclose(ours.scores(word), expected, rtol=1e-5, atol=1e-6), word


def test_incremental_build_equals_a_fresh_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = corpus(2, 200)
    lexical.build(before, tmp_path / "v1")
    after = before[:50] + corpus(3, 7) + before[60:] + ["a note with brand new words: cilium kube-vip"]
    tokenised: list[str] = []
    real = lexical.tokenize
    monkeypatch.setattr(lexical, "tokenize", lambda text, *a: tokenised.append(text) or real(text, *a))
    lexical.build(after, tmp_path / "v2", previous=tmp_path / "v1")
    assert sorted(tokenised) == sorted(set(after) - set(before))  # only texts never counted before
    monkeypatch.setattr(lexical, "tokenize", real)
    lexical.build(after, tmp_path / "fresh")
    incremental, fresh = all_scores(tmp_path / "v2"), all_scores(tmp_path / "fresh")
    for word in WORDS:
        assert np.allclose(incremental[word], fresh[word]), word
    assert LexicalIndex(tmp_path / "v2").scores("cilium").argmax() == len(after) - 1


def test_unreadable_previous_counts_mean_tokenising_again(tmp_path: Path) -> None:
    texts = corpus(4, 20)
    lexical.build(texts, tmp_path / "v1")
    (tmp_path / "v1" / "counts.ptr.npy").write_bytes(b"garbage")
    lexical.build(texts, tmp_path / "v2", previous=tmp_path / "v1")
    lexical.build(texts, tmp_path / "fresh")
    for word in WORDS:
        assert np.allclose(LexicalIndex(tmp_path / "v2").scores(word), LexicalIndex(tmp_path / "fresh").scores(word))


def test_empty_corpus_and_empty_texts(tmp_path: Path) -> None:
    lexical.build([], tmp_path / "none")
    assert LexicalIndex(tmp_path / "none").scores("pod").shape == (0,)
    lexical.build(["", "the and of", "pod"], tmp_path / "blank")
    scores = LexicalIndex(tmp_path / "blank").scores("pods")
    assert scores[2] > 0 and scores[0] == scores[1] == 0


def test_group_scores_equal_bm25_of_each_group_joined(tmp_path: Path) -> None:
    """A page scored as a whole (document-level evidence) is exactly BM25 over its chunks' texts joined."""
    rng = random.Random(5)
    texts = corpus(6, 120)
    groups = np.array(sorted(rng.randrange(17) for _ in texts))
    groups[groups == 3] = 4  # a page number no chunk has scores zero
    lexical.build(texts, tmp_path / "chunks", groups=groups)
    joined = ["\n".join(t for t, g in zip(texts, groups, strict=True) if g == n) for n in range(17)]
    lexical.build(joined, tmp_path / "pages")
    ours, reference = LexicalIndex(tmp_path / "chunks"), LexicalIndex(tmp_path / "pages")
    for word in [*WORDS, "pod taint", "calico flannel cni"]:
        assert np.allclose(ours.group_scores(word, 17), reference.scores(word), rtol=1e-5, atol=1e-6), word
    assert ours.group_scores("pod", 17)[3] == 0

"""The ONNX query path gives the same vectors as the sentence-transformers reference, on real texts."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.chunks import chunk_markdown
from tests.conftest import SEED


@pytest.mark.slow
def test_onnx_matches_sentence_transformers(embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant.embed import SentenceTransformerEmbedder

    chunks = chunk_markdown(SEED.read_text(), SEED.name)
    texts = [c.embed_text for c in chunks[:24]] + ["Flannel vs Calico?", "how do I roll back a deployment"]
    onnx = embedder.embed(texts)
    reference = SentenceTransformerEmbedder().embed(texts)
    cosines = (onnx * reference).sum(axis=1)
    assert onnx.shape == reference.shape == (len(texts), 384)
    assert cosines.min() >= 0.9999, cosines.min()
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-4)


def test_batching_does_not_change_vectors(embedder) -> None:  # type: ignore[no-untyped-def]
    texts = ["short", "a much longer text about kubernetes deployments and rollbacks " * 5, "pods"]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([t]) for t in texts])
    assert (together * alone).sum(axis=1).min() >= 0.9999

"""The ONNX query path gives the same vectors as the sentence-transformers reference, on real texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.ingest.chunks import chunk_markdown
from tests.conftest import SEED


@pytest.mark.slow
def test_onnx_matches_sentence_transformers(embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant.index.embed import SentenceTransformerEmbedder

    chunks = chunk_markdown(SEED.read_text(), SEED.name)
    texts = [c.embed_text for c in chunks[:24]] + [
        "Flannel vs Calico?",
        "how can I roll a deployment back to its previous version",
    ]
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


def test_damaged_model_cache_is_exported_again(onnx_model, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A truncated cached export (a full disk, a stray edit) is noticed when the session starts, then made
    again. The export itself is the real one elsewhere; here it copies the good files to stay fast."""
    import shutil

    from assistant.index import embed

    monkeypatch.setenv("KT_HOME", str(tmp_path))
    cached = embed.onnx_path()
    shutil.copytree(onnx_model.parent, cached.parent)
    data = cached.with_name(cached.name + ".data")
    data.write_bytes(data.read_bytes()[: 1 << 20])
    exports: list[Path] = []

    def export(target: Path) -> Path:
        exports.append(target)
        shutil.copytree(onnx_model.parent, target.parent)
        return target

    monkeypatch.setattr(embed, "export_onnx", export)
    vec = embed.OnnxEmbedder().embed(["kubectl get pods"])
    assert exports == [cached]
    assert np.isclose(np.linalg.norm(vec), 1.0, atol=1e-4)

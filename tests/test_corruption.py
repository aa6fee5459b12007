"""A damaged index is never trusted and never crashes kt: every file of a generation, and the CURRENT pointer,
is truncated, emptied or overwritten with garbage in turn; `kt ask` then names the damaged file, rebuilds the
index and answers exactly as the undamaged index did.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from assistant.app.cli import app
from assistant.app.core import Assistant
from assistant.config import BUNDLED_NOTES, Settings
from assistant.index.store import IndexStore

QUESTION = "Flannel vs Calico?"
BM25_FILES = [
    "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "params.index.json",
    "stopwords.json", "vocab.index.json", "counts.terms.npy", "counts.tfs.npy", "counts.ptr.npy", "hashes.json",
]  # fmt: skip
GENERATION_FILES = [
    "manifest.json", "chunks.jsonl", "chunk_offsets.npy", "snippets.jsonl", "snippet_offsets.npy",
    "snippet_chunk.npy", "chunk_generated.npy", "chunk_page.npy", "chunks.faiss", "snippets.faiss",
    "snippet_features.json",
    *(f"{folder}/{name}" for folder in ("bm25_chunks", "bm25_snippets") for name in BM25_FILES),
    *(f"bm25_chunks/{name}.groups.npy" for name in ("data", "indices", "indptr")),  # each page as one document
]  # fmt: skip


class MemoEmbedder:
    """The real model, remembering what it embedded: the many rebuilds below re-embed the same notes, and the
    vectors would be identical anyway (the model is deterministic)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_id, self.dim = inner.model_id, inner.dim
        self.memo: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        todo = sorted({t for t in texts if t not in self.memo})
        if todo:
            self.memo.update(zip(todo, self.inner.embed(todo), strict=True))
        return np.array([self.memo[t] for t in texts], dtype=np.float32).reshape(len(texts), self.inner.dim)


@pytest.fixture(scope="module")
def memo(embedder) -> MemoEmbedder:  # type: ignore[no-untyped-def]
    return MemoEmbedder(embedder)


@pytest.fixture
def cli_model(monkeypatch: pytest.MonkeyPatch, memo: MemoEmbedder) -> None:
    """The CLI's OnnxEmbedder() is the memoising real model."""
    monkeypatch.setattr("assistant.index.embed.OnnxEmbedder", lambda *a, **k: memo)


def ask(notes: Path, index: Path) -> Any:
    return CliRunner().invoke(app, ["ask", QUESTION, "--json", "--notes", str(notes), "--index", str(index)])


def ranked(result: Any) -> list[tuple[str, int]]:
    return [(p["path"], p["start_line"]) for p in json.loads(result.stdout)["passages"]]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, memo: MemoEmbedder) -> tuple[Path, Path, list[Any]]:
    """The seed notes, their index, and the passages it ranks for the question."""
    root = tmp_path_factory.mktemp("pristine")
    notes, index = root / "notes", root / "index"
    notes.mkdir()
    shutil.copy2(BUNDLED_NOTES / "kubernetes-therapy.md", notes)
    Assistant(Settings((notes,), index), notice=lambda m: None, embedder=memo).update()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("assistant.index.embed.OnnxEmbedder", lambda *a, **k: memo)
        result = ask(notes, index)
    assert result.exit_code == 0 and not result.stderr, result.output
    expected = ranked(result)
    top = [p["text"] for p in json.loads(result.stdout)["passages"][:3]]
    assert any("Calico" in text and "Flannel" in text for text in top)
    return notes, index, expected


def damage(path: Path, how: str) -> None:
    size = path.stat().st_size
    if how == "truncated":
        os.truncate(path, size // 2)
    elif how == "emptied":
        os.truncate(path, 0)
    else:
        path.write_bytes(random.Random(f"{path.name}:{size}").randbytes(size))


def test_the_list_covers_every_file_of_a_generation(pristine: tuple[Path, Path, list[Any]]) -> None:
    _, index, _ = pristine
    gen = IndexStore(index).current()
    files = [p.relative_to(gen).as_posix() for p in gen.rglob("*") if p.is_file()]
    assert sorted(files) == sorted(GENERATION_FILES)


@pytest.mark.parametrize("how", ["truncated", "emptied", "garbage"])
@pytest.mark.parametrize("name", [*GENERATION_FILES, "CURRENT"])
def test_ask_names_the_damage_rebuilds_and_answers(
    name: str, how: str, tmp_path: Path, pristine: tuple[Path, Path, list[Any]], cli_model: None
) -> None:
    notes, built, expected = pristine
    index = tmp_path / "index"
    shutil.copytree(built, index)
    damage(index / name if name == "CURRENT" else IndexStore(index).current() / name, how)

    result = ask(notes, index)
    assert result.exit_code == 0 and result.exception is None, result.output
    assert "Traceback" not in result.output
    assert name in result.stderr and "rebuilding the index" in result.stderr, result.stderr
    assert ranked(result) == expected
    IndexStore(index).manifest(verify=True)  # healed: the next question needs no rebuild
    again = ask(notes, index)
    assert again.exit_code == 0 and not again.stderr and ranked(again) == expected


@pytest.mark.parametrize("name", ["CURRENT", "manifest.json", "chunks.faiss", "bm25_chunks/vocab.index.json"])
def test_index_command_rebuilds_a_damaged_index(
    name: str, tmp_path: Path, pristine: tuple[Path, Path, list[Any]], cli_model: None
) -> None:
    notes, built, expected = pristine
    index = tmp_path / "index"
    shutil.copytree(built, index)
    damage(index / name if name == "CURRENT" else IndexStore(index).current() / name, "garbage")

    result = CliRunner().invoke(app, ["index", "--json", "--notes", str(notes), "--index", str(index)])
    assert result.exit_code == 0 and result.exception is None, result.output
    assert name in result.stderr and "rebuilding the index" in result.stderr, result.stderr
    report = json.loads(result.stdout)
    assert report["rebuilt"] and report["wrote"] and report["added"] == ["kubernetes-therapy.md"]
    IndexStore(index).manifest(verify=True)
    assert ranked(ask(notes, index)) == expected


def overwrite_in_place(path: Path, offset: int, data: bytes) -> None:
    """Bytes changed where they lie: the file keeps its size and (set back) its modification time, so a check
    by stat alone cannot see it."""
    before = path.stat()
    with path.open("r+b") as f:
        f.seek(offset)
        f.write(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


@pytest.mark.parametrize("name", ["chunks.faiss", "chunks.jsonl", "snippets.jsonl", "bm25_chunks/counts.tfs.npy"])
def test_bytes_overwritten_in_place_are_caught_before_they_change_an_answer(
    name: str, tmp_path: Path, pristine: tuple[Path, Path, list[Any]], cli_model: None
) -> None:
    notes, built, expected = pristine
    index = tmp_path / "index"
    shutil.copytree(built, index)
    assert ranked(ask(notes, index)) == expected  # opened and verified once before the damage
    path = IndexStore(index).current() / name
    size = path.stat().st_size
    overwrite_in_place(path, size // 3, bytes(size // 3))  # a third of the file zeroed

    result = ask(notes, index)
    assert result.exit_code == 0 and result.exception is None, result.output
    assert f"{name} is damaged" in result.stderr and "rebuilding the index" in result.stderr, result.stderr
    assert ranked(result) == expected


def test_vectors_zeroed_in_place_would_change_the_answer(
    tmp_path: Path, pristine: tuple[Path, Path, list[Any]], cli_model: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The damage above matters: read without its checksums, the same index ranks other passages."""
    notes, built, expected = pristine
    index = tmp_path / "index"
    shutil.copytree(built, index)
    path = IndexStore(index).current() / "chunks.faiss"
    size = path.stat().st_size
    overwrite_in_place(path, size // 3, bytes(size // 3))
    import assistant.index.store as store_module

    monkeypatch.setattr(store_module, "verify_files", lambda gen, manifest: None)
    assert ranked(ask(notes, index)) != expected


def test_a_rewritten_manifest_is_caught(
    tmp_path: Path, pristine: tuple[Path, Path, list[Any]], cli_model: None
) -> None:
    """The manifest holds the other files' checksums; its own is in the generation's name."""
    notes, built, expected = pristine
    index = tmp_path / "index"
    shutil.copytree(built, index)
    path = IndexStore(index).current() / "manifest.json"
    text = path.read_bytes()
    at = text.index(b'"built_at": "') + len(b'"built_at": "')
    overwrite_in_place(path, at, b"1999")  # still valid JSON, same size

    result = ask(notes, index)
    assert result.exit_code == 0 and "manifest.json is damaged" in result.stderr, result.stderr
    assert ranked(result) == expected

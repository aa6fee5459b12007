"""Shared fixtures. Tests never touch the user's files: KT_HOME (model cache, histories, per-folder indexes)
points at a per-session temporary folder, and every index lives under tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.app.core import Assistant
from assistant.config import BUNDLED_NOTES, Settings

SEED = BUNDLED_NOTES / "kubernetes-therapy.md"
EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"


MODEL_FIXTURES = {"onnx_model", "embedder"}  # every test that embeds text reaches the model through these


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that load the real model are marked `model`: `make check` runs the others (seconds, no model)."""
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)


@pytest.fixture(scope="session")
def kt_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kt_home")


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch, kt_home: Path) -> None:
    monkeypatch.setenv("KT_HOME", str(kt_home))
    monkeypatch.delenv("KT_NOTES", raising=False)
    monkeypatch.delenv("KT_INDEX", raising=False)


@pytest.fixture(scope="session")
def onnx_model(kt_home: Path) -> Path:
    """The ONNX export of the packaged model, made once per test session (the real model, offline)."""
    import os

    os.environ["KT_HOME"] = str(kt_home)
    from assistant.index.embed import ensure_onnx

    return ensure_onnx(progress=False)


@pytest.fixture(scope="session")
def embedder(onnx_model: Path):  # type: ignore[no-untyped-def]
    from assistant.index.embed import OnnxEmbedder

    return OnnxEmbedder(onnx_model)


@pytest.fixture
def notes_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled notes that a test may edit."""
    folder = tmp_path / "notes"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


@pytest.fixture
def one_note_assistant(tmp_path: Path, embedder):  # type: ignore[no-untyped-def]
    """Makes an assistant over a single note (name, text) in tmp_path, its index built, with the real model."""

    def make(name: str, text: str) -> Assistant:
        notes = tmp_path / "notes"
        notes.mkdir()
        (notes / name).write_text(text)
        assistant = Assistant(Settings((notes,), tmp_path / "index"), notice=lambda m: None, embedder=embedder)
        assistant.update()
        return assistant

    return make


@pytest.fixture(scope="session")
def seed_assistant(tmp_path_factory: pytest.TempPathFactory, embedder) -> Assistant:  # type: ignore[no-untyped-def]
    """An assistant over a copy of the seed notes with its index built once, with the real model."""
    root = tmp_path_factory.mktemp("seed")
    (root / "notes").mkdir()
    shutil.copy(SEED, root / "notes" / SEED.name)
    assistant = Assistant(Settings((root / "notes",), root / "index"), notice=lambda m: None, embedder=embedder)
    assistant.update()
    return assistant

"""Where the notes and the index live: options, then KT_NOTES / KT_INDEX, then the bundled defaults."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_NOTES = PROJECT_ROOT / "corpus"
BUNDLED_INDEX = PROJECT_ROOT / "index"


@dataclass(frozen=True)
class Settings:
    notes: tuple[Path, ...]
    index: Path


def user_data_dir() -> Path:
    env = os.environ.get("KT_HOME")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("kubernetes-therapy"))


def resolve(notes: list[Path] | None = None, index: Path | None = None) -> Settings:
    if not notes:
        env = os.environ.get("KT_NOTES")
        notes = [Path(p) for p in env.split(os.pathsep) if p] if env else [BUNDLED_NOTES]
    folders = tuple(Path(os.path.abspath(os.path.expanduser(p))) for p in notes)
    if index is None and os.environ.get("KT_INDEX"):
        index = Path(os.environ["KT_INDEX"])
    if index is None:
        if folders == (BUNDLED_NOTES,):
            index = BUNDLED_INDEX
        else:
            key = hashlib.sha256("\n".join(str(f.resolve()) for f in folders).encode()).hexdigest()[:16]
            index = user_data_dir() / "indexes" / key
    return Settings(folders, Path(os.path.abspath(os.path.expanduser(index))))


def history_file() -> Path:
    return user_data_dir() / "history"

"""The indexes kept under the cache dir, one folder per notes set ($KT_HOME/indexes/<hash>/, or
~/.cache/kubernetes-therapy/indexes/<hash>/): list them (`kt status --all`) and remove those nobody needs any
more (`kt prune`). A folder's name is a hash of its notes folders, so the notes are read from its manifest."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.config import user_data_dir
from assistant.index.generation import Manifest
from assistant.index.store import IndexBusy, IndexError_, IndexStore, IndexUnwritable

DAY = 86_400


def cache_root() -> Path:
    return user_data_dir() / "indexes"


@dataclass(frozen=True)
class CachedIndex:
    path: Path
    notes: tuple[str, ...]  # the notes folders (or files) it was built for; () when its manifest is unreadable
    gone: tuple[str, ...]  # those of them that no longer exist
    size: int  # bytes
    built_at: str | None
    used: float  # when it last answered or was built (epoch seconds)
    current: bool  # the index of the notes in force here: never pruned

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "notes": list(self.notes),
            "gone": list(self.gone),
            "size": self.size,
            "built_at": self.built_at,
            "used": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.used)),
            "current": self.current,
        }


def _size(folder: Path) -> int:
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def cached_indexes(current: Path | None = None) -> list[CachedIndex]:
    """Every index folder under the cache dir, oldest use first."""
    root = cache_root()
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    found = []
    for folder in folders:
        store = IndexStore(folder)
        try:
            manifest = store.manifest()
        except IndexError_:  # never finished, or damaged: its notes are unknown
            manifest = Manifest()
        notes = tuple(manifest.notes)
        found.append(
            CachedIndex(
                path=folder,
                notes=notes,
                gone=tuple(n for n in notes if not os.path.exists(n)),
                size=_size(folder),
                built_at=manifest.built_at,
                used=store.last_used(),
                current=current is not None and folder.resolve() == current.resolve(),
            )
        )
    return sorted(found, key=lambda index: index.used)


def prune_reason(index: CachedIndex, older_than_days: float | None, now: float) -> str:
    """Why this index may go ("" when it stays): its notes are gone, or it was not used for the given days."""
    if index.current:
        return ""
    if index.gone:
        return f"notes gone: {', '.join(index.gone)}"
    if older_than_days is not None and now - index.used > older_than_days * DAY:
        return f"not used for {(now - index.used) / DAY:.0f} days"
    return ""


def prune(
    current: Path | None, older_than_days: float | None = None, dry_run: bool = False
) -> tuple[list[tuple[CachedIndex, str]], list[tuple[CachedIndex, str]]]:
    """Remove the indexes whose notes are gone (or, with older_than_days, not used for that long); never the
    current one, nor one another kt is updating. (removed, skipped), each with its reason."""
    now = time.time()
    removed, skipped = [], []
    for index in cached_indexes(current):
        reason = prune_reason(index, older_than_days, now)
        if not reason:
            continue
        if dry_run:
            removed.append((index, reason))
            continue
        try:
            lock = IndexStore(index.path).lock(wait=False)
        except (IndexBusy, IndexUnwritable) as e:
            skipped.append((index, str(e)))
            continue
        try:
            shutil.rmtree(index.path)
        except OSError as e:
            skipped.append((index, f"cannot be removed ({e.strerror})"))
            continue
        finally:
            try:
                lock.release()
            except OSError:
                pass
        removed.append((index, reason))
    return removed, skipped


def human_size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")

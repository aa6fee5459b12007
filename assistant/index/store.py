"""The index folder: generations switched atomically, one builder at a time, and what is left cleaned up.

    index/
      CURRENT             name of the live generation (replaced by an atomic rename)
      .lock, .lock.json   one builder at a time, and who it is
      .used               touched when the index answers (`kt status --all`, `kt prune --older-than`)
      journal.bin         vectors embedded by a build that has not finished (see vectors.VectorJournal)
      gen-…-m<xxh3>/      one complete generation, named with the checksum of its manifest: its files are
                          listed in generation.py, which writes and reads them

A build (build.py) writes a new generation beside the live one, fsyncs it, then `switch` renames CURRENT: a
reader sees the old index or the new one, never a mix. Every file's xxh3 checksum is in the manifest and is
checked each time a process opens the index (about a millisecond for the bundled notes), so damage is detected
even when it keeps the file's size and modification time.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.index.generation import (
    IndexCorrupt,
    IndexError_,
    IndexMissing,
    Manifest,
    fsync_dir,
    is_sealed,
    read_manifest,
    verify_files,
)

__all__ = ["IndexBusy", "IndexCorrupt", "IndexError_", "IndexMissing", "IndexStore", "IndexUnwritable"]


class IndexBusy(Exception):
    def __init__(self, owner: str) -> None:
        super().__init__(f"another kt is updating this index ({owner})")
        self.owner = owner


class IndexUnwritable(Exception):
    """The index folder cannot be written (a read-only file system, or another user's folder)."""

    def __init__(self, root: Path, error: OSError) -> None:
        super().__init__(f"cannot write to the index in {root} ({error.strerror or error})")
        self.root = root


class IndexStore:
    """One index folder: which generation is live, its manifest (verified on request), the builder's lock,
    switching to a new generation and dropping the old ones."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._sealed: tuple[str, Manifest] | None = None  # (generation, its manifest), read once

    # --- reading ---------------------------------------------------------------------------------------

    def current(self) -> Path:
        pointer = self.root / "CURRENT"
        try:
            name = pointer.read_text().strip()
        except FileNotFoundError:
            raise IndexMissing(f"no index in {self.root} yet") from None
        except (OSError, ValueError) as e:  # ValueError: garbage that is not UTF-8
            raise IndexCorrupt(f"{pointer} is unreadable ({e.__class__.__name__})") from None
        gen = self.root / name
        if not name.startswith("gen-") or "/" in name or not gen.is_dir():
            raise IndexCorrupt(f"{pointer} points to a missing generation ({name[:80]!r})")
        return gen

    def manifest(self, verify: bool = False) -> Manifest:
        """The live generation's manifest (read-only). A generation never changes once written and its name
        seals its manifest's checksum, so an unverified read of the same generation is served from memory (an
        MCP call reads it several times); a verified read always reads and checks the files."""
        gen = self.current()
        if not verify and self._sealed is not None and self._sealed[0] == gen.name:
            return self._sealed[1]
        manifest = read_manifest(gen)
        if verify:
            verify_files(gen, manifest)
        if is_sealed(gen):
            self._sealed = (gen.name, manifest)
        return manifest

    def mark_used(self) -> None:
        """Record that this index answers now (`kt status --all`, `kt prune --older-than`): the mtime of .used,
        touched at most once an hour. A read-only index stays as it is."""
        stamp = self.root / ".used"
        try:
            if time.time() - stamp.stat().st_mtime < 3600:
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
        try:
            stamp.touch()
        except OSError:
            pass

    def last_used(self) -> float:
        """When this index last answered or was built (epoch seconds; 0 when neither is known)."""
        times = []
        for name in (".used", "CURRENT"):
            try:
                times.append((self.root / name).stat().st_mtime)
            except OSError:
                pass
        if not times:  # a build that never finished: when the folder last changed
            try:
                times.append(self.root.stat().st_mtime)
            except OSError:
                pass
        return max(times, default=0.0)

    # --- locking ---------------------------------------------------------------------------------------

    def lock(self, wait: bool | float = True, on_wait: Callable[[str], None] | None = None) -> Any:
        """Take the builder's lock. `wait`: True waits for as long as it takes, False not at all, a number of
        seconds at most that long; IndexBusy when the lock stays taken, IndexUnwritable when the folder is
        read-only (or not ours)."""
        from filelock import FileLock, Timeout

        lock = FileLock(str(self.root / ".lock"))
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                owner = self.lock_owner()
                if wait is False:
                    raise IndexBusy(owner) from None
                if on_wait:
                    on_wait(owner)
                try:
                    lock.acquire(timeout=-1 if wait is True else float(wait))
                except Timeout:
                    raise IndexBusy(owner) from None
            try:
                (self.root / ".lock.json").write_text(json.dumps({"pid": os.getpid(), "since": time.time()}))
            except OSError:
                lock.release()
                raise
        except OSError as e:
            raise IndexUnwritable(self.root, e) from None
        return lock

    def lock_owner(self) -> str:
        try:
            info = json.loads((self.root / ".lock.json").read_text())
            since = time.strftime("%H:%M:%S", time.localtime(info["since"]))
            return f"pid {info['pid']}, since {since}"
        except (OSError, ValueError, KeyError, TypeError):
            return "unknown process"

    # --- switching -------------------------------------------------------------------------------------

    def switch(self, gen: Path) -> None:
        """Make a written generation (generation.write_generation) the live one: CURRENT is replaced by an
        atomic rename and fsynced; then every generation but it and the one it replaces is dropped."""
        try:
            previous = self.current().name
        except IndexError_:
            previous = ""
        pointer = self.root / f".CURRENT.{os.getpid()}"
        with pointer.open("w") as f:
            f.write(gen.name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(pointer, self.root / "CURRENT")
        fsync_dir(self.root)
        self._collect_garbage(keep={gen.name, previous})

    def _collect_garbage(self, keep: set[str]) -> None:
        """Drop generations other than the live one and the one before it (a reader may still have it open),
        and leftovers of killed builds: half-written folders, pointers, generations never made live."""
        for old in self.root.glob("gen-*"):
            if old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
        for leftover in [*self.root.glob(".tmp-gen-*"), *self.root.glob(".CURRENT.*")]:
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)

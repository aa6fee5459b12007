"""The index behind `kt mcp`, kept fresh without ever blocking a call on a build:
- a background thread (the updater) builds or updates the index; a call waits for it at most CALL_WAIT seconds,
  then answers from the index as it is and says so (or, with no index yet, says how far the build is);
- a watcher thread (`watch.NotesWatch`) vouches that nothing changed since the last sweep; when it cannot (a notes
  root replaced or gone, its events not yet armed, or the last sweep older than SWEEP_AGE), a call first sweeps
  the notes by stat (and content hash), as `kt ask` does, and asks the updater for an update if anything changed;
- a notes root that is gone is a tool error, and the index is kept as it was (never emptied);
- a call the client cancelled stops at the next stage boundary (`Checkpoint`), so it never holds up the next one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.app.watch import NotesWatch, missing_roots
from assistant.views.mcp_results import age, building_markdown

if TYPE_CHECKING:
    from assistant.app.core import Assistant
    from assistant.index.build import UpdateReport
    from assistant.index.generation import Manifest

CALL_WAIT = 2.0  # seconds a call waits for an update before answering from the index as it is
SWEEP_AGE = 5.0  # seconds after which the watcher's word is not enough: a call sweeps the notes by stat
# Where each build stage falls in one 0-100 progress figure (MCP progress must only increase).
STAGES = {
    "reading notes": (0, 10),
    "embedding chunks": (10, 70),
    "embedding snippets": (70, 95),
    "writing index": (95, 100),
}

Reporter = Callable[[float, str], None]  # progress of an update a call waits for: (percent, message)
Checkpoint = Callable[[str], None]  # called at each stage boundary of a call with the stage; raises to stop it
Result = tuple[str, dict[str, Any]]  # (Markdown, structured content)


class Unavailable(RuntimeError):
    """The notes or the index cannot be used right now (a notes folder gone, an index that cannot be written)."""


@dataclass
class Build:
    """The update in progress (or the last one)."""

    running: bool = False
    stage: str = ""
    percent: float = 0.0
    started: float = 0.0
    error: str | None = None
    full: bool = False
    paced_from: tuple[float, float] | None = None  # (time, percent) when embedding began: the pace counts from there

    def eta(self) -> float | None:
        """Seconds left, from the pace of the embedding so far; None before there is a pace to go by."""
        if not self.running or self.paced_from is None or self.percent <= self.paced_from[1]:
            return None
        since, from_percent = self.paced_from
        pace = (time.monotonic() - since) / (self.percent - from_percent)
        return max(0.0, pace * (100 - self.percent))

    def state(self, pending: bool) -> dict[str, Any]:
        eta = self.eta()
        return {"running": self.running or pending, "percent": round(self.percent, 1), "stage": self.stage,
                "eta_seconds": None if eta is None else round(eta), "error": self.error}  # fmt: skip


def describe(e: BaseException) -> str:
    """An exception as an agent can read it."""
    from assistant.index.store import IndexError_

    if isinstance(e, OSError) and not isinstance(e, IndexError_):
        return f"{e.filename or 'the index'}: {e.strerror or e}"
    return str(e) or e.__class__.__name__


def gone(missing: list[Path]) -> Unavailable:
    kept = "the index is kept as it was"
    return Unavailable(
        f"notes folder not found: {', '.join(map(str, missing))} ({kept}; put the folder back or fix --notes)"
    )


class Updater:
    """The thread that builds and updates the index, one update at a time, and the state of the last one."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.cond = threading.Condition()  # guards the fields below; notified when an update ends
        self.build = Build()
        self.pending: bool | None = None  # an update asked for: None no, False an update, True a full rebuild
        self.updates = 0  # updates finished
        self.closed = False
        assistant.progress = self._progress  # builds report here, not to a terminal bar
        self.thread = threading.Thread(target=self._run, name="kt-index-updater", daemon=True)
        self.request(full=False)  # at start-up: build the index, or bring it up to date
        self.thread.start()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def request(self, full: bool = False) -> None:
        with self.cond:
            self.pending = bool(self.pending) or full
            self.cond.notify_all()

    def busy(self) -> bool:
        with self.cond:
            return self.pending is not None or self.build.running

    def ensure(self) -> None:
        """No index and no build: build it (again, if the last one failed)."""
        with self.cond:
            if self.pending is None and not self.build.running:
                self.pending = False
                self.cond.notify_all()

    def _run(self) -> None:
        while True:
            with self.cond:
                while self.pending is None and not self.closed:
                    self.cond.wait()
                if self.closed:
                    return
                full, self.pending = self.pending, None
                self.build = Build(running=True, started=time.monotonic(), full=full)
            error = None
            try:
                if missing := missing_roots(self.assistant.folders):
                    raise gone(missing)
                self._announce(self.assistant.update(force=full, wait=True))
            except Exception as e:  # noqa: BLE001 — said to the next call; the next call may try again
                error = describe(e)
                self.assistant.notice(f"index update failed: {error}")
            with self.cond:
                self.build.running, self.build.error = False, error
                if error is None:
                    self.build.percent = 100.0
                self.updates += 1
                self.cond.notify_all()

    def _announce(self, report: UpdateReport) -> None:
        if report.touched:
            parts = [f"{len(v)} {k}" for k, v in (("added", report.added), ("changed", report.changed),
                                                  ("removed", report.removed)) if v]  # fmt: skip
            self.assistant.notice(f"index updated: {', '.join(parts)} ({report.embedded} chunks embedded)")

    def _progress(self, stage: str, done: int, total: int) -> None:
        if stage not in STAGES:
            return  # "done" ends every update, failed or not: the updater says how it ended
        low, high = STAGES[stage]
        figure = low + (high - low) * (done / total if total else 1)
        with self.cond:
            if stage.startswith("embedding") and self.build.paced_from is None:
                self.build.paced_from = (time.monotonic(), self.build.percent)
            if figure > self.build.percent:
                self.build.percent, self.build.stage = figure, f"{stage} {done}/{total}"

    def settle(self, wait: float, reporter: Reporter | None, check: Checkpoint | None) -> bool:
        """Wait for the asked-for update, at most `wait` seconds; True when none is left to wait for. A
        cancelled call stops waiting within a quarter of a second."""
        deadline = time.monotonic() + wait
        reported = -1.0
        while True:
            with self.cond:
                busy = self.pending is not None or self.build.running
                left = deadline - time.monotonic()
                if not busy or left <= 0:
                    return not busy
                self.cond.wait(min(left, 0.25))
                percent, stage = self.build.percent, self.build.stage
            if check:
                check("while waiting for the index update")
            if reporter and percent > reported:
                reported = percent
                reporter(round(percent, 1), f"updating the index: {stage}")


class IndexKeeper:
    """The index every call answers from: swept when the watcher cannot vouch for the notes, updated in the
    background, waited for briefly, and how fresh it was said with every result. Queries are serialised (the
    assistant keeps one index reader and one model session)."""

    def __init__(
        self, assistant: Assistant, watch: bool = True, call_wait: float = CALL_WAIT, sweep_age: float = SWEEP_AGE
    ) -> None:
        self.assistant = assistant
        self.call_wait, self.sweep_age = call_wait, sweep_age
        self.watch = NotesWatch(assistant.folders) if watch else None
        self.lock = threading.Lock()  # one query at a time
        self.last_sweep = float("-inf")
        self.stale: dict[str, list[str]] = {}  # what the last sweep found not yet in the index
        self.updater = Updater(assistant)

    def close(self) -> None:
        self.updater.close()
        if self.watch:
            self.watch.close()

    def usable(self) -> Manifest | None:
        """The live index's manifest, or None when there is none this process can answer from."""
        from assistant.index.store import IndexError_

        try:
            manifest = self.assistant.store.manifest()
        except IndexError_:
            return None
        return manifest if manifest.compatible() else None

    def check_roots(self) -> None:
        if missing := missing_roots(self.assistant.folders):
            raise gone(missing)

    def sweep(self) -> Manifest | None:
        """Sweep the notes when the watcher cannot vouch for them; ask for an update when anything changed.
        Returns the usable manifest (None: no index yet)."""
        from assistant.app.core import stale_files

        self.check_roots()
        manifest = self.usable()
        if manifest is None:
            self.updater.ensure()
            return None
        recent = time.monotonic() - self.last_sweep < self.sweep_age
        if self.watch is not None and self.watch.vouches() and recent:
            return manifest
        if self.watch is not None:
            self.watch.changed.clear()  # an event from now on calls for another sweep
        self.last_sweep = time.monotonic()
        stale = stale_files(manifest, self.assistant.folders)
        moved = manifest.notes != [str(f.resolve()) for f in self.assistant.folders]
        if any(stale.values()) or moved:
            self.updater.request()
        self.stale = {kind: keys for kind, keys in stale.items() if keys and kind != "touched"}
        return manifest

    def freshness(self) -> dict[str, Any]:
        """How fresh the answer is: {fresh, updating, stale, problem}."""
        with self.updater.cond:
            updating = self.updater.pending is not None or self.updater.build.running
            problem = None if updating else self.updater.build.error
        stale = {} if not updating and problem is None else self.stale
        if not updating and problem is None:
            self.stale = {}
        return {"fresh": not updating and not stale and problem is None, "updating": updating, "stale": stale,
                "problem": problem}  # fmt: skip

    def summary(self) -> dict[str, Any]:
        """One line's worth of freshness for every result: fresh or not, what is not in it yet, its age."""
        summary = self.freshness()
        manifest = self.usable()
        if manifest is not None:
            summary.update(notes=manifest.counts.files, built_at=manifest.built_at)
        return summary

    def building(self) -> dict[str, Any]:
        with self.updater.cond:
            b = self.updater.build.state(pending=False)
        return {"status": "building", "percent": b["percent"], "eta_seconds": b["eta_seconds"], "stage": b["stage"]}

    def run(
        self, work: Callable[[], Result], reporter: Reporter | None = None, check: Checkpoint | None = None
    ) -> Result:
        """Sweep if need be, wait briefly for an update, then do the work on the index as it is (or say that it
        is still being built). `check` runs at each stage boundary: a cancelled call stops there."""
        # With no index yet, say so at once; unless the last build failed: its retry likely fails as fast.
        if self.sweep() is not None or self.updater.build.error:
            self.updater.settle(self.call_wait, reporter, check)
        if self.usable() is None:
            running, error = self.updater.busy(), self.updater.build.error
            if error and not running:
                raise Unavailable(f"the index cannot be built: {error}")
            state = self.building()
            return building_markdown(state), state
        with self.lock:
            if check:
                check("before answering")
            self._sync_reader()
            return work()

    def _sync_reader(self) -> None:
        """Answer from the live generation: the updater may have switched it since the reader was opened."""
        reader = self.assistant._reader
        if reader is not None:
            try:
                live = self.assistant.store.current()
            except Exception:  # noqa: BLE001 — reader() says what is wrong
                live = None
            if live != reader.gen:
                self.assistant._reader = None

    def status(self) -> dict[str, Any]:
        """Never waits: what the index holds, how fresh it is, and the build in progress."""
        from assistant.app.core import stale_files
        from assistant.app.status import IndexStatus

        with self.updater.cond:
            build = self.updater.build.state(pending=self.updater.pending is not None)
        data: dict[str, Any] = {
            "folders": [str(f) for f in self.assistant.folders],
            "missing_folders": [str(f) for f in missing_roots(self.assistant.folders)],
            "index": str(self.assistant.settings.index),
            "built": False,
            "build": build,
            "watching": bool(self.watch and self.watch.armed.is_set()),
        }
        manifest = self.usable()
        if manifest is not None:
            stale = {} if data["missing_folders"] else stale_files(manifest, self.assistant.folders)
            status = IndexStatus.of(self.assistant.settings, manifest, stale)  # what `kt status` reports
            data.update(
                built=True,
                built_at=status.built_at,
                age=age(status.built_at),
                notes=status.files,
                sections=status.chunks,
                snippets=status.snippets,
                skipped=status.skipped,
                stale={kind: keys for kind, keys in status.stale.items() if keys},  # touched notes: not in status
            )
        return data

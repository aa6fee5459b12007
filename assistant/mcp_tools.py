"""The tools `kt mcp` serves, protocol-free: search the notes, read a note, list the notes, the index's state and
a re-index; each returns (Markdown for the model, structured content). `assistant/mcp_server.py` puts them on the
wire; here they are plain calls, testable without it.

An agent must be able to trust an answer and never wait on a build:
- a background thread (the updater) builds or updates the index; a call waits for it at most CALL_WAIT seconds,
  then answers from the index as it is and says so (or, with no index yet, says how far the build is);
- a watcher thread (watchfiles) vouches that nothing changed since the last sweep; when it cannot (a notes root
  replaced or gone, its events not yet armed, or the last sweep older than SWEEP_AGE), a call first sweeps the
  notes by stat (and content hash), as `kt ask` does, and asks the updater for an update if anything changed;
- a notes root that is gone is a tool error, and the index is kept as it was (never emptied).
"""

from __future__ import annotations

import fnmatch
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.answer import Answer
    from assistant.core import Assistant
    from assistant.model import Chunk
    from assistant.search import IndexReader
    from assistant.store import UpdateReport

MAX_K = 50  # as `kt ask -k`
MAX_QUESTION = 2000  # characters: a question, not a document
LIST_LIMIT, MAX_LIST_LIMIT = 30, 500  # list_notes page sizes (30 notes of the Kubernetes docs: under 8 KB)
NOTE_LINES, MAX_NOTE_LINES = 200, 2000  # get_note: lines given at once
CALL_WAIT = 2.0  # seconds a call waits for an update before answering from the index as it is
SWEEP_AGE = 5.0  # seconds after which the watcher's word is not enough: a call sweeps the notes by stat
# Where each build stage falls in one 0-100 progress figure (MCP progress must only increase).
STAGES = {
    "reading notes": (0, 10),
    "embedding chunks": (10, 70),
    "embedding snippets": (70, 95),
    "writing index": (95, 100),
}

Reporter = Callable[[float, str], None]
Result = tuple[str, dict[str, Any]]  # (Markdown, structured content)


class BadRequest(ValueError):
    """A tool argument the notes cannot answer; the message is for the caller (an agent) to read."""


class Unavailable(RuntimeError):
    """The notes or the index cannot be used right now (a notes folder gone, an index that cannot be written)."""


def missing_roots(folders: list[Path]) -> list[Path]:
    return [f for f in folders if not f.exists()]


# --- the watcher -------------------------------------------------------------------------------------------


class NotesWatch:
    """Whether the notes may have changed since the last sweep. A thread watches each notes root (watchfiles:
    inotify on Linux) and raises `changed` on any event that may touch a note: a note file, or a folder (a
    folder moved or copied in brings notes no event names). It re-arms when a root disappears, reappears or is
    replaced by another folder (`mv notes notes.old && mv notes.new notes`), and raises `changed` then too.
    `vouches()` is true only while it is armed and saw nothing."""

    def __init__(self, folders: list[Path], tick_ms: int = 300) -> None:
        self.folders = folders
        self.tick_ms = tick_ms
        self.changed = threading.Event()
        self.changed.set()  # the first call sweeps
        self.stop = threading.Event()
        self.armed = threading.Event()
        self.arms = 0  # how many times it (re)armed: for tests and index_status
        self.thread = threading.Thread(target=self._run, name="kt-notes-watch", daemon=True)
        self.thread.start()

    def vouches(self) -> bool:
        return self.armed.is_set() and not self.changed.is_set()

    def close(self) -> None:
        self.stop.set()

    def _roots(self) -> list[Path]:
        return sorted({f if f.is_dir() else f.parent for f in self.folders})

    @staticmethod
    def _identity(roots: list[Path]) -> list[tuple[int, int] | None]:
        ids: list[tuple[int, int] | None] = []
        for root in roots:
            try:
                st = os.stat(root)
                ids.append((st.st_dev, st.st_ino))
            except OSError:
                ids.append(None)
        return ids

    def _run(self) -> None:
        from watchfiles import watch

        while not self.stop.is_set():
            roots = self._roots()
            identity = self._identity(roots)
            if None in identity or missing_roots(self.folders):
                self.armed.clear()
                self.changed.set()
                self.stop.wait(self.tick_ms / 1000)  # poll until the root is back
                continue
            try:
                for changes in watch(*roots, watch_filter=self._wanted, debounce=50, step=10,
                                     rust_timeout=self.tick_ms, yield_on_timeout=True, stop_event=self.stop,
                                     raise_interrupt=False):  # fmt: skip
                    if not self.armed.is_set():  # the first tick: events are flowing from now on
                        self.arms += 1
                        self.armed.set()
                        self.changed.set()  # what happened before arming is found by a sweep
                    if changes:
                        self.changed.set()
                    if self._identity(roots) != identity:  # a root gone or replaced: watch it anew
                        break
            except Exception:  # noqa: BLE001 — inotify limits, a root gone mid-start: sweep, then try again
                self.stop.wait(self.tick_ms / 1000)
            self.armed.clear()
            self.changed.set()

    def _wanted(self, _change: object, path: str) -> bool:
        """A note, or a folder (present, or gone and named like one), not under a hidden or skipped folder."""
        from assistant.watch import is_note_path

        p = Path(path)
        if is_note_path(p):
            return True
        if any(part.startswith(".") for part in p.parts[-1:]):
            return False
        return p.is_dir() or (not p.exists() and not p.suffix)


# --- the updater and the state of the index ------------------------------------------------------------------


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


def describe(e: BaseException) -> str:
    """An exception as an agent can read it."""
    from assistant.store import IndexError_

    if isinstance(e, OSError) and not isinstance(e, IndexError_):
        return f"{e.filename or 'the index'}: {e.strerror or e}"
    return str(e) or e.__class__.__name__


class NotesTools:
    """The tools, protocol-free. Queries are serialised (the assistant keeps one index reader and one model
    session); updates run on the updater thread and never hold a query longer than `call_wait` seconds."""

    def __init__(
        self, assistant: Assistant, watch: bool = True, call_wait: float = CALL_WAIT, sweep_age: float = SWEEP_AGE
    ) -> None:
        self.assistant = assistant
        self.call_wait, self.sweep_age = call_wait, sweep_age
        self.watch = NotesWatch(assistant.folders) if watch else None
        self.lock = threading.Lock()  # one query at a time
        self.cond = threading.Condition()  # guards the fields below; notified when an update ends
        self.build = Build()
        self.pending: bool | None = None  # an update asked for: None no, False an update, True a full rebuild
        self.updates = 0  # updates finished
        self.last_sweep = float("-inf")
        self.stale: dict[str, list[str]] = {}  # what the last sweep found not yet in the index
        self.closed = False
        self._sections: tuple[IndexReader, dict[str, list[tuple[int, int, int]]]] | None = None
        assistant.progress = self._progress  # builds report here, not to a terminal bar
        self.updater = threading.Thread(target=self._updater, name="kt-index-updater", daemon=True)
        self.request_update()  # at start-up: build the index, or bring it up to date
        self.updater.start()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        if self.watch:
            self.watch.close()

    # --- the updater -----------------------------------------------------------------------------------

    def request_update(self, full: bool = False) -> None:
        with self.cond:
            self.pending = bool(self.pending) or full
            self.cond.notify_all()

    def _updater(self) -> None:
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
                    raise Unavailable(self._gone(missing))
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

    def _gone(self, missing: list[Path]) -> str:
        kept = "the index is kept as it was"
        return f"notes folder not found: {', '.join(map(str, missing))} ({kept}; put the folder back or fix --notes)"

    # --- before every call: fresh, or saying how fresh ---------------------------------------------------

    def _usable(self) -> dict[str, Any] | None:
        """The live index's manifest, or None when there is none this process can answer from."""
        from assistant.store import IndexError_

        try:
            manifest = self.assistant.store.manifest()
        except IndexError_:
            return None
        return manifest if self.assistant.store.compatible(manifest) else None

    def _sweep(self) -> dict[str, Any] | None:
        """Sweep the notes when the watcher cannot vouch for them; ask for an update when anything changed.
        Returns the usable manifest (None: no index yet)."""
        from assistant.core import stale_files

        if missing := missing_roots(self.assistant.folders):
            raise Unavailable(self._gone(missing))
        manifest = self._usable()
        if manifest is None:
            with self.cond:
                if self.pending is None and not self.build.running:
                    self.pending = False  # no index and no build: build it (again, if the last one failed)
                    self.cond.notify_all()
            return None
        recent = time.monotonic() - self.last_sweep < self.sweep_age
        if self.watch is not None and self.watch.vouches() and recent:
            return manifest
        if self.watch is not None:
            self.watch.changed.clear()  # an event from now on calls for another sweep
        self.last_sweep = time.monotonic()
        stale = stale_files(manifest, self.assistant.folders)
        moved = manifest.get("notes") != [str(f.resolve()) for f in self.assistant.folders]
        if any(stale.values()) or moved:
            self.request_update()
        self.stale = {kind: keys for kind, keys in stale.items() if keys and kind != "touched"}
        return manifest

    def _settle(self, reporter: Reporter | None) -> bool:
        """Wait for the asked-for update, at most call_wait seconds; True when none is left to wait for."""
        deadline = time.monotonic() + self.call_wait
        reported = -1.0
        while True:
            with self.cond:
                busy = self.pending is not None or self.build.running
                left = deadline - time.monotonic()
                if not busy or left <= 0:
                    return not busy
                self.cond.wait(min(left, 0.25))
                percent, stage = self.build.percent, self.build.stage
            if reporter and percent > reported:
                reported = percent
                reporter(round(percent, 1), f"updating the index: {stage}")

    def freshness(self) -> dict[str, Any]:
        """How fresh the answer is: {fresh, updating, stale, problem}."""
        with self.cond:
            updating = self.pending is not None or self.build.running
            problem = None if updating else self.build.error
        stale = {} if not updating and problem is None else self.stale
        if not updating and problem is None:
            self.stale = {}
        return {"fresh": not updating and not stale and problem is None, "updating": updating, "stale": stale,
                "problem": problem}  # fmt: skip

    def building(self) -> dict[str, Any]:
        with self.cond:
            b = self.build
            eta = b.eta()
            return {"status": "building", "percent": round(b.percent, 1),
                    "eta_seconds": None if eta is None else round(eta), "stage": b.stage}  # fmt: skip

    def run(self, work: Callable[[], Result], reporter: Reporter | None = None) -> Result:
        """Sweep if need be, wait briefly for an update, then do the work on the index as it is (or say that it
        is still being built)."""
        # With no index yet, say so at once; unless the last build failed: its retry likely fails as fast.
        if self._sweep() is not None or self.build.error:
            self._settle(reporter)
        manifest = self._usable()
        if manifest is None:
            with self.cond:
                running, error = self.build.running or self.pending is not None, self.build.error
            if error and not running:
                raise Unavailable(f"the index cannot be built: {error}")
            state = self.building()
            return building_markdown(state), state
        with self.lock:
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

    # --- the tools ------------------------------------------------------------------------------------

    def search(
        self,
        question: str,
        k: int = 5,
        mode: str = "hybrid",
        path: str | None = None,
        detail: str = "full",
        reporter: Reporter | None = None,
    ) -> Result:
        if not question.strip():
            raise BadRequest("the question is empty: ask it in plain words, e.g. 'how do I undo a rollout'")
        if len(question) > MAX_QUESTION:
            raise BadRequest(f"the question is {len(question)} characters long; ask it in at most {MAX_QUESTION}")
        if not 1 <= k <= MAX_K:
            raise BadRequest(f"k must be between 1 and {MAX_K} (it was {k})")
        if mode not in MODES:
            raise BadRequest(f"mode must be one of {', '.join(MODES)} (it was {mode!r})")
        if detail not in DETAILS:
            raise BadRequest(f"detail must be one of {', '.join(DETAILS)} (it was {detail!r})")
        where = path_filter(path) if path else None

        def work() -> Result:
            answer = self._answer(question, k, mode, where)
            index = self.index_summary()
            if detail == "brief":
                data, markdown = brief_json(answer), brief_markdown(answer)
            else:
                from assistant.plain import markdown as full_markdown

                data, markdown = answer.to_json(), full_markdown(answer, once=True)
            data.update(status="ready", mode=mode, index=index)
            return markdown + "\n" + index_line(index) + "\n", data

        return self.run(work, reporter)

    def _answer(self, question: str, k: int, mode: str, where: Callable[[str], bool] | None) -> Answer:
        import dataclasses

        from assistant.search import CONFIG

        if mode == "exact":
            return exact_answer(self.assistant.reader(), question, k, where)
        config = self.assistant.rank_config or CONFIG
        if mode == "lexical":
            config = dataclasses.replace(config, lexical_weight=1.0)
        if where is not None:  # the filter may leave few of the usual candidates: rank them all
            config = dataclasses.replace(config, pool=max(config.pool, self.assistant.reader().n_chunks))
        saved, self.assistant.rank_config = self.assistant.rank_config, config
        try:
            return self.assistant.ask(question, k=k, where=where)
        finally:
            self.assistant.rank_config = saved

    def get_note(
        self, path: str, from_line: int | None = None, max_lines: int = NOTE_LINES, reporter: Reporter | None = None
    ) -> Result:
        """`path:line`: the heading section around that line. `path` (with from_line): its lines, a page at a
        time."""
        at = re.fullmatch(r"(.+):(\d+)", path.strip())
        line = int(at.group(2)) if at else None
        name = at.group(1) if at else path
        if not 1 <= max_lines <= MAX_NOTE_LINES:
            raise BadRequest(f"max_lines must be between 1 and {MAX_NOTE_LINES} (it was {max_lines})")
        if from_line is not None and from_line < 1:
            raise BadRequest(f"from_line must be 1 or more (it was {from_line})")

        def work() -> Result:
            key = note_key(self.assistant.folders, name)
            spans = self._chunk_spans()
            if key not in spans:
                raise BadRequest(not_indexed(name, key, list(spans)))
            if line is not None and from_line is None:
                return self._section(key, line, spans[key])
            return self._lines(key, from_line or line or 1, max_lines)

        return self.run(work, reporter)

    def _section(self, key: str, line: int, spans: list[tuple[int, int, int]]) -> Result:
        last = spans[-1][1]
        if not 1 <= line <= last:
            raise BadRequest(f"line {line} is outside {key}, which has lines 1-{last}")
        at = [i for start, end, i in spans if start <= line <= end]
        before = [i for start, _, i in spans if start <= line]
        section = section_json(self.assistant.reader().section_of((at or before or [spans[0][2]])[-1]))
        return section_markdown(section), {"kind": "section", **section, "index": self.index_summary()}

    def _lines(self, key: str, first: int, count: int) -> Result:
        from assistant.notes import NoteFile, UnreadableNote, read_note

        file = note_file(self.assistant.folders, key)
        try:
            st = file.stat()
            text, _, _ = read_note(NoteFile(key, str(file), st.st_size, st.st_mtime_ns))
        except (OSError, UnreadableNote) as e:
            raise BadRequest(f"{key} cannot be read now: {e}") from None
        lines = text.splitlines()
        if first > max(len(lines), 1):
            raise BadRequest(f"line {first} is past the end of {key}, which has {len(lines)} lines")
        last = min(len(lines), first + count - 1)
        data = {"kind": "lines", "path": key, "start_line": first, "end_line": last, "total_lines": len(lines),
                "text": "\n".join(lines[first - 1 : last]), "next_from_line": last + 1 if last < len(lines) else None,
                "index": self.index_summary()}  # fmt: skip
        return lines_markdown(data), data

    def list_notes(
        self, prefix: str = "", cursor: str | None = None, limit: int = LIST_LIMIT, reporter: Reporter | None = None
    ) -> Result:
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise BadRequest(f"limit must be between 1 and {MAX_LIST_LIMIT} (it was {limit})")

        def work() -> Result:
            spans = self._chunk_spans()
            # every indexed note, as kt status counts them: a note with no passage (front matter only) has 0
            indexed = set(self.assistant.store.manifest().get("files", {})) | set(spans)
            keys = sorted(key for key in indexed if key.startswith(prefix))
            start = 0
            if cursor:
                if cursor not in keys:
                    raise BadRequest("the cursor is not one list_notes gave for this prefix: start again without it")
                start = keys.index(cursor) + 1
            page = keys[start : start + limit]
            data = {
                "folders": [str(f) for f in self.assistant.folders],
                "prefix": prefix,
                "total": len(keys),
                "notes": [{"path": key, "sections": len(spans.get(key, []))} for key in page],
                "next_cursor": page[-1] if page and start + limit < len(keys) else None,
                "index": self.index_summary(),
            }
            return list_markdown(data), data

        return self.run(work, reporter)

    def index_status(self) -> Result:
        """Never waits: what the index holds, how fresh it is, and the build in progress."""
        from assistant.core import stale_files
        from assistant.status import IndexStatus

        with self.cond:
            b = self.build
            updating = b.running or self.pending is not None
            eta = b.eta()
            build = {"running": updating, "percent": round(b.percent, 1), "stage": b.stage,
                     "eta_seconds": None if eta is None else round(eta), "error": b.error}  # fmt: skip
        data: dict[str, Any] = {
            "folders": [str(f) for f in self.assistant.folders],
            "missing_folders": [str(f) for f in missing_roots(self.assistant.folders)],
            "index": str(self.assistant.settings.index),
            "built": False,
            "build": build,
            "watching": bool(self.watch and self.watch.armed.is_set()),
        }
        manifest = self._usable()
        if manifest is not None:
            stale = {} if data["missing_folders"] else stale_files(manifest, self.assistant.folders)
            status = IndexStatus.of(self.assistant.settings, manifest, stale)  # what `kt status` reports, named for MCP
            data.update(
                built=True,
                built_at=status.built_at,
                age=age(status.built_at),
                notes=status.files,
                sections=status.chunks,
                snippets=status.snippets,
                skipped=status.skipped,
                stale={kind: keys for kind, keys in status.stale.items() if keys},
            )
        return status_markdown(data), data

    def reindex(self, full: bool = False, reporter: Reporter | None = None) -> Result:
        if missing := missing_roots(self.assistant.folders):
            raise Unavailable(self._gone(missing))
        self.request_update(full)
        self._settle(reporter)
        return self.index_status()

    def index_summary(self) -> dict[str, Any]:
        """One line's worth of freshness for every result: fresh or not, what is not in it yet, its age."""
        summary = self.freshness()
        manifest = self._usable()
        if manifest is not None:
            summary.update(notes=manifest["counts"]["files"], built_at=manifest.get("built_at"))
        return summary

    def _chunk_spans(self) -> dict[str, list[tuple[int, int, int]]]:
        """{note key: [(start line, end line, chunk number)]}, read once per index generation."""
        reader = self.assistant.reader()
        if self._sections is None or self._sections[0] is not reader:
            spans: dict[str, list[tuple[int, int, int]]] = {}
            for i in range(reader.n_chunks):
                chunk = reader.chunk(i)
                spans.setdefault(chunk.path, []).append((chunk.start_line, chunk.end_line, i))
            self._sections = (reader, dict(sorted(spans.items())))
        return self._sections[1]


MODES = ("hybrid", "lexical", "exact")
DETAILS = ("brief", "full")


def path_filter(glob: str) -> Callable[[str], bool]:
    """A note path filter: a glob (`tasks/*`, `*.yaml`; `**` like `*`) or a folder prefix (`tasks/`)."""
    glob = glob.strip()
    if not glob:
        raise BadRequest("the path filter is empty")
    if any(c in glob for c in "*?["):
        pattern = glob.replace("**", "*")
        return lambda key: fnmatch.fnmatchcase(key, pattern)
    prefix = glob.rstrip("/")
    return lambda key: key == prefix or key.startswith(prefix + "/")


def exact_answer(reader: IndexReader, text: str, k: int, where: Callable[[str], bool] | None) -> Answer:
    """The passages and snippets holding the text as it is (case-insensitive), in the order of the notes."""
    from assistant.answer import Answer
    from assistant.search import Hit, SnippetHit

    needle = text.strip().casefold()
    passages: list[Hit] = []
    for ci in range(reader.n_chunks):
        chunk = reader.chunk(ci)
        if needle in chunk.text.casefold() and (where is None or where(chunk.path)):
            passages.append(Hit(len(passages) + 1, 1.0, chunk, ci))
            if len(passages) == k:
                break
    shown = {h.index: h.rank for h in passages}
    snippets: list[SnippetHit] = []
    seen: set[str] = set()
    for si in range(reader.n_snippets):
        snippet = reader.snippet(si)
        code = snippet.code.strip()
        if needle in code.casefold() and code not in seen and (where is None or where(snippet.path)):
            seen.add(code)
            owner = shown.get(int(reader.snippet_chunk[si]))
            snippets.append(SnippetHit(len(snippets) + 1, 1.0, snippet, si, owner))
            if len(snippets) == k:
                break
    return Answer(text, passages, snippets, relevant=bool(passages or snippets))


def note_file(folders: list[Path], key: str) -> Path:
    from assistant.notes import folder_labels

    for folder, prefix in sorted(folder_labels(folders).items(), key=lambda item: -len(item[1])):
        if folder.is_file() and key == (prefix.rstrip("/") or folder.name):
            return folder
        if key.startswith(prefix) and not folder.is_file():
            return folder.joinpath(*PurePosixPath(key[len(prefix) :]).parts)
    raise BadRequest(f"{key} is outside the notes folders")


def not_indexed(name: str, key: str, keys: list[str]) -> str:
    """Why a note cannot be read, with the closest indexed names."""
    import difflib

    base = PurePosixPath(key).name
    near = [k for k in keys if PurePosixPath(k).name == base][:3]
    near += [k for k in difflib.get_close_matches(key, keys, n=3, cutoff=0.6) if k not in near]
    hint = f" Did you mean: {', '.join(near[:3])}?" if near else " list_notes gives the indexed notes."
    return f"{name} is not an indexed note.{hint}"


def plural(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def age(built_at: str | None) -> str:
    """'12 min ago' from a manifest's built_at."""
    import datetime

    if not built_at:
        return "at an unknown time"
    try:
        then = datetime.datetime.strptime(built_at, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return f"at {built_at}"
    seconds = max(0, int((datetime.datetime.now(then.tzinfo) - then).total_seconds()))
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if unit == 'day' and n > 1 else ''} ago"
    return f"{seconds} s ago"


def instructions(tools: NotesTools) -> str:
    """The server's instructions, with what the index holds now."""
    manifest = tools._usable()
    if manifest is None:
        held = "The index is being built (index_status says how far)."
    else:
        held = f"The index holds {plural(manifest['counts']['files'], 'note')}, built {age(manifest.get('built_at'))}."
    return (
        "Answers Kubernetes questions from the user's own notes (commands, manifests, comparisons, warnings about "
        f"removed kubectl flags), offline. {held} Prefer it to guessing: call search_notes with the question in "
        "plain words (detail='brief' for commands and citations only), cite the file:line it gives, and call "
        "get_note('path:line') to read the whole section. Every result says whether the index is fresh."
    )


def note_key(folders: list[Path], path: str) -> str:
    """The index key of a note named as answers name it (or by an absolute path inside a notes folder).
    Refuses anything that is, or resolves to, a place outside the notes folders: `..`, absolute paths elsewhere,
    symlinks pointing out."""
    from assistant.notes import folder_labels

    if not path.strip() or "\x00" in path:
        raise BadRequest("the path is empty")
    outside = BadRequest(f"{path} is outside the notes folders")
    labels = folder_labels(folders)
    candidates: list[tuple[Path, str, str]] = []  # (folder, its key prefix, path inside it)
    for folder, prefix in labels.items():
        if os.path.isabs(path):
            rel = os.path.relpath(os.path.abspath(path), folder)
            if rel != os.pardir and not rel.startswith(os.pardir + os.sep):
                candidates.append((folder, prefix, rel.replace(os.sep, "/")))
        elif path.startswith(prefix):
            candidates.append((folder, prefix, path[len(prefix) :]))
    if not candidates:
        raise outside
    folder, prefix, rel = max(candidates, key=lambda c: len(c[1]))  # the most specific folder label
    parts = PurePosixPath(rel).parts
    if not parts or os.pardir in parts or PurePosixPath(rel).is_absolute():
        raise outside
    real_folder = os.path.realpath(folder)
    real = os.path.realpath(os.path.join(folder, *parts))
    if os.path.commonpath([real_folder, real]) != real_folder:
        raise BadRequest(f"{path} leads outside the notes folders (a symlink), so it is not read")
    return prefix + "/".join(parts)


def section_json(pieces: list[Chunk]) -> dict[str, Any]:
    first, last = pieces[0], pieces[-1]
    return {
        "path": first.path,
        "start_line": first.start_line,
        "end_line": last.end_line,
        "headings": list(first.headings),
        "text": "\n\n".join(p.text for p in pieces),
    }


# --- Markdown for the model to read (a full answer is `kt ask --md`'s: assistant/plain.py) --------------------


def one_line(text: str, headings: tuple[str, ...] | list[str] = (), limit: int = 160) -> str:
    """The first line of prose of a passage (not its heading), at most `limit` characters."""
    for line in text.splitlines():
        line = line.strip().lstrip("#>-*0123456789. ").strip()
        if line and line not in headings and not line.startswith(("```", "~~~", "{{", "<")):
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""


def brief_json(answer: Answer) -> dict[str, Any]:
    """Commands, citations and one line per passage: a few hundred tokens."""
    data: dict[str, Any] = {
        "question": answer.question,
        "relevant": answer.relevant,
        "lead": answer.lead,
        "snippets": [
            {
                "rank": s.rank,
                "lang": s.snippet.lang,
                "code": s.snippet.code,
                "label": s.snippet.label,
                "path": s.snippet.path,
                "start_line": s.snippet.start_line,
            }
            for s in (answer.snippets if answer.relevant else [])
        ],  # fmt: skip
        "passages": [
            {
                "rank": h.rank,
                "path": h.chunk.path,
                "start_line": h.chunk.start_line,
                "end_line": h.chunk.end_line,
                "headings": list(h.chunk.headings),
                "line": one_line(h.chunk.text, h.chunk.headings),
            }
            for h in answer.passages
        ],  # fmt: skip
        "warnings": [{"snippet": w.snippet, "kind": w.kind, "message": w.headline} for w in answer.warnings],
    }
    if answer.notice:
        data["notice"] = answer.notice
    return data


def brief_markdown(answer: Answer) -> str:
    from assistant.plain import _fence
    from assistant.render import heading_path, not_relevant, sanitize

    out = [f"### {sanitize(' '.join(answer.question.split()))}", ""]
    if answer.notice:
        out += [f"> **{sanitize(answer.notice)}**", ""]
    if not answer.relevant:
        out += [f"> **{not_relevant(answer)}**", ""]
    for s in answer.snippets if answer.relevant else []:
        label = sanitize(s.snippet.label or heading_path(s.snippet.headings))
        out += [f"**[{s.rank}] {label}** (`{s.snippet.path}:{s.snippet.start_line}`)", ""]
        out += [*_fence(sanitize(s.snippet.code), s.snippet.lang), ""]
        warned = [f"> ⚠ {sanitize(w.headline)}" for w in answer.warnings if w.snippet == s.rank]
        out += [*warned, ""] if warned else []
    if answer.passages:
        out.append("**Passages**")
    for h in answer.passages:
        where = f"`{h.chunk.path}:{h.chunk.start_line}`"
        line = sanitize(one_line(h.chunk.text, h.chunk.headings))
        out.append(f"{h.rank}. {where} {sanitize(heading_path(h.chunk.headings))}" + (f": {line}" if line else ""))
    return "\n".join(out).strip() + "\n"


def index_line(index: dict[str, Any]) -> str:
    """Whether the answer comes from a fresh index, in one line."""
    held = f"{plural(index['notes'], 'note')}, built {age(index.get('built_at'))}" if "notes" in index else "no index"
    if index["fresh"]:
        return f"*Index: up to date ({held}).*"
    stale = [f"{key} ({kind})" for kind, keys in index["stale"].items() for key in keys]
    shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
    why = "being updated" if index["updating"] else f"not updated ({index['problem']})" if index["problem"] else ""
    lag = f"; not in it yet: {shown}" if stale else ""
    return f"*Index: {why or 'stale'}, answered from it as it is ({held}){lag}.*"


def building_markdown(state: dict[str, Any]) -> str:
    eta = f", about {state['eta_seconds']} s left" if state["eta_seconds"] is not None else ""
    return (
        f"The index of the notes is being built: {state['percent']:.0f}%{eta}. Nothing can be searched until it "
        "exists; ask again in a moment (index_status says how far it is).\n"
    )


def section_markdown(section: dict[str, Any]) -> str:
    head = " › ".join(section["headings"]) or section["path"]
    where = f"`{section['path']}:{section['start_line']}-{section['end_line']}`"
    return f"# {head} — {where}\n\n{section['text']}\n"


def lines_markdown(data: dict[str, Any]) -> str:
    more = (
        f"\n\n(lines {data['start_line']}-{data['end_line']} of {data['total_lines']}: "
        f"get_note(path={data['path']!r}, from_line={data['next_from_line']}) for more)"
        if data["next_from_line"]
        else ""
    )
    return f"# `{data['path']}:{data['start_line']}-{data['end_line']}`\n\n{data['text']}{more}\n"


def list_markdown(data: dict[str, Any]) -> str:
    first = plural(data["total"], "note") + (f" under {data['prefix']!r}" if data["prefix"] else "")
    lines = [f"{first} in {', '.join(data['folders'])}; {len(data['notes'])} here:"]
    lines += [f"- {n['path']} ({n['sections']} sections)" for n in data["notes"]]
    if data["next_cursor"]:
        lines.append(f"More: list_notes(cursor={data['next_cursor']!r}).")
    return "\n".join(lines) + "\n\n" + index_line(data["index"]) + "\n"


def status_markdown(data: dict[str, Any]) -> str:
    lines = [f"Notes folders: {', '.join(data['folders'])}", f"Index: {data['index']}"]
    if data["missing_folders"]:
        lines.append(f"Missing: {', '.join(data['missing_folders'])} (the index is kept as it was).")
    build = data["build"]
    if build["running"]:
        eta = f", about {build['eta_seconds']} s left" if build["eta_seconds"] is not None else ""
        lines.append(f"Updating: {build['percent']:.0f}%{eta} ({build['stage'] or 'starting'}).")
    elif build["error"]:
        lines.append(f"The last update failed: {build['error']}")
    if not data["built"]:
        lines.append("No index yet.")
        return "\n".join(lines) + "\n"
    lines.append(
        f"{plural(data['notes'], 'note')}, {plural(data['sections'], 'section')}, "
        f"{plural(data['snippets'], 'snippet')}; "
        f"built {data['age']} ({data['built_at']})."
    )
    stale = [f"{key} ({kind})" for kind, keys in data["stale"].items() for key in keys]
    lines.append(f"Not in the index yet: {', '.join(stale)}." if stale else "Up to date with the notes.")
    if data["skipped"]:
        lines.append(f"Skipped: {', '.join(f'{k} ({why})' for k, why in data['skipped'].items())}.")
    return "\n".join(lines) + "\n"

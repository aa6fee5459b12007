"""The one API that the CLI, the REPL and MCP call: open (and heal) the index, keep it fresh, answer questions
(parse once, retrieve, compose)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.app.lookup import NoteLookup, NotInNotes  # noqa: F401 (NotInNotes: callers catch it from here)
from assistant.config import Settings
from assistant.index.build import UpdateReport, update_index
from assistant.index.store import IndexBusy, IndexCorrupt, IndexMissing, IndexStore, IndexUnwritable
from assistant.index.vectors import Progress

if TYPE_CHECKING:
    from assistant.answer.types import Answer
    from assistant.app.status import IndexStatus
    from assistant.index.embed import Embedder
    from assistant.index.generation import IndexReader, Manifest
    from assistant.query.followup import Conversation
    from assistant.rank.retrieve import Retriever
    from assistant.rank.search import RankConfig

Notice = Callable[[str], None]
BUSY_WAIT = 2.0  # seconds a question waits for another process's update before answering from the index as it is


class NoIndex(Exception):
    """There is no usable index and none can be built here; the message says why."""


def say(message: str) -> None:
    """A one-line notice on stderr; file names from notes may hold escape sequences, so they are neutralised."""
    from assistant.views.terminal import sanitize

    print(f"kt: {sanitize(message)}", file=sys.stderr)


def stale_files(manifest: Manifest, folders: list[Path]) -> dict[str, list[str]]:
    """Files added, removed, or changed since the index saw them. By stat first (cheap); a file whose stat
    differs counts as changed only when its content hash does too (`touch`, or a copy of the same bytes,
    changes nothing)."""
    return _stale(manifest, folders)[0]


def _stale(manifest: Manifest, folders: list[Path]) -> tuple[dict[str, list[str]], dict[str, int]]:
    """stale_files, and the size of each note found: {key: bytes}."""
    from assistant.ingest.notes import file_sha256, scan

    known, skipped = manifest.files, manifest.skipped
    seen = {}
    for note in scan(folders, []):
        seen[note.key] = note
    added = sorted(k for k in seen if k not in known and k not in skipped)
    restat = sorted(
        k for k, n in seen.items() if k in known and (known[k].size, known[k].mtime_ns) != (n.size, n.mtime_ns)
    )
    changed = [k for k in restat if file_sha256(seen[k].path) != known[k].sha256]
    removed = sorted(k for k in known if k not in seen)
    touched = [k for k in restat if k not in changed]  # same bytes, new stat: the manifest only needs the stat
    stale = {"added": added, "changed": changed, "removed": removed, "touched": touched}
    return stale, {k: n.size for k, n in seen.items()}


LONG_UPDATE_BYTES = 1_000_000  # an update reading this much (or LONG_UPDATE_FILES notes) says so before it starts
LONG_UPDATE_FILES = 50


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def long_update(stale: dict[str, list[str]], sizes: dict[str, int]) -> str | None:
    """What to say before an update that may take minutes (LONG_UPDATE_BYTES or LONG_UPDATE_FILES to read)."""
    reading = stale["added"] + stale["changed"]
    size = sum(sizes[k] for k in reading)
    if size >= LONG_UPDATE_BYTES or len(reading) >= LONG_UPDATE_FILES:
        return f"updating the index ({plural(len(reading), 'file')}, {size / 1e6:.1f} MB)…"
    return None


def updated(report: UpdateReport) -> str:
    """The one line an update before a question prints."""
    kinds = (("added", report.added), ("changed", report.changed), ("removed", report.removed))
    parts = [f"{len(v)} {k}" for k, v in kinds if v]
    return f"index updated: {', '.join(parts)} ({plural(report.embedded, 'chunk')} embedded)"


class Assistant:
    def __init__(
        self,
        settings: Settings,
        notice: Notice = say,
        progress: Progress | None = None,
        embedder: Embedder | None = None,
        one_shot: bool = False,
    ) -> None:
        """`one_shot`: this process answers once and exits (`kt ask QUESTION`), so the model starts as fast as
        it can rather than answering as fast as it can."""
        self.settings = settings
        self.one_shot = one_shot
        self.store = IndexStore(settings.index)
        self.notice = notice
        self.progress = progress
        self._embedder = embedder
        self._embedder_lock = threading.Lock()  # `kt mcp` updates on one thread and answers on another
        self._reader: IndexReader | None = None
        self.lookup = NoteLookup(self.folders, self.reader, lambda: self.store.manifest().files)
        self.rank_config: RankConfig | None = None  # None: the defaults (search.CONFIG)

    @property
    def folders(self) -> list[Path]:
        return list(self.settings.notes)

    def embedder(self) -> Embedder:
        with self._embedder_lock:  # the model loads once
            if self._embedder is None:
                from assistant.index.embed import OnnxEmbedder

                self._embedder = OnnxEmbedder(quick_start=self.one_shot)
            return self._embedder

    def update(self, force: bool = False, wait: bool | float = True, on_wait: Notice | None = None) -> UpdateReport:
        try:
            report = update_index(
                self.store, self.folders, self.embedder, self.progress, wait, on_wait or self._waiting, force
            )
        finally:
            if self.progress:
                self.progress("done", 1, 1)  # whatever happened, no progress bar outlives the update
        for warning in report.warnings:
            self.notice(warning)
        self._reader = None
        return report

    def _waiting(self, owner: str) -> None:
        self.notice(f"waiting for another kt that is updating the index ({owner})")

    def reader(self) -> IndexReader:
        """The live index, built if missing and rebuilt if damaged."""
        if self._reader is not None:
            return self._reader
        try:
            manifest = self.store.manifest(verify=True)
            if not manifest.compatible():
                raise IndexCorrupt("the index was built by another model or chunker version")
        except IndexMissing:
            self.notice(f"no index yet for {', '.join(map(str, self.folders))}: building it")
            self._build(force=False, why="there is no index to answer from")
        except IndexCorrupt as e:
            self.notice(f"{e}: rebuilding the index")
            self._build(force=True, why="the index is damaged and cannot be rebuilt here")
        from assistant.index.generation import IndexReader

        self._reader = IndexReader(self.store.current())
        self.store.mark_used()  # for `kt status --all` and `kt prune --older-than`
        return self._reader

    def _build(self, force: bool, why: str) -> None:
        try:
            self.update(force=force)
        except IndexUnwritable as e:
            raise NoIndex(f"{e}: {why}") from None

    def refresh(self) -> UpdateReport | None:
        """Before answering: notice edited, added and deleted notes and index just those."""
        try:
            manifest = self.store.manifest()
        except (IndexMissing, IndexCorrupt):
            return None  # reader() builds or heals it
        stale, sizes = _stale(manifest, self.folders)
        if not any(stale.values()) and manifest.notes == [str(f.resolve()) for f in self.folders]:
            return None
        edited = any(stale[k] for k in ("added", "changed", "removed"))
        if ahead := long_update(stale, sizes):
            self.notice(ahead)
        try:
            report = self.update(wait=BUSY_WAIT, on_wait=lambda owner: None)  # the wait is short: no notice
        except IndexBusy as e:
            if edited:
                self.notice(f"{e}; answering from the current index")
            return None
        except IndexUnwritable as e:
            if edited:  # only touched (same bytes): the answer is the same, nothing to say
                self.notice(f"{e}; answering from the index as it is, without your latest edits")
            return None
        if report.touched:
            self.notice(updated(report))
        return report

    def ask(
        self,
        question: str,
        k: int | None = None,
        n_snippets: int | None = None,
        offset: int = 0,
        conversation: Conversation | None = None,
        where: Callable[[str], bool] | None = None,
        check: Callable[[str], None] | None = None,
    ) -> Answer:
        """Parse once, retrieve (each side of a comparison too), compose. `conversation`: follow-ups use what came
        before; `where`: only the notes it accepts (by key); `check(stage)` may raise to stop between stages."""
        from assistant.answer.compose import compose_answer
        from assistant.query.parse import parse_query

        query = parse_query(question, conversation)
        k = k or self.settings.top_k
        for attempt in (1, 2):
            retriever = self.retriever(where)
            try:
                found = retriever.retrieve(query, k, n_snippets or k, offset, check)
                sides = retriever.sides(query) if offset == 0 and found.relevant else []
                break
            except IndexCorrupt as e:  # damaged (or removed) while this process held it open
                if attempt == 2:
                    raise
                self.notice(f"{e}: rebuilding the index")
                self._reader = None
                self.update(force=True)
        answer = compose_answer(question, query, found, sides, offset)
        if conversation is not None:
            conversation.add(question, query.text, query.comparison)
        return answer

    def retriever(self, where: Callable[[str], bool] | None = None) -> Retriever:
        """Retrieval over the live index with this assistant's model and ranking (`rank_config`)."""
        from assistant.rank.retrieve import Retriever
        from assistant.rank.search import CONFIG

        return Retriever(
            self.reader(), self.embedder().embed, self.lookup.note_named, self.rank_config or CONFIG, where
        )

    def status(self) -> IndexStatus:
        """The settings in force and the index: what it holds, and which notes changed since it was built."""
        from assistant.app.status import IndexStatus

        return IndexStatus.read(self.settings, self.store)

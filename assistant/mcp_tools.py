"""The tools `kt mcp` serves, protocol-free: search the notes, read a section, list the notes; and the Markdown
an agent reads. `assistant/mcp_server.py` puts them on the wire; here they are plain calls, testable without it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.answer import Answer
    from assistant.core import Assistant
    from assistant.model import Chunk
    from assistant.search import IndexReader

MAX_K = 50  # as `kt ask -k`
PASSAGE_LINES = 40  # a passage longer than this is cut in the Markdown (read_section gives all of it)
# Where each build stage falls in one 0-100 progress figure (MCP progress must only increase).
STAGES = {
    "reading notes": (0, 10),
    "embedding chunks": (10, 70),
    "embedding snippets": (70, 95),
    "writing index": (95, 100),
}

Reporter = Callable[[float, str], None]


class BadRequest(ValueError):
    """A tool argument the notes cannot answer; the message is for the caller (an agent) to read."""


class NotesWatch:
    """Whether the notes may have changed since the index was last brought up to date. A thread watches the
    notes folders (watchfiles: inotify on Linux) and raises a flag on any change to a note; a call refreshes the
    index only then, instead of stat-ing every note on every call (23 ms for the 1,690 Kubernetes docs pages).
    Without a watcher (it could not start), every call refreshes, as `kt ask` does."""

    def __init__(self, folders: list[Path]) -> None:
        self.changed = threading.Event()
        self.changed.set()  # the first call refreshes
        self.stop = threading.Event()
        self.watching = False
        roots = sorted({f if f.is_dir() else f.parent for f in folders if f.exists()})
        if roots:
            self.thread = threading.Thread(target=self._watch, args=(roots,), name="kt-notes-watch", daemon=True)
            self.thread.start()
            self.watching = True

    def _watch(self, roots: list[Path]) -> None:
        from watchfiles import watch

        from assistant.watch import is_note_path

        try:
            for _ in watch(*roots, watch_filter=lambda _c, p: is_note_path(p), debounce=50, step=10,
                           stop_event=self.stop, raise_interrupt=False):  # fmt: skip
                self.changed.set()
        except Exception:  # noqa: BLE001 — no watcher (inotify limits, a folder gone): refresh on every call
            pass
        self.watching = False

    def stale(self) -> bool:
        """True when a refresh is due (and clears the flag: a change during the refresh raises it again)."""
        if not self.watching:
            return True
        if self.changed.is_set():
            self.changed.clear()
            return True
        return False


class NotesTools:
    """The tools, protocol-free: each call keeps the index fresh first, as `kt ask` does (when the notes
    changed, see NotesWatch). Calls are serialised (the assistant keeps one index reader and one model
    session)."""

    def __init__(self, assistant: Assistant, watch: bool = True) -> None:
        self.assistant = assistant
        self.watch = NotesWatch(assistant.folders) if watch else None
        self.lock = threading.Lock()
        self._reporter: Reporter | None = None
        self._sections: tuple[IndexReader, dict[str, list[tuple[int, int, int]]]] | None = None
        self._done = 0.0
        assistant.progress = self._progress  # builds report through the current call, not a terminal bar

    def run(self, work: Callable[[], Any], reporter: Reporter | None = None) -> Any:
        with self.lock:
            self._reporter, self._done = reporter, 0.0
            try:
                if self.watch is None or self.watch.stale():
                    self.assistant.refresh()
                return work()
            finally:
                self._reporter = None

    def _progress(self, stage: str, done: int, total: int) -> None:
        if self._reporter is None:
            return
        low, high = STAGES.get(stage, (self._done, self._done))  # an unknown stage moves nothing
        figure = low + (high - low) * (done / total if total else 1)
        if figure > self._done and (int(figure) > int(self._done) or figure == high):  # about 100 at most
            self._done = figure
            self._reporter(round(figure, 1), f"building the index: {stage} {done}/{total}")

    # --- the tools ------------------------------------------------------------------------------------

    def search(self, question: str, k: int = 5, reporter: Reporter | None = None) -> Answer:
        if not question.strip():
            raise BadRequest("the question is empty: ask it in plain words, e.g. 'how do I undo a rollout'")
        if not 1 <= k <= MAX_K:
            raise BadRequest(f"k must be between 1 and {MAX_K} (it was {k})")
        return self.run(lambda: self.assistant.ask(question, k=k), reporter)  # type: ignore[no-any-return]

    def section(self, path: str, line: int, reporter: Reporter | None = None) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            key = note_key(self.assistant.folders, path)
            spans = self._chunk_spans().get(key)
            if not spans:
                raise BadRequest(f"{path} is not an indexed note: use a path as search_notes or list_notes gives it")
            last = spans[-1][1]
            if not 1 <= line <= last:
                raise BadRequest(f"line {line} is outside {key}, which has lines 1-{last}")
            at = [i for start, end, i in spans if start <= line <= end]
            before = [i for start, _, i in spans if start <= line]
            pieces = self.assistant.reader().section_of((at or before or [spans[0][2]])[-1])
            return section_json(pieces)

        return self.run(work, reporter)  # type: ignore[no-any-return]

    def notes(self) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            info = self.assistant.status()
            if info["built"]:
                # every indexed note, as status counts them: a note with no passage (front matter only) has 0
                spans = self._chunk_spans()
                keys = sorted(set(self.assistant.store.manifest().get("files", {})) | set(spans))
                info["files"] = [{"path": key, "chunks": len(spans.get(key, []))} for key in keys]
            return info

        with self.lock:  # no refresh: this reports how fresh the index is
            return work()

    def _chunk_spans(self) -> dict[str, list[tuple[int, int, int]]]:
        """{note key: [(start line, end line, chunk number)]}, read once per index generation."""
        reader = self.assistant.reader()
        if self._sections is None or self._sections[0] is not reader:
            spans: dict[str, list[tuple[int, int, int]]] = {}
            for i in range(reader.n_chunks):
                chunk = reader.chunk(i)
                spans.setdefault(chunk.path, []).append((chunk.start_line, chunk.end_line, i))
            self._sections = (reader, spans)
        return self._sections[1]


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


# --- Markdown for the model to read --------------------------------------------------------------------------


def fence(code: str, lang: str = "") -> str:
    """A fenced block that no backtick run inside the code can close."""
    ticks = "`" * max(3, _longest_run(code, "`") + 1)
    return f"{ticks}{lang}\n{code.rstrip(chr(10))}\n{ticks}"


def _longest_run(text: str, char: str) -> int:
    best = run = 0
    for c in text:
        run = run + 1 if c == char else 0
        best = max(best, run)
    return best


def _cut(text: str, limit: int) -> tuple[str, bool]:
    """At most `limit` lines, with any code fence left open by the cut closed again."""
    lines = text.splitlines()
    if len(lines) <= limit:
        return text, False
    kept = lines[:limit]
    opened = [ln.strip()[:3] for ln in kept if ln.strip().startswith(("```", "~~~"))]
    if len(opened) % 2:
        kept.append(opened[-1])
    return "\n".join(kept), True


def answer_markdown(answer: Answer) -> str:
    """The answer as Markdown an agent reads well: commands in fenced blocks, each with its `file:line`."""

    def cite(path: str, line: int) -> str:
        return f"`{path}:{line}`"

    def passage_cite(rank: int) -> str:
        hit = next((h for h in answer.passages if h.rank == rank), None)
        return cite(hit.chunk.path, hit.chunk.start_line) if hit else f"passage {rank}"

    out = [f"# From your notes: {' '.join(answer.question.split())}"]  # one line, whatever the question holds
    if answer.rewritten:
        out.append(f"(searched as: {answer.rewritten})")
    if answer.notice:
        out.append(f"**{answer.notice}**")
    if not answer.relevant:
        out.append("**Your notes do not seem to answer this question**; the closest passages follow.")
    if answer.comparison:
        out.append("## Comparison")
        for side in answer.comparison:
            out.append(f"### {side.term}")
            sources = [cite(h.chunk.path, h.chunk.start_line) for h in side.passages]
            # a side's points number its own passages, from 1 (as render_comparison reads them)
            points = [f"- {p.text} ({sources[p.passage - 1]})" for p in side.points]
            out.append("\n".join(points) or "- (nothing specific in the notes)")
    points: list[str] = []
    if answer.key_points:
        points.append("## Key points")
        points.append("\n".join(f"- {p.text} ({passage_cite(p.passage)})" for p in answer.key_points))
    commands: list[str] = []
    if answer.snippets:
        commands.append("## Commands and snippets")
        for s in answer.snippets:
            label = s.snippet.label or " › ".join(s.snippet.headings)
            commands.append(f"{s.rank}. {label} — {cite(s.snippet.path, s.snippet.start_line)}")
            commands.append(fence(s.snippet.code, s.snippet.lang))
            for w in answer.warnings:
                if w.snippet == s.rank and w.kind == "destructive":
                    commands.append(f"> ⚠ Destructive: {w.message}")
                elif w.snippet == s.rank:
                    commands.append(f"> ⚠ Outdated: {w.message} Use instead: `{w.replacement}`")
    passages: list[str] = []
    if answer.passages:
        passages.append("## Passages")
        for h in answer.passages:
            where = f"`{h.chunk.path}:{h.chunk.start_line}-{h.chunk.end_line}`"
            if h.also_in:  # the same text elsewhere in the notes
                where += " (also in " + ", ".join(f"`{path}:{line}`" for path, line in h.also_in) + ")"
            passages.append(f"### {h.rank}. {' › '.join(h.chunk.headings) or h.chunk.path} — {where}")
            text, cut = _cut(h.chunk.text, PASSAGE_LINES)
            passages.append(text)
            if cut:
                passages.append(
                    f"(… cut: read_section(path={h.chunk.path!r}, line={h.chunk.start_line}) gives all of it)"
                )
    else:
        passages.append("Nothing in the notes matches that question.")
    # how-to questions lead with the commands, "what / why / how does X work" with the explanation
    out += points + commands + passages if answer.lead == "commands" else points + passages + commands
    return "\n\n".join(out) + "\n"


def section_markdown(section: dict[str, Any]) -> str:
    head = " › ".join(section["headings"]) or section["path"]
    where = f"`{section['path']}:{section['start_line']}-{section['end_line']}`"
    return f"# {head} — {where}\n\n{section['text']}\n"


def notes_markdown(info: dict[str, Any]) -> str:
    lines = [f"Notes folders: {', '.join(info['notes'])}", f"Index: {info['index']}"]
    if not info["built"]:
        lines.append(f"No index yet{': ' + info['problem'] if info.get('problem') else ''} (search_notes builds it).")
        return "\n".join(lines) + "\n"
    stale = [f"{key} ({kind})" for kind, keys in info["stale"].items() for key in keys]
    empty = len(info.get("without_passages", []))
    files = f"{len(info['files'])} files ({empty} with no passage)" if empty else f"{len(info['files'])} files"
    lines.append(f"Built {info['built_at']}: {files}, {info['chunks']} sections.")
    lines.append(f"Stale: {', '.join(stale)}." if stale else "Up to date.")
    lines += [f"- {f['path']} ({f['chunks']} sections)" for f in info["files"]]
    return "\n".join(lines) + "\n"

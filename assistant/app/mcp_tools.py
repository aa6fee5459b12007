"""The tools `kt mcp` serves, protocol-free: search the notes, read a note, list the notes, the index's state and
a re-index; each returns (Markdown for the model, structured content). `assistant/app/mcp_server.py` puts them on the
wire; here they are plain calls, testable without it. The index they answer from is kept fresh, and never blocks
a call on a build, by app/mcp_freshness.py; the Markdown and JSON are shaped by views/mcp_results.py.

Every tool checks its arguments first (a `BadRequest` the agent can read), then runs on the index through
`IndexKeeper.run`; a `Checkpoint` given by the server stops a cancelled call at the next stage boundary.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from assistant.app.mcp_freshness import CALL_WAIT, SWEEP_AGE, Checkpoint, IndexKeeper, Reporter, Result
from assistant.views.mcp_results import (
    brief_json,
    brief_markdown,
    index_line,
    lines_markdown,
    list_markdown,
    section_json,
    section_markdown,
    status_markdown,
)

if TYPE_CHECKING:
    from assistant.answer.types import Answer
    from assistant.app.core import Assistant
    from assistant.index.generation import IndexReader

MAX_K = 50  # as `kt ask -k`
MAX_QUESTION = 2000  # characters: a question, not a document
LIST_LIMIT, MAX_LIST_LIMIT = 30, 500  # list_notes page sizes (30 notes of the Kubernetes docs: under 8 KB)
NOTE_LINES, MAX_NOTE_LINES = 200, 2000  # get_note: lines given at once


class BadRequest(ValueError):
    """A tool argument the notes cannot answer; the message is for the caller (an agent) to read."""


class NotesTools:
    """The tools, protocol-free, each on the index `keeper` keeps (fresh, or saying how fresh)."""

    def __init__(
        self, assistant: Assistant, watch: bool = True, call_wait: float = CALL_WAIT, sweep_age: float = SWEEP_AGE
    ) -> None:
        self.assistant = assistant
        self.keeper = IndexKeeper(assistant, watch, call_wait, sweep_age)
        self.watch = self.keeper.watch
        self._sections: tuple[IndexReader, dict[str, list[tuple[int, int, int]]]] | None = None

    def close(self) -> None:
        self.keeper.close()

    def search(
        self,
        question: str,
        k: int = 5,
        mode: str = "hybrid",
        path: str | None = None,
        detail: str = "full",
        reporter: Reporter | None = None,
        check: Checkpoint | None = None,
    ) -> Result:
        check_question(question, k, mode, detail)
        where = path_filter(path) if path else None

        def work() -> Result:
            answer = self._answer(question, k, mode, where, check)
            if check:
                check("before rendering")
            index = self.keeper.summary()
            if detail == "brief":
                data, markdown = brief_json(answer), brief_markdown(answer)
            else:
                from assistant.views.plain import markdown as full_markdown

                data, markdown = answer.to_json(), full_markdown(answer, once=True)
            data.update(status="ready", mode=mode, index=index)
            return markdown + "\n" + index_line(index) + "\n", data

        return self.keeper.run(work, reporter, check)

    def _answer(
        self, question: str, k: int, mode: str, where: Callable[[str], bool] | None, check: Checkpoint | None
    ) -> Answer:
        import dataclasses

        from assistant.rank.search import CONFIG

        if mode == "exact":
            return exact_answer(self.assistant.reader(), question, k, where)
        config = self.assistant.rank_config or CONFIG
        if mode == "lexical":
            config = dataclasses.replace(config, lexical_weight=1.0)
        if where is not None:  # the filter may leave few of the usual candidates: rank them all
            config = dataclasses.replace(config, pool=max(config.pool, self.assistant.reader().n_chunks))
        saved, self.assistant.rank_config = self.assistant.rank_config, config
        try:
            return self.assistant.ask(question, k=k, where=where, check=check)
        finally:
            self.assistant.rank_config = saved

    def get_note(
        self,
        path: str,
        from_line: int | None = None,
        max_lines: int = NOTE_LINES,
        reporter: Reporter | None = None,
        check: Checkpoint | None = None,
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
                return section_at(self.assistant.reader(), key, line, spans[key], self.keeper.summary())
            return note_lines(self.assistant.folders, key, from_line or line or 1, max_lines, self.keeper.summary())

        return self.keeper.run(work, reporter, check)

    def list_notes(
        self,
        prefix: str = "",
        cursor: str | None = None,
        limit: int = LIST_LIMIT,
        reporter: Reporter | None = None,
        check: Checkpoint | None = None,
    ) -> Result:
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise BadRequest(f"limit must be between 1 and {MAX_LIST_LIMIT} (it was {limit})")

        def work() -> Result:
            spans = self._chunk_spans()
            # every indexed note, as kt status counts them: a note with no passage (front matter only) has 0
            indexed = set(self.assistant.store.manifest().files) | set(spans)
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
                "index": self.keeper.summary(),
            }
            return list_markdown(data), data

        return self.keeper.run(work, reporter, check)

    def index_status(self) -> Result:
        """Never waits: what the index holds, how fresh it is, and the build in progress."""
        data = self.keeper.status()
        return status_markdown(data), data

    def reindex(self, full: bool = False, reporter: Reporter | None = None, check: Checkpoint | None = None) -> Result:
        self.keeper.check_roots()
        self.keeper.updater.request(full)
        self.keeper.updater.settle(self.keeper.call_wait, reporter, check)
        return self.index_status()

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


def section_at(
    reader: IndexReader, key: str, line: int, spans: list[tuple[int, int, int]], index: dict[str, Any]
) -> Result:
    """The heading section of note `key` around `line` (what `:open` shows)."""
    last = spans[-1][1]
    if not 1 <= line <= last:
        raise BadRequest(f"line {line} is outside {key}, which has lines 1-{last}")
    at = [i for start, end, i in spans if start <= line <= end]
    before = [i for start, _, i in spans if start <= line]
    section = section_json(reader.section_of((at or before or [spans[0][2]])[-1]))
    return section_markdown(section), {"kind": "section", **section, "index": index}


def note_lines(folders: list[Path], key: str, first: int, count: int, index: dict[str, Any]) -> Result:
    """`count` lines of note `key` from line `first`, read from the note itself."""
    from assistant.ingest.notes import NoteFile, UnreadableNote, read_note

    file = note_file(folders, key)
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
            "index": index}  # fmt: skip
    return lines_markdown(data), data


def check_question(question: str, k: int, mode: str, detail: str) -> None:
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
    from assistant.answer.types import Answer
    from assistant.rank.search import Hit, SnippetHit

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
    from assistant.ingest.notes import folder_labels

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


def note_key(folders: list[Path], path: str) -> str:
    """The index key of a note named as answers name it (or by an absolute path inside a notes folder).
    Refuses anything that is, or resolves to, a place outside the notes folders: `..`, absolute paths elsewhere,
    symlinks pointing out."""
    from assistant.ingest.notes import folder_labels

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

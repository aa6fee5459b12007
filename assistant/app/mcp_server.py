"""`kt mcp`: the notes as a Model Context Protocol server on stdio, for coding agents and editors.

The tools of assistant/app/mcp_tools.py on the wire with the official SDK, with strict, typed arguments and an
output schema each. The SDK's `MCPServer` holds the tools (their schemas from the signatures below, and the
argument checks); a low-level `Server` serves them, with handlers for tools only, so neither prompts nor
resources are advertised. This module imports the SDK and pydantic at the top: only the `mcp` command imports it,
so `kt --help` and `kt ask` never pay for them.

stdout carries protocol messages only: the SDK serves the wire from a private copy of fd 1 and points fd 1 itself
at stderr, so notices ("index updated: …") and any stray print land in the client's log.

A call the client cancels (`notifications/cancelled`) has its request's cancel scope cancelled by the SDK; a
tool runs on a worker thread, which sees that through `anyio.from_thread.check_cancelled()`, called at each stage
boundary of the call (`Checkpoint`): the call stops there, sends nothing, and leaves the index to the next call.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal, NotRequired

import anyio
import anyio.from_thread
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.stdio import stdio_server
from mcp.types import CallToolRequestParams, CallToolResult, ListToolsResult, TextContent, ToolAnnotations
from pydantic import Field, ValidationError
from typing_extensions import TypedDict

from assistant.app.core import Assistant, NoIndex
from assistant.app.mcp_freshness import Checkpoint, Reporter, Result, Unavailable
from assistant.app.mcp_tools import (
    LIST_LIMIT,
    MAX_K,
    MAX_LIST_LIMIT,
    MAX_NOTE_LINES,
    MAX_QUESTION,
    NOTE_LINES,
    BadRequest,
    NotesTools,
)
from assistant.index.store import IndexError_
from assistant.views.mcp_results import instructions

log = logging.getLogger("kt.mcp")

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
WRITES_INDEX = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                               open_world_hint=False)  # fmt: skip


# --- output schemas -----------------------------------------------------------------------------------------


class IndexFreshness(TypedDict):
    fresh: bool
    updating: bool
    stale: dict[str, list[str]]
    problem: str | None
    notes: NotRequired[int]
    built_at: NotRequired[str | None]


class SearchOutput(TypedDict):
    """An answer (`status` "ready"), or how far the first build is (`status` "building")."""

    status: Literal["ready", "building"]
    question: NotRequired[str]
    mode: NotRequired[str]
    relevant: NotRequired[bool]
    lead: NotRequired[str]
    passages: NotRequired[list[dict[str, Any]]]
    snippets: NotRequired[list[dict[str, Any]]]
    key_points: NotRequired[list[dict[str, Any]]]
    warnings: NotRequired[list[dict[str, Any]]]
    comparison: NotRequired[dict[str, Any]]
    notice: NotRequired[str]
    searched_as: NotRequired[str]
    index: NotRequired[IndexFreshness]
    percent: NotRequired[float]
    eta_seconds: NotRequired[int | None]
    stage: NotRequired[str]


class NoteOutput(TypedDict):
    status: NotRequired[Literal["building"]]
    kind: NotRequired[Literal["section", "lines"]]
    path: NotRequired[str]
    start_line: NotRequired[int]
    end_line: NotRequired[int]
    headings: NotRequired[list[str]]
    total_lines: NotRequired[int]
    next_from_line: NotRequired[int | None]
    text: NotRequired[str]
    index: NotRequired[IndexFreshness]
    percent: NotRequired[float]
    eta_seconds: NotRequired[int | None]
    stage: NotRequired[str]


class NoteEntry(TypedDict):
    path: str
    sections: int


class ListOutput(TypedDict):
    status: NotRequired[Literal["building"]]
    folders: NotRequired[list[str]]
    prefix: NotRequired[str]
    total: NotRequired[int]
    notes: NotRequired[list[NoteEntry]]
    next_cursor: NotRequired[str | None]
    index: NotRequired[IndexFreshness]
    percent: NotRequired[float]
    eta_seconds: NotRequired[int | None]
    stage: NotRequired[str]


class BuildState(TypedDict):
    running: bool
    percent: float
    stage: str
    eta_seconds: int | None
    error: str | None


class StatusOutput(TypedDict):
    folders: list[str]
    missing_folders: list[str]
    index: str
    built: bool
    build: BuildState
    watching: bool
    built_at: NotRequired[str | None]
    age: NotRequired[str]
    notes: NotRequired[int]
    sections: NotRequired[int]
    snippets: NotRequired[int]
    skipped: NotRequired[dict[str, str]]
    stale: NotRequired[dict[str, list[str]]]


# --- the server ---------------------------------------------------------------------------------------------


def _result(result: Result) -> CallToolResult:
    markdown, data = result
    return CallToolResult(content=[TextContent(type="text", text=markdown)], structured_content=data)


def _hooks(ctx: Context, tools: NotesTools, tool: str) -> tuple[Reporter, Checkpoint]:
    """Progress of an update a call waits for, as MCP progress notifications (sent only if the client asked);
    and the checkpoint that stops the call at the next stage boundary once the client has cancelled it."""

    def report(progress: float, message: str) -> None:
        anyio.from_thread.run(ctx.report_progress, progress, 100.0, message)

    def check(stage: str) -> None:
        try:
            anyio.from_thread.check_cancelled()  # raises the cancellation of this request's scope
        except BaseException:
            tools.assistant.notice(f"{tool} cancelled by the client {stage}")
            raise

    return report, check


def _call(work: Callable[[], Result]) -> CallToolResult:
    """Runs a tool; what the caller can fix, and notes or an index that cannot be used, become tool errors."""
    try:
        return _result(work())
    except (BadRequest, Unavailable) as e:
        raise ToolError(str(e)) from None
    except (IndexError_, NoIndex) as e:
        raise ToolError(f"the index cannot be used: {e}") from None
    except OSError as e:  # e.g. an --index folder that cannot be created or written
        raise ToolError(f"{e.filename or 'the index'}: {e.strerror or e}") from None


def readable(error: ValidationError) -> str:
    """Pydantic's complaint about arguments, one short line per argument (no links, no internal type names)."""
    parts = []
    for e in error.errors(include_url=False):
        where = ".".join(str(p) for p in e["loc"]) or "arguments"
        got = "" if e["type"] == "missing" else f" (got {type(e['input']).__name__} {e['input']!r:.40})"
        parts.append(f"{where}: {'required' if e['type'] == 'missing' else e['msg']}{got}")
    return "bad arguments: " + "; ".join(parts)


def tool_error(name: str, error: ToolError) -> str:
    """A tool error as the agent reads it: what went wrong, without the SDK's wrapping."""
    if isinstance(error.__cause__, ValidationError):
        return readable(error.__cause__)
    if isinstance(error, UnexpectedToolError):
        log.error("tool %s failed", name, exc_info=error.__cause__ or error)
        return str(error)
    prefix = f"Error executing tool {name}: "  # the SDK's; the message says what went wrong
    return str(error).removeprefix(prefix)


def Strict(description: str, **limits: Any) -> Any:  # noqa: N802 — reads as a type annotation
    """A strictly typed argument: "3" is not 3, true is not 1, 29.0 is not 29."""
    return Field(strict=True, description=description, **limits)


Register = Callable[..., Callable[[Any], Any]]  # register(title, annotations=READ_ONLY): a tool decorator


# Sync tools: the SDK runs each on a worker thread; the IndexKeeper serialises the queries.
def add_search(tool: Register, tools: NotesTools) -> None:
    @tool("Search the Kubernetes notes")
    def search_notes(
        question: Annotated[
            str, Strict("The question in plain words, e.g. 'how do I drain a node'.", max_length=MAX_QUESTION)
        ],  # fmt: skip
        ctx: Context,
        k: Annotated[int, Strict("How many passages and snippets.", ge=1, le=MAX_K)] = 5,
        mode: Annotated[
            Literal["hybrid", "lexical", "exact"],
            Field(
                description="hybrid: meaning and words (best for questions); lexical: words only; "
                "exact: the text as given, case-insensitive (a flag, an error message)."
            ),  # fmt: skip
        ] = "hybrid",
        path: Annotated[
            str | None, Strict("Only notes whose path matches this glob ('tasks/*', '*.yaml') or folder ('tasks/').")
        ] = None,
        detail: Annotated[
            Literal["brief", "full"],
            Field(
                description="brief: commands, citations and one line per passage (a few hundred tokens); "
                "full: everything."
            ),
        ] = "full",
    ) -> Annotated[CallToolResult, SearchOutput]:
        """Answer a Kubernetes question from the user's own notes: the matching commands and YAML byte-exact,
        key points, a comparison for "A vs B" questions, warnings for removed kubectl flags, and the ranked
        passages, each with its file:line. `relevant` is false when the notes do not answer the question. `index`
        says whether the index was fresh (`stale`: notes not in it yet). While the index is first built, the
        result has `status` "building" with the percentage and the seconds left."""
        return _call(lambda: tools.search(question, k, mode, path, detail, *_hooks(ctx, tools, "search_notes")))


def add_reading(tool: Register, tools: NotesTools) -> None:
    @tool("Read a note")
    def get_note(
        path: Annotated[
            str,
            Strict(
                "A note as search_notes or list_notes names it; 'path:line' gives the whole section around that line.",
                min_length=1,
                max_length=4096,
            ),
        ],  # fmt: skip
        ctx: Context,
        from_line: Annotated[int | None, Strict("Read the note from this line (1-based).", ge=1)] = None,
        max_lines: Annotated[int, Strict("At most this many lines.", ge=1, le=MAX_NOTE_LINES)] = NOTE_LINES,
    ) -> Annotated[CallToolResult, NoteOutput]:
        """Read a note of the notes folders: `path:line` gives the heading section around that line (its path,
        lines, heading path and text); `path` gives its lines from `from_line`, `max_lines` at a time
        (`next_from_line` continues). A wrong path says which notes are close."""
        return _call(lambda: tools.get_note(path, from_line, max_lines, *_hooks(ctx, tools, "get_note")))

    @tool("List the notes")
    def list_notes(
        ctx: Context,
        prefix: Annotated[str, Strict("Only notes whose path starts with this.", max_length=4096)] = "",
        cursor: Annotated[str | None, Strict("The next_cursor of the previous page.")] = None,
        limit: Annotated[int, Strict("Notes per page.", ge=1, le=MAX_LIST_LIMIT)] = LIST_LIMIT,
    ) -> Annotated[CallToolResult, ListOutput]:
        """The indexed notes with their section counts, a page at a time (`next_cursor` gives the next page), and
        whether the index is fresh."""
        return _call(lambda: tools.list_notes(prefix, cursor, limit, *_hooks(ctx, tools, "list_notes")))


def add_index(tool: Register, tools: NotesTools) -> None:
    @tool("State of the index")
    def index_status() -> Annotated[CallToolResult, StatusOutput]:
        """What the index holds (notes, sections, when built), notes edited, added or removed since, skipped
        files, and the update in progress with its percentage. Never waits."""
        return _call(tools.index_status)

    @tool("Re-index the notes", WRITES_INDEX)
    def reindex(
        ctx: Context,
        full: Annotated[bool, Strict("Rebuild everything instead of only what changed.")] = False,
    ) -> Annotated[CallToolResult, StatusOutput]:
        """Bring the index up to date with the notes now (search_notes does so by itself when notes change).
        Waits at most a few seconds, then gives the state of the index (the update goes on in the background)."""
        return _call(lambda: tools.reindex(full, *_hooks(ctx, tools, "reindex")))


def build_server(tools: NotesTools) -> Server[Any]:
    """The server: the tools held by an MCPServer (schemas, argument checks), served by a low-level Server that
    has handlers for tools alone (the MCPServer's own would also advertise empty prompts and resources)."""
    from assistant import __version__

    registry = MCPServer("kt", log_level="WARNING")

    def tool(title: str, annotations: ToolAnnotations = READ_ONLY) -> Callable[[Any], Any]:
        def register(fn: Any) -> Any:
            return registry.tool(title=title, annotations=annotations, description=inspect.cleandoc(fn.__doc__))(fn)

        return register

    for add in (add_search, add_reading, add_index):
        add(tool, tools)

    async def list_tools(ctx: Any, params: Any) -> ListToolsResult:
        return ListToolsResult(tools=await registry.list_tools())

    async def call_tool(ctx: Any, params: CallToolRequestParams) -> Any:
        try:
            return await registry.call_tool(params.name, params.arguments or {}, Context(request_context=ctx,
                                            mcp_server=registry))  # fmt: skip
        except ToolError as e:
            return CallToolResult(content=[TextContent(type="text", text=tool_error(params.name, e))], is_error=True)

    return Server(
        "kt",
        version=__version__,
        title="Kubernetes Therapy",
        instructions=instructions(tools.keeper.usable()),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def serve(assistant: Assistant) -> None:
    tools = NotesTools(assistant)
    server = build_server(tools)

    async def run() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    try:
        anyio.run(run)
    finally:
        tools.close()

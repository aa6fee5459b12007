"""`kt mcp`: the notes as a Model Context Protocol server on stdio, for coding agents and editors.

The tools of assistant/mcp_tools.py on the wire (the official SDK's MCPServer). This module imports the SDK and
pydantic at the top: only the `mcp` command imports it, so `kt --help` and `kt ask` never pay for them.

stdout carries protocol messages only: the SDK serves the wire from a private copy of fd 1 and points fd 1 itself
at stderr, so notices ("index updated: …") and any stray print land in the client's log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import anyio.from_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from assistant.core import Assistant, NoIndex
from assistant.mcp_tools import (
    MAX_K,
    BadRequest,
    NotesTools,
    Reporter,
    answer_markdown,
    notes_markdown,
    section_markdown,
)
from assistant.store import IndexError_

INSTRUCTIONS = (
    "Answers Kubernetes questions from the user's own notes (commands, manifests, comparisons, warnings about "
    "removed kubectl flags), offline. Prefer it to guessing: call search_notes with the question in plain words, "
    "cite the file:line it gives, and call read_section(path, line) to read a whole section."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


def _result(markdown: str, data: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=markdown)], structured_content=data)


def _reporter(ctx: Context) -> Reporter:
    """Progress of a build, sent as MCP progress notifications (the SDK drops them unless the client asked)."""

    def report(progress: float, message: str) -> None:
        anyio.from_thread.run(ctx.report_progress, progress, 100.0, message)

    return report


def _call(work: Callable[[], Any]) -> Any:
    """Turns what the caller can fix, and an unusable index, into tool errors with a clear message."""
    try:
        return work()
    except BadRequest as e:
        raise ToolError(str(e)) from None
    except (IndexError_, NoIndex) as e:
        raise ToolError(f"the index cannot be used: {e}") from None
    except OSError as e:  # e.g. an --index folder that cannot be created or written
        raise ToolError(f"{e.filename or 'the index'}: {e.strerror or e}") from None


def build_server(tools: NotesTools) -> MCPServer:
    from assistant import __version__

    server = MCPServer(
        "kt", title="Kubernetes Therapy", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING"
    )

    # Sync tools: the SDK runs each on a worker thread; NotesTools serialises them.
    @server.tool(title="Search the Kubernetes notes", annotations=READ_ONLY)
    def search_notes(
        question: Annotated[str, Field(description="The question, in plain words (e.g. 'how do I drain a node').")],
        ctx: Context,
        k: Annotated[int, Field(ge=1, le=MAX_K, description="How many passages and snippets.")] = 5,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """Answer a Kubernetes question from the user's own notes: the matching commands and YAML byte-exact,
        key points, a comparison for "A vs B" questions, warnings for removed kubectl flags, and the ranked
        passages, each with its file:line. `relevant` is false when the notes do not answer the question. The
        structured content is what `kt ask --json` prints."""
        answer = _call(lambda: tools.search(question, k, _reporter(ctx)))
        return _result(answer_markdown(answer), answer.to_json())

    @server.tool(title="Read a section of the notes", annotations=READ_ONLY)
    def read_section(
        path: Annotated[str, Field(description="A note's path as search_notes or list_notes gives it.")],
        line: Annotated[int, Field(ge=1, description="A line number in that note (1-based), e.g. a passage's start.")],
        ctx: Context,
    ) -> Annotated[CallToolResult, dict[str, Any]]:
        """The whole heading section of the notes around a line: its path, lines, heading path and full text."""
        section = _call(lambda: tools.section(path, line, _reporter(ctx)))
        return _result(section_markdown(section), section)

    @server.tool(title="List the notes", annotations=READ_ONLY)
    def list_notes() -> Annotated[CallToolResult, dict[str, Any]]:
        """The notes folders, the indexed files with their section counts, and how fresh the index is (files
        edited, added or removed since it was built; search_notes re-indexes them before answering)."""
        info = _call(tools.notes)
        return _result(notes_markdown(info), info)

    return server


def serve(assistant: Assistant) -> None:
    build_server(NotesTools(assistant)).run("stdio")

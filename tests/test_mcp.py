"""`kt mcp`: a real server subprocess driven by the MCP SDK's stdio client, with the real packaged model; the
path checks of read_section; the Markdown an agent reads."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.config import Settings
from assistant.core import Assistant
from assistant.mcp_tools import BadRequest, _cut, answer_markdown, fence, note_key

QUESTION = "how can I roll a deployment back to its previous version"
COMMAND = "kubectl rollout undo deploy/nginx"
SEED_NAME = "kubernetes-therapy.md"


def command_line(notes: Path) -> int:
    """Where the notes write the rollback command (so the test does not hard-code the line)."""
    lines = (notes / SEED_NAME).read_text().splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.strip() == COMMAND)


@pytest.fixture
def built(notes_dir: Path, tmp_path: Path, embedder) -> Settings:  # type: ignore[no-untyped-def]
    """A copy of the seed notes with its index built (in this process, with the real model)."""
    settings = Settings((notes_dir,), tmp_path / "index")
    Assistant(settings, notice=lambda m: None, embedder=embedder).update()
    return settings


def server_args(settings: Settings) -> list[str]:
    return ["-m", "assistant", "mcp", "--notes", str(settings.notes[0]), "--index", str(settings.index)]


def with_server(settings: Settings, scenario: Callable[[Any], Awaitable[None]], timeout: float = 120) -> str:
    """Start `kt mcp` as a subprocess (this environment: PYTHONPATH, KT_HOME), initialize a client session and
    run the scenario with it. Returns what the server wrote to stderr."""
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(command=sys.executable, args=server_args(settings), env=dict(os.environ))
    errlog = settings.notes[0].parent / "server.log"  # beside the notes copy, in the test's tmp_path

    async def main() -> None:
        with anyio.fail_after(timeout), errlog.open("w") as err:
            async with stdio_client(params, errlog=err) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                await scenario(session)

    anyio.run(main)
    return errlog.read_text()


def text(result: Any) -> str:
    return "\n".join(block.text for block in result.content)


@pytest.mark.slow
def test_search_notes_gives_the_command_with_its_source_and_read_section_the_section(built: Settings) -> None:
    line = command_line(built.notes[0])

    async def scenario(session: Any) -> None:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == {"search_notes", "read_section", "list_notes"}
        for tool in tools.values():
            assert len(tool.description) > 40 and tool.annotations.read_only_hint
        search = tools["search_notes"].input_schema
        assert search["required"] == ["question"]
        k = search["properties"]["k"]
        assert (k["type"], k["minimum"], k["maximum"], k["default"]) == ("integer", 1, 50, 5)

        result = await session.call_tool("search_notes", {"question": QUESTION})
        assert not result.is_error, text(result)
        data = result.structured_content
        assert data["relevant"] is True and data["question"] == QUESTION
        top = data["snippets"][0]
        assert top["code"].startswith(COMMAND) and (top["path"], top["start_line"]) == (SEED_NAME, line)
        assert {"passages", "key_points", "warnings"} <= set(data)
        markdown = text(result)  # the command in a fenced block, with its file:line
        assert f"`{SEED_NAME}:{line}`\n\n```shell\n{COMMAND}\n" in markdown

        result = await session.call_tool("read_section", {"path": top["path"], "line": top["start_line"]})
        assert not result.is_error, text(result)
        section = result.structured_content
        assert section["path"] == SEED_NAME and section["start_line"] <= line <= section["end_line"]
        assert COMMAND in section["text"]
        assert section["headings"][: len(top["headings"])] == top["headings"]  # a command group may add a label
        assert COMMAND in text(result)

        result = await session.call_tool("list_notes", {})
        notes = result.structured_content
        assert notes["notes"] == [str(built.notes[0])] and notes["built"] is True
        assert notes["files"] == [{"path": SEED_NAME, "chunks": notes["chunks"]}]
        assert not any(notes["stale"].values())

    with_server(built, scenario)


@pytest.mark.slow
def test_search_notes_is_the_kt_ask_json_answer(built: Settings) -> None:
    answers: list[dict[str, Any]] = []

    async def scenario(session: Any) -> None:
        answers.append((await session.call_tool("search_notes", {"question": QUESTION, "k": 3})).structured_content)

    with_server(built, scenario)
    common = ["--notes", str(built.notes[0]), "--index", str(built.index)]
    result = CliRunner().invoke(app, ["ask", QUESTION, "-k", "3", "--json", *common])
    assert result.exit_code == 0, result.output

    def unscored(value: Any) -> Any:  # two processes: scores may differ in the last digit
        if isinstance(value, dict):
            return {k: unscored(v) for k, v in value.items() if k != "score"}
        return [unscored(v) for v in value] if isinstance(value, list) else value

    assert unscored(answers[0]) == unscored(json.loads(result.stdout))


@pytest.mark.slow
def test_bad_arguments_are_tool_errors_and_the_server_keeps_answering(built: Settings, tmp_path: Path) -> None:
    notes = built.notes[0]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nThe password is hunter2.\n")
    (notes / "escape.md").symlink_to(outside / "secret.md")
    (notes / "inside.md").symlink_to(notes / SEED_NAME)  # a symlink that stays inside is fine
    bad = [
        ("search_notes", {"question": ""}, "empty"),
        ("search_notes", {"question": "   "}, "empty"),
        ("search_notes", {"question": QUESTION, "k": 0}, "greater than or equal to 1"),
        ("search_notes", {"question": QUESTION, "k": -3}, "greater than or equal to 1"),
        ("search_notes", {"question": QUESTION, "k": 500}, "less than or equal to 50"),
        ("search_notes", {}, "question"),
        ("read_section", {"path": f"../{outside.name}/secret.md", "line": 1}, "outside the notes folders"),
        ("read_section", {"path": f"sub/../../{outside.name}/secret.md", "line": 1}, "outside the notes folders"),
        ("read_section", {"path": str(outside / "secret.md"), "line": 1}, "outside the notes folders"),
        ("read_section", {"path": "/etc/passwd", "line": 1}, "outside the notes folders"),
        ("read_section", {"path": "escape.md", "line": 1}, "symlink"),
        ("read_section", {"path": "missing.md", "line": 1}, "not an indexed note"),
        ("read_section", {"path": SEED_NAME, "line": 100_000}, "outside kubernetes-therapy.md"),
        ("read_section", {"path": SEED_NAME, "line": 0}, "greater than or equal to 1"),
        ("read_section", {"path": "", "line": 1}, "empty"),
    ]

    async def scenario(session: Any) -> None:
        for tool, arguments, message in bad:
            result = await session.call_tool(tool, arguments)
            assert result.is_error, (tool, arguments)
            assert message in text(result), (tool, arguments, text(result))
            assert "hunter2" not in text(result)
        result = await session.call_tool("read_section", {"path": "inside.md", "line": command_line(notes)})
        assert not result.is_error and COMMAND in result.structured_content["text"]
        absolute = str(notes / SEED_NAME)  # an absolute path inside the notes names the same note
        result = await session.call_tool("read_section", {"path": absolute, "line": command_line(notes)})
        assert not result.is_error and result.structured_content["path"] == SEED_NAME
        result = await session.call_tool("search_notes", {"question": QUESTION})
        assert not result.is_error and result.structured_content["snippets"][0]["code"].startswith(COMMAND)

    with_server(built, scenario)


@pytest.mark.slow
def test_a_build_on_first_use_reports_progress(notes_dir: Path, tmp_path: Path, onnx_model: Path) -> None:
    settings = Settings((notes_dir,), tmp_path / "index")  # no index yet
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    async def scenario(session: Any) -> None:
        listed = (await session.call_tool("list_notes", {})).structured_content
        assert listed["built"] is False and "search_notes builds it" in text(await session.call_tool("list_notes"))
        result = await session.call_tool("search_notes", {"question": QUESTION}, progress_callback=progress)
        assert not result.is_error and result.structured_content["snippets"][0]["code"].startswith(COMMAND)
        seen_before = len(seen)
        await session.call_tool("search_notes", {"question": QUESTION}, progress_callback=progress)
        assert len(seen) == seen_before  # nothing to build the second time

    log = with_server(settings, scenario)
    assert "no index yet" in log
    figures = [done for done, _, _ in seen]
    assert len(figures) >= 3 and figures == sorted(set(figures)) and figures[-1] <= 100
    assert all(total == 100 and message and message.startswith("building the index") for _, total, message in seen)


@pytest.mark.slow
def test_an_index_that_cannot_be_written_is_a_tool_error(notes_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where the index folder's parent should be\n")
    settings = Settings((notes_dir,), tmp_path / "blocker" / "index")

    async def scenario(session: Any) -> None:
        for _ in range(2):  # and the server is still there for the next call
            result = await session.call_tool("search_notes", {"question": QUESTION})
            assert result.is_error and "blocker" in text(result) and "Not a directory" in text(result)
        assert not (await session.call_tool("list_notes", {})).is_error

    with_server(settings, scenario)


@pytest.mark.slow
def test_stdout_carries_only_protocol_messages_and_edits_are_indexed_first(built: Settings) -> None:
    """A raw JSON-RPC session: every line on stdout is a protocol message, even when the server re-indexes an
    edited note (its notice goes to stderr) before answering."""
    with (built.notes[0] / SEED_NAME).open("a") as f:
        f.write("\n## Zebra clusters\n\nZebra clusters keep a striped etcd quorum.\n")
    proc = subprocess.Popen(
        [sys.executable, *server_args(built)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin and proc.stdout and proc.stderr
    lines: queue.Queue[str] = queue.Queue()
    everything: list[str] = []

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            everything.append(line)
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def send(message: dict[str, Any]) -> None:
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]

    def response(request_id: int) -> dict[str, Any]:
        while True:
            message = json.loads(lines.get(timeout=120))
            assert message["jsonrpc"] == "2.0"
            if message.get("id") == request_id:
                return message  # type: ignore[no-any-return]

    try:
        client = {"name": "raw-test", "version": "0"}
        send(
            {
                "id": 1,
                "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client},
            }
        )
        from assistant import __version__

        server_info = response(1)["result"]["serverInfo"]
        assert server_info["name"] == "kt" and server_info["version"] == __version__
        send({"method": "notifications/initialized"})
        send({"id": 2, "method": "tools/call", "params": {"name": "search_notes", "arguments": {"question": "zebra"}}})
        answer = response(2)["result"]
        assert answer["structuredContent"]["passages"][0]["headings"][-1] == "Zebra clusters"
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    reader.join(timeout=10)
    assert everything and all(json.loads(line)["jsonrpc"] == "2.0" for line in everything)
    assert "index updated: 1 changed" in proc.stderr.read()


def test_read_section_paths_stay_inside_the_notes(tmp_path: Path) -> None:
    a, b, outside = tmp_path / "a", tmp_path / "b", tmp_path / "outside"
    for folder in (a, b, outside, a / "sub"):
        folder.mkdir()
    (a / "sub" / "note.md").write_text("# Note\n")
    (outside / "x.md").write_text("# X\n")
    (a / "out").symlink_to(outside, target_is_directory=True)
    assert note_key([a], "sub/note.md") == "sub/note.md"
    assert note_key([a], str(a / "sub" / "note.md")) == "sub/note.md"
    assert note_key([a], "sub/./note.md") == "sub/note.md"
    assert note_key([a, b], "a/sub/note.md") == "a/sub/note.md"  # several folders: keys carry the folder name
    assert note_key([a, b], str(a / "sub" / "note.md")) == "a/sub/note.md"
    for escape in ("../outside/x.md", "sub/../../outside/x.md", str(outside / "x.md"), "/etc/passwd", "out/x.md"):
        with pytest.raises(BadRequest):
            note_key([a], escape)
    with pytest.raises(BadRequest):
        note_key([a, b], "c/note.md")  # no such folder label


def test_markdown_fences_hold_any_code() -> None:
    code = "echo ```nested```\n````\n"
    block = fence(code, "shell")
    assert block.startswith("`````shell\n") and block.endswith("\n`````") and code.rstrip() in block
    text, cut = _cut("intro\n```yaml\na: 1\nb: 2\nc: 3\n```", 4)  # cut inside the fence: closed again
    assert cut and text.splitlines()[-1] == "```" and text.count("```") == 2


@pytest.mark.slow
def test_markdown_cites_every_command_and_point(seed_assistant: Assistant) -> None:
    import re

    answer = seed_assistant.ask("Calico compared with Flannel: how do they differ?")
    assert len(answer.comparison) == 2 and all(side.points for side in answer.comparison)
    markdown = answer_markdown(answer)
    assert "## Comparison" in markdown
    comparison = markdown.split("## Comparison", 1)[1].split("\n## ", 1)[0]  # up to the next section
    points = [line for line in comparison.splitlines() if line.startswith("- ")]
    cited = re.compile(rf"\(`{re.escape(SEED_NAME)}:\d+`\)$")
    assert points and all(cited.search(line) for line in points), points
    for side in answer.comparison:  # each point cites the passage it was quoted from
        for point in side.points:
            hit = side.passages[point.passage - 1]
            assert f"- {point.text} (`{hit.chunk.path}:{hit.chunk.start_line}`)" in markdown
    for s in answer.snippets:  # every snippet: its label and file:line, then its code byte-exact in a fence
        assert (
            f"`{s.snippet.path}:{s.snippet.start_line}`\n\n```{s.snippet.lang}\n{s.snippet.code.rstrip()}\n```"
            in markdown
        )


def test_cli_stays_light_and_mcp_is_documented() -> None:
    code = "import assistant.cli, sys; print(' '.join(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert not {m for m in loaded if m.split(".")[0] in ("mcp", "mcp_types", "pydantic", "starlette")}
    result = CliRunner().invoke(app, ["mcp", "--help"])
    assert result.exit_code == 0 and "Model Context Protocol" in result.stdout
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "kt mcp" in readme and "claude mcp add" in readme and "mcp.json" in readme


def test_mcp_refuses_a_missing_notes_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["mcp", "--notes", str(tmp_path / "nope"), "--index", str(tmp_path / "i")])
    assert result.exit_code == 1 and "notes folder not found" in result.stderr


@pytest.mark.slow
def test_the_index_is_refreshed_when_a_note_changes_and_only_then(built: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    import time

    from assistant.mcp_tools import NotesTools

    assistant = Assistant(built, notice=lambda m: None, embedder=embedder)
    refreshes = []
    real_refresh = assistant.refresh
    assistant.refresh = lambda: refreshes.append(1) or real_refresh()  # type: ignore[method-assign]
    tools = NotesTools(assistant)
    assert tools.watch is not None and tools.watch.watching
    tools.search("how do I taint a node")
    tools.search("show me the contents of a secret")
    assert len(refreshes) == 1  # the first call; nothing changed since
    with (built.notes[0] / SEED_NAME).open("a") as f:
        f.write("\n## Okapi clusters\n\nOkapi clusters keep their etcd quorum striped across three racks.\n")
    deadline = time.monotonic() + 10
    while not tools.watch.changed.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    answer = tools.search("okapi clusters etcd quorum racks")
    assert len(refreshes) == 2
    assert "Okapi clusters keep their etcd quorum" in answer.passages[0].chunk.text
    tools.watch.stop.set()

"""`kt mcp`: a real server subprocess driven by the MCP SDK's stdio client, with the real packaged model; the
tools protocol-free (NotesTools): freshness (watcher, sweeps, a notes root replaced or gone), never blocking on a
build, the path checks of get_note; the Markdown an agent reads."""

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

from assistant.app.cli import app
from assistant.app.core import Assistant
from assistant.app.mcp_freshness import Unavailable
from assistant.app.mcp_tools import BadRequest, NotesTools, note_key
from assistant.config import Settings

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


async def ready(session: Any) -> dict[str, Any]:
    """index_status once the server's background update has ended (the server never makes a call wait for it)."""
    while True:
        status = (await session.call_tool("index_status", {})).structured_content
        if not status["build"]["running"]:
            return status  # type: ignore[no-any-return]
        await anyio.sleep(0.1)


def stripped(answer: dict[str, Any]) -> dict[str, Any]:
    """A search_notes answer without what kt mcp adds to the `kt ask --json` one."""
    return {k: v for k, v in answer.items() if k not in ("status", "mode", "index")}


@pytest.mark.slow
def test_search_notes_gives_the_command_with_its_source_and_get_note_the_section(built: Settings) -> None:
    line = command_line(built.notes[0])

    async def scenario(session: Any) -> None:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == {"search_notes", "get_note", "list_notes", "index_status", "reindex"}
        for tool in tools.values():
            assert len(tool.description) > 40 and tool.output_schema["type"] == "object"
            assert "\n    " not in tool.description  # dedented
        assert all(tools[n].annotations.read_only_hint for n in ("search_notes", "get_note", "list_notes"))
        search = tools["search_notes"].input_schema
        assert search["required"] == ["question"] and search["properties"]["question"]["maxLength"] == 2000
        k = search["properties"]["k"]
        assert (k["type"], k["minimum"], k["maximum"], k["default"]) == ("integer", 1, 50, 5)
        assert search["properties"]["mode"]["enum"] == ["hybrid", "lexical", "exact"]
        assert search["properties"]["detail"]["enum"] == ["brief", "full"]
        assert "status" in tools["search_notes"].output_schema["properties"]
        with pytest.raises(Exception, match="ethod not found"):  # neither prompts nor resources are advertised
            await session.list_prompts()

        await ready(session)
        result = await session.call_tool("search_notes", {"question": QUESTION})
        assert not result.is_error, text(result)
        data = result.structured_content
        assert data["status"] == "ready" and data["relevant"] is True and data["question"] == QUESTION
        assert data["index"]["fresh"] is True and data["index"]["stale"] == {} and data["index"]["notes"] == 1
        top = data["snippets"][0]
        assert top["code"].startswith(COMMAND) and (top["path"], top["start_line"]) == (SEED_NAME, line)
        assert {"passages", "key_points", "warnings"} <= set(data)
        markdown = text(result)  # `kt ask --md`: the command in a fenced block, with its file:line; freshness
        assert f"(`{SEED_NAME}:{line}`)\n\n```bash\n{COMMAND}\n" in markdown
        assert markdown.count(COMMAND) == 1  # once: the passages point to the snippet instead
        assert markdown.rstrip().splitlines()[-1].startswith("*Index: up to date (1 note, built ")

        result = await session.call_tool("get_note", {"path": f"{top['path']}:{top['start_line']}"})
        assert not result.is_error, text(result)
        section = result.structured_content
        assert section["kind"] == "section" and section["path"] == SEED_NAME
        assert section["start_line"] <= line <= section["end_line"] and COMMAND in section["text"]
        assert section["headings"][: len(top["headings"])] == top["headings"]  # a command group may add a label

        notes = (await session.call_tool("list_notes", {})).structured_content
        assert notes["folders"] == [str(built.notes[0])] and notes["total"] == 1 and notes["next_cursor"] is None
        assert notes["notes"][0]["path"] == SEED_NAME and notes["notes"][0]["sections"] > 10
        status = (await session.call_tool("index_status", {})).structured_content
        assert status["built"] is True and status["notes"] == 1 and status["stale"] == {}

    with_server(built, scenario)


@pytest.mark.slow
def test_search_notes_is_the_kt_ask_json_answer_and_brief_is_small(built: Settings) -> None:
    answers: list[dict[str, Any]] = []
    sizes: dict[str, int] = {}

    async def scenario(session: Any) -> None:
        await ready(session)
        answers.append((await session.call_tool("search_notes", {"question": QUESTION, "k": 3})).structured_content)
        for detail in ("brief", "full"):
            result = await session.call_tool("search_notes", {"question": QUESTION, "detail": detail})
            sizes[detail] = len(text(result))
            if detail == "brief":
                brief = result.structured_content
                assert brief["snippets"][0]["code"].startswith(COMMAND)
                assert all(set(p) == {"rank", "path", "start_line", "end_line", "headings", "line"}
                           for p in brief["passages"])  # fmt: skip
                assert f"{COMMAND}\n" in text(result) and f"`{SEED_NAME}:" in text(result)

    with_server(built, scenario)
    assert sizes["brief"] < sizes["full"] and sizes["brief"] < 4000
    common = ["--notes", str(built.notes[0]), "--index", str(built.index)]
    result = CliRunner().invoke(app, ["ask", QUESTION, "-k", "3", "--json", *common])
    assert result.exit_code == 0, result.output

    def unscored(value: Any) -> Any:  # two processes: scores may differ in the last digit
        if isinstance(value, dict):
            return {k: unscored(v) for k, v in value.items() if k != "score"}
        return [unscored(v) for v in value] if isinstance(value, list) else value

    assert unscored(stripped(answers[0])) == unscored(json.loads(result.stdout))


@pytest.mark.slow
def test_bad_arguments_are_tool_errors_and_the_server_keeps_answering(built: Settings, tmp_path: Path) -> None:
    notes = built.notes[0]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nThe password is hunter2.\n")
    (notes / "escape.md").symlink_to(outside / "secret.md")
    (notes / "inside.md").symlink_to(notes / SEED_NAME)  # a symlink that stays inside is fine
    line = command_line(notes)
    bad = [
        ("search_notes", {"question": ""}, "empty"),
        ("search_notes", {"question": "   "}, "empty"),
        ("search_notes", {"question": "x" * 2001}, "at most 2000 characters"),
        ("search_notes", {"question": QUESTION, "k": 0}, "greater than or equal to 1"),
        ("search_notes", {"question": QUESTION, "k": -3}, "greater than or equal to 1"),
        ("search_notes", {"question": QUESTION, "k": 500}, "less than or equal to 50"),
        ("search_notes", {"question": QUESTION, "k": "3"}, "k: Input should be a valid integer (got str '3')"),
        ("search_notes", {"question": QUESTION, "k": True}, "k: Input should be a valid integer (got bool True)"),
        ("search_notes", {"question": QUESTION, "mode": "fuzzy"}, "mode: Input should be 'hybrid', 'lexical' or"),
        ("search_notes", {"question": 42}, "question: Input should be a valid string"),
        ("search_notes", {}, "question: required"),
        ("get_note", {"path": f"../{outside.name}/secret.md"}, "outside the notes folders"),
        ("get_note", {"path": f"sub/../../{outside.name}/secret.md:1"}, "outside the notes folders"),
        ("get_note", {"path": str(outside / "secret.md")}, "outside the notes folders"),
        ("get_note", {"path": "/etc/passwd"}, "outside the notes folders"),
        ("get_note", {"path": "escape.md"}, "symlink"),
        ("get_note", {"path": "kubernetes-terapy.md"}, f"not an indexed note. Did you mean: {SEED_NAME}?"),
        ("get_note", {"path": f"{SEED_NAME}:100000"}, "outside kubernetes-therapy.md"),
        ("get_note", {"path": SEED_NAME, "from_line": 100_000}, "past the end"),
        ("get_note", {"path": SEED_NAME, "from_line": float(line)}, "from_line: Input should be a valid integer"),
        ("get_note", {"path": SEED_NAME, "from_line": 0}, "greater than or equal to 1"),
        ("get_note", {"path": ""}, "at least 1 character"),
        ("list_notes", {"cursor": "nope.md"}, "cursor"),
        ("list_notes", {"limit": 0}, "greater than or equal to 1"),
        ("reindex", {"full": "yes"}, "full: Input should be a valid boolean"),
    ]

    async def scenario(session: Any) -> None:
        await ready(session)
        for tool, arguments, message in bad:
            result = await session.call_tool(tool, arguments)
            assert result.is_error, (tool, arguments)
            assert message in text(result), (tool, arguments, text(result))
            assert "hunter2" not in text(result) and "pydantic" not in text(result), text(result)
            assert "Error executing tool" not in text(result) and "[type=" not in text(result), text(result)
        result = await session.call_tool("get_note", {"path": f"inside.md:{line}"})
        assert not result.is_error and COMMAND in result.structured_content["text"]
        absolute = str(notes / SEED_NAME)  # an absolute path inside the notes names the same note
        result = await session.call_tool("get_note", {"path": absolute, "from_line": line, "max_lines": 2})
        data = result.structured_content
        assert not result.is_error and (data["path"], data["start_line"], data["end_line"]) == (
            SEED_NAME,
            line,
            line + 1,
        )
        assert data["text"].splitlines()[0] == COMMAND and data["next_from_line"] == line + 2
        result = await session.call_tool("search_notes", {"question": QUESTION})
        assert not result.is_error and result.structured_content["snippets"][0]["code"].startswith(COMMAND)

    with_server(built, scenario)


@pytest.mark.slow
def test_the_first_build_runs_in_the_background_and_reaches_100(
    notes_dir: Path, tmp_path: Path, onnx_model: Path
) -> None:
    settings = Settings((notes_dir,), tmp_path / "index")  # no index yet

    async def scenario(session: Any) -> None:
        result = await session.call_tool("search_notes", {"question": QUESTION})  # at once: building, or built
        assert not result.is_error, text(result)
        data = result.structured_content
        if data["status"] == "building":
            assert 0 <= data["percent"] < 100 and "being built" in text(result)
            assert data["eta_seconds"] is None or data["eta_seconds"] >= 0
        status = await ready(session)
        assert status["built"] is True and status["build"]["percent"] == 100 and status["build"]["error"] is None
        result = await session.call_tool("search_notes", {"question": QUESTION})
        assert result.structured_content["snippets"][0]["code"].startswith(COMMAND)

    log = with_server(settings, scenario)
    assert "index updated: 1 added" in log


@pytest.mark.slow
def test_an_index_that_cannot_be_written_is_a_tool_error(notes_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where the index folder's parent should be\n")
    settings = Settings((notes_dir,), tmp_path / "blocker" / "index")

    async def scenario(session: Any) -> None:
        status = await ready(session)
        assert "blocker" in status["build"]["error"] and "Not a directory" in status["build"]["error"]
        for _ in range(2):  # each call tries again, and the server is still there for the next call
            result = await session.call_tool("search_notes", {"question": QUESTION})
            if not result.is_error:  # the call found the retry still running: it said so at once
                assert result.structured_content["status"] == "building"
                await ready(session)
                result = await session.call_tool("search_notes", {"question": QUESTION})
            assert result.is_error and "blocker" in text(result) and "Not a directory" in text(result)
        assert not (await session.call_tool("index_status", {})).is_error

    with_server(settings, scenario)


@pytest.mark.slow
def test_stdout_carries_only_protocol_messages_and_edits_are_indexed(built: Settings) -> None:
    """A raw JSON-RPC session: every line on stdout is a protocol message, even when the server re-indexes an
    edited note (its notice goes to stderr)."""
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

    def call(request_id: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        send({"id": request_id, "method": "tools/call", "params": {"name": name, "arguments": arguments}})
        return response(request_id)["result"]  # type: ignore[no-any-return]

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

        initialized = response(1)["result"]
        server_info = initialized["serverInfo"]
        assert server_info["name"] == "kt" and server_info["version"] == __version__
        assert "The index holds 1 note, built " in initialized["instructions"]
        assert set(initialized["capabilities"]) == {"tools"}
        send({"method": "notifications/initialized"})
        request = 2
        while call(request, "index_status", {})["structuredContent"]["build"]["running"]:
            request += 1
        answer = call(request + 1, "search_notes", {"question": "zebra"})
        assert answer["structuredContent"]["passages"][0]["headings"][-1] == "Zebra clusters"
        assert answer["structuredContent"]["index"]["fresh"] is True
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    reader.join(timeout=10)
    assert everything and all(json.loads(line)["jsonrpc"] == "2.0" for line in everything)
    assert "index updated: 1 changed" in proc.stderr.read()


def test_get_note_paths_stay_inside_the_notes(tmp_path: Path) -> None:
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


@pytest.mark.slow
def test_the_markdown_shows_each_snippet_once_and_brief_cites_every_command(seed_assistant: Assistant) -> None:
    from assistant.views.mcp_results import brief_json, brief_markdown
    from assistant.views.plain import markdown

    answer = seed_assistant.ask(QUESTION)
    once, usual = markdown(answer, once=True), markdown(answer)
    assert usual.count(COMMAND) > 1 and once.count(COMMAND) == 1 and "(see [1] above)" in once
    assert once.replace("(see [1] above)", "") != usual  # the rest is `kt ask --md`'s
    assert once.splitlines()[0] == usual.splitlines()[0]
    brief = brief_markdown(answer)
    for s in answer.snippets:
        assert f"(`{s.snippet.path}:{s.snippet.start_line}`)\n\n```" in brief and s.snippet.code.rstrip() in brief
    assert len(brief) < len(once) and len(json.dumps(brief_json(answer))) < len(json.dumps(answer.to_json())) / 2


def test_cli_stays_light_and_mcp_is_documented() -> None:
    code = "import assistant.app.cli, sys; print(' '.join(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert not {m for m in loaded if m.split(".")[0] in ("mcp", "mcp_types", "pydantic", "starlette")}
    result = CliRunner().invoke(app, ["mcp", "--help"])
    assert result.exit_code == 0 and "Model Context Protocol" in result.stdout
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "kt mcp" in readme and "claude mcp add" in readme and "mcp.json" in readme


def test_mcp_refuses_a_missing_notes_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["mcp", "--notes", str(tmp_path / "nope"), "--index", str(tmp_path / "i")])
    assert result.exit_code == 1 and "notes folder not found" in result.stderr


# --- NotesTools: freshness and never blocking, protocol-free ----------------------------------------------------

MOVED_NOTE = "# Quagga routing\n\nQuagga routers peer with the cluster's BGP speakers on port 179.\n"


class Gated:
    """The real model, except that the updater thread waits at `gate` before embedding (a build held still)."""

    def __init__(self, real: Any) -> None:
        self.real, self.model_id, self.dim = real, real.model_id, real.dim
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def embed(self, texts: list[str]) -> Any:
        if threading.current_thread().name == "kt-index-updater":
            self.waiting.set()
            assert self.gate.wait(120)
        return self.real.embed(texts)


def make_tools(settings: Settings, embedder: Any, **options: Any) -> NotesTools:
    """Calls wait for updates (call_wait 120 s) unless told otherwise: the tests assert outcomes, not timings."""
    assistant = Assistant(settings, notice=lambda m: None, embedder=embedder)
    return NotesTools(assistant, **{"call_wait": 120.0, **options})


def found(tools: NotesTools, question: str, phrase: str) -> bool:
    _, data = tools.search(question, k=5)
    assert data["status"] == "ready" and data["index"]["fresh"] is True, data["index"]
    return any(phrase in p["text"] for p in data["passages"])


def changed(tools: NotesTools) -> None:
    """Wait for the watcher to see what the test just did (an event, not a time window)."""
    assert tools.watch is not None and tools.watch.changed.wait(30)


@pytest.mark.slow
def test_folders_moved_made_or_copied_into_the_notes_are_indexed(built: Settings, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    notes = built.notes[0]
    tools = make_tools(built, embedder, sweep_age=1e9)  # only the watcher calls for a sweep
    try:
        assert tools.watch is not None and tools.watch.armed.wait(30)
        assert not found(tools, "quagga BGP port", "Quagga routers")  # the first call sweeps; the watcher vouches
        staging = tmp_path / "staging" / "routing"
        staging.mkdir(parents=True)
        (staging / "quagga.md").write_text(MOVED_NOTE)
        tools.watch.changed.clear()
        os.rename(staging, notes / "routing")  # one event, for the folder
        changed(tools)
        assert found(tools, "quagga BGP port", "Quagga routers")
        (notes / "a" / "b").mkdir(parents=True)  # mkdir -p, then a note in it
        (notes / "a" / "b" / "okapi.md").write_text("# Okapi\n\nOkapi clusters stripe etcd across three racks.\n")
        changed(tools)
        assert found(tools, "okapi etcd racks", "Okapi clusters")
        (tmp_path / "more" / "deep").mkdir(parents=True)
        (tmp_path / "more" / "deep" / "wombat.md").write_text("# Wombat\n\nWombat nodes drain in cubes.\n")
        tools.watch.changed.clear()
        shutil.copytree(tmp_path / "more", notes / "more")  # cp -r
        changed(tools)
        assert found(tools, "wombat nodes drain", "Wombat nodes")
        shutil.rmtree(notes / "routing")  # a folder removed: its notes leave the index
        changed(tools)
        assert not found(tools, "quagga BGP port", "Quagga routers")
    finally:
        tools.close()


@pytest.mark.slow
def test_a_replaced_notes_root_rearms_the_watcher_and_a_missing_one_keeps_the_index(  # type: ignore[no-untyped-def]
    built: Settings, embedder, tmp_path: Path
) -> None:
    import shutil

    notes = built.notes[0]
    tools = make_tools(built, embedder, sweep_age=1e9)
    try:
        assert tools.watch is not None and tools.watch.armed.wait(30)
        assert found(tools, QUESTION, COMMAND)
        arms = tools.watch.arms
        fresh = tmp_path / "notes.new"
        fresh.mkdir()
        shutil.copy(notes / SEED_NAME, fresh / SEED_NAME)
        (fresh / "quagga.md").write_text(MOVED_NOTE)
        notes.rename(tmp_path / "notes.old")  # mv notes notes.old && mv notes.new notes
        fresh.rename(notes)
        changed(tools)
        assert found(tools, "quagga BGP port", "Quagga routers")
        while tools.watch.arms == arms:  # re-armed on the new folder (it says so by counting)
            assert tools.watch.changed.wait(30)
            tools.watch.changed.clear()
        tools.watch.changed.clear()
        (notes / "wombat.md").write_text("# Wombat\n\nWombat nodes drain in cubes.\n")  # seen in the new root
        changed(tools)
        assert found(tools, "wombat nodes drain", "Wombat nodes")

        files = tools.assistant.store.manifest().counts.files
        notes.rename(tmp_path / "gone")
        with pytest.raises(Unavailable, match="notes folder not found.*index is kept"):
            tools.search(QUESTION)
        with pytest.raises(Unavailable, match="notes folder not found"):
            tools.reindex()
        _, status = tools.index_status()
        assert status["missing_folders"] == [str(notes)] and status["notes"] == files  # never emptied
        (tmp_path / "gone").rename(notes)
        assert found(tools, QUESTION, COMMAND)
        assert tools.assistant.store.manifest().counts.files == files
    finally:
        tools.close()


@pytest.mark.slow
def test_a_sweep_runs_only_when_the_watcher_cannot_vouch(built: Settings, embedder, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import assistant.app.core

    sweeps: list[int] = []
    real = assistant.app.core.stale_files
    monkeypatch.setattr(assistant.app.core, "stale_files", lambda *a: sweeps.append(1) or real(*a))
    tools = make_tools(built, embedder, sweep_age=1e9)
    try:
        assert tools.watch is not None and tools.watch.armed.wait(30)
        tools.search("how do I taint a node")
        swept = len(sweeps)
        tools.search("show me the contents of a secret")
        assert len(sweeps) == swept  # nothing changed, the watcher vouches
        tools.keeper.sweep_age = 0.0  # the last sweep is too old: sweep again
        tools.search("show me the contents of a secret")
        assert len(sweeps) == swept + 1
    finally:
        tools.close()
    unwatched = make_tools(built, embedder, watch=False)  # no watcher: every call sweeps, edits are found
    try:
        with (built.notes[0] / SEED_NAME).open("a") as f:
            f.write("\n## Okapi clusters\n\nOkapi clusters keep their etcd quorum striped across three racks.\n")
        assert found(unwatched, "okapi clusters etcd quorum racks", "Okapi clusters keep")
    finally:
        unwatched.close()


@pytest.mark.slow
def test_no_call_waits_for_a_build_or_a_slow_update(notes_dir: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = Settings((notes_dir,), tmp_path / "index")
    gated = Gated(embedder)
    tools = make_tools(settings, gated, call_wait=0.0)
    try:
        assert gated.waiting.wait(60)  # the start-up build is held before embedding
        markdown, data = tools.search(QUESTION)
        assert data["status"] == "building" and data["percent"] == 10.0 and "being built: 10%" in markdown
        _, listed = tools.list_notes()
        assert listed["status"] == "building"
        _, status = tools.index_status()
        assert status["built"] is False and status["build"]["running"] is True
        gated.gate.set()
        tools.keeper.call_wait = 120.0
        tools.reindex()  # waits (the call_wait is long now) for the build and this update
        _, data = tools.search(QUESTION)
        assert data["status"] == "ready" and data["snippets"][0]["code"].startswith(COMMAND)
        _, status = tools.index_status()
        assert status["build"]["percent"] == 100 and status["build"]["running"] is False

        gated.gate.clear()
        gated.waiting.clear()
        with (notes_dir / SEED_NAME).open("a") as f:
            f.write("\n## Okapi clusters\n\nOkapi clusters keep their etcd quorum striped across three racks.\n")
        tools.call_wait, tools.keeper.sweep_age = 0.0, 0.0
        markdown, data = tools.search("okapi clusters etcd quorum racks")  # from the index as it is, at once
        assert data["status"] == "ready" and data["index"]["updating"] is True and data["index"]["fresh"] is False
        assert data["index"]["stale"] == {"changed": [SEED_NAME]}
        assert "*Index: being updated, answered from it as it is" in markdown and f"{SEED_NAME} (changed)" in markdown
        assert gated.waiting.wait(60)
        gated.gate.set()
        tools.keeper.call_wait = 120.0
        assert found(tools, "okapi clusters etcd quorum racks", "Okapi clusters keep")
    finally:
        gated.gate.set()
        tools.close()


@pytest.mark.slow
def test_search_modes_path_filter_get_note_lines_and_list_pages(built: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    notes = built.notes[0]
    (notes / "tasks").mkdir()
    for n in range(7):
        (notes / "tasks" / f"task{n}.md").write_text(f"# Task {n}\n\nRoll back deployment number {n} with care.\n")
    tools = make_tools(built, embedder)
    try:
        _, data = tools.search("kubectl rollout undo", mode="exact")
        assert data["passages"] and all("kubectl rollout undo" in p["text"].lower() for p in data["passages"])
        assert any(s["code"].startswith(COMMAND) for s in data["snippets"]) and data["mode"] == "exact"
        _, data = tools.search("roll back a deployment", path="tasks/")
        assert data["passages"] and {p["path"] for p in data["passages"]} <= {f"tasks/task{n}.md" for n in range(7)}
        _, data = tools.search("roll back a deployment", path="*.md", mode="lexical", k=2)
        assert len(data["passages"]) == 2
        _, data = tools.search("roll back a deployment", path="nothing/*")
        assert data["passages"] == [] and data["snippets"] == []
        pages, cursor = [], None
        while True:
            _, page = tools.list_notes(prefix="tasks/", cursor=cursor, limit=3)
            pages.append([n["path"] for n in page["notes"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == [[f"tasks/task{n}.md" for n in range(i, min(i + 3, 7))] for i in (0, 3, 6)]
        _, default = tools.list_notes()
        assert default["total"] == 8 and len(default["notes"]) == 8
        markdown, lines = tools.get_note("tasks/task3.md", from_line=3, max_lines=1)
        assert lines["text"] == "Roll back deployment number 3 with care." and lines["next_from_line"] is None
        with pytest.raises(BadRequest, match="Did you mean: tasks/task3.md"):
            tools.get_note("task3.md")
        with pytest.raises(BadRequest, match="at most 2000"):
            tools.search("x" * 2001)
    finally:
        tools.close()


def test_list_notes_is_small_by_default_on_a_large_corpus(tmp_path: Path) -> None:
    from assistant.app.mcp_tools import LIST_LIMIT
    from assistant.views.mcp_results import list_markdown

    keys = [f"content/en/docs/tasks/administer-cluster/some-long-page-name-{n:04d}.md" for n in range(1636)]
    index = {"fresh": True, "updating": False, "stale": {}, "problem": None, "notes": 1636, "built_at": None}
    page = [{"path": k, "sections": 12} for k in keys[:LIST_LIMIT]]
    data = {"folders": ["/home/you/notes"], "prefix": "", "total": len(keys), "index": index, "notes": page}
    data["next_cursor"] = keys[LIST_LIMIT - 1]
    assert len(list_markdown(data)) + len(json.dumps(data)) <= 8 * 1024


# --- cancellation --------------------------------------------------------------------------------------------


class Cancelled(BaseException):
    """What a cancelled call's checkpoint raises (the server's raises anyio's cancellation, a BaseException)."""


@pytest.mark.slow
def test_a_cancelled_search_stops_at_the_next_stage_and_the_next_call_answers(built: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    tools = make_tools(built, embedder)
    try:
        tools.search(QUESTION)  # the start-up update has ended
        stages: list[str] = []
        tools.search(QUESTION, check=stages.append)
        assert stages == ["before answering", "after embedding", "after ranking", "before rendering"]
        for stop_at in stages:

            def cancel(stage: str, stop_at: str = stop_at) -> None:
                if stage == stop_at:
                    raise Cancelled(stage)

            with pytest.raises(Cancelled, match=stop_at):
                tools.search(QUESTION, check=cancel)
            _, data = tools.search("how do I taint a node")  # the next call is answered: nothing is left held
            assert data["status"] == "ready" and data["passages"]
    finally:
        tools.close()


@pytest.mark.slow
def test_a_call_the_client_cancels_is_never_answered_and_the_next_one_is(built: Settings) -> None:
    """The SDK client cancels a search_notes that waits for an update (held still: this test holds the index's
    lock) once it reports progress; the server stops it at its next stage boundary, sends nothing for it, and
    answers the next call."""
    from filelock import FileLock
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(command=sys.executable, args=server_args(built), env=dict(os.environ))
    errlog = built.notes[0].parent / "server.log"
    sent: list[Any] = []  # every message, in order: ("out" | "in", message)
    lock = FileLock(str(built.index / ".lock"))

    async def tapped(source: Any, sink: Any, way: str) -> None:
        async with sink:
            async for item in source:
                sent.append((way, getattr(item, "message", item)))
                await sink.send(item)

    async def scenario(session: Any) -> None:
        await ready(session)
        lock.acquire(timeout=30)
        try:
            waiting = (await session.call_tool("reindex", {})).structured_content  # the update waits for the lock
            assert waiting["build"]["running"] is True
            progressed = anyio.Event()

            async def progress(percent: float, total: float | None, message: str | None) -> None:
                progressed.set()

            async def cancelled_call() -> None:
                await session.call_tool("search_notes", {"question": QUESTION}, progress_callback=progress)
                raise AssertionError("a cancelled call got an answer")

            async with anyio.create_task_group() as group:
                group.start_soon(cancelled_call)
                await progressed.wait()  # it is waiting for the update
                group.cancel_scope.cancel()
            result = await session.call_tool("search_notes", {"question": "how do I taint a node"})
            assert not result.is_error and result.structured_content["status"] == "ready"
            assert result.structured_content["index"]["updating"] is True  # answered from the index as it is
        finally:
            lock.release()
        assert (await ready(session))["build"]["error"] is None

    async def main() -> None:
        with anyio.fail_after(120), errlog.open("w") as err:
            async with stdio_client(params, errlog=err) as (read, write), anyio.create_task_group() as taps:
                to_client, from_server = anyio.create_memory_object_stream[Any](100)
                to_server, from_client = anyio.create_memory_object_stream[Any](100)
                taps.start_soon(tapped, read, to_client, "in")
                taps.start_soon(tapped, from_client, write, "out")
                async with ClientSession(from_server, to_server) as session:
                    await session.initialize()
                    await scenario(session)
                taps.cancel_scope.cancel()

    anyio.run(main)
    searches = [m.id for way, m in sent if way == "out" and getattr(m, "method", None) == "tools/call"
                and m.params["name"] == "search_notes"]  # fmt: skip
    cancelled, answered = searches[-2], searches[-1]
    cancels = [
        n for n, (way, m) in enumerate(sent) if way == "out" and getattr(m, "method", "") == "notifications/cancelled"
    ]
    assert [sent[n][1].params["requestId"] for n in cancels] == [cancelled]
    replies = {m.id: n for n, (way, m) in enumerate(sent) if way == "in" and getattr(m, "method", None) is None}
    assert cancelled not in replies  # no result, no error: nothing at all for the cancelled call
    assert replies[answered] > cancels[0]
    log = errlog.read_text()
    assert "search_notes cancelled by the client while waiting for the index update" in log

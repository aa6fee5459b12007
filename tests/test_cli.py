"""The one-shot CLI, driven through typer's runner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from assistant.app.cli import app
from assistant.app.core import Assistant

runner = CliRunner()


def args(seed_assistant: Assistant) -> list[str]:
    s = seed_assistant.settings
    return ["--notes", str(s.notes[0]), "--index", str(s.index)]


def test_ask_json_has_the_documented_keys(seed_assistant: Assistant) -> None:
    result = runner.invoke(
        app, ["ask", "undo the last rollout of my nginx deployment", "--json", *args(seed_assistant)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"question", "passages", "snippets"} <= set(data)
    assert set(data["passages"][0]) >= {"rank", "score", "path", "start_line", "end_line", "headings", "text"}
    assert set(data["snippets"][0]) >= {
        "rank",
        "lang",
        "code",
        "label",
        "path",
        "start_line",
        "headings",
        "placeholders",
    }
    assert data["snippets"][0]["code"].startswith("kubectl rollout undo deploy/nginx")
    assert [p["rank"] for p in data["passages"]] == list(range(1, len(data["passages"]) + 1))


def test_ask_k_limits_results(seed_assistant: Assistant) -> None:
    result = runner.invoke(app, ["ask", "an example of a storage class", "-k", "2", "--json", *args(seed_assistant)])
    data = json.loads(result.stdout)
    assert len(data["passages"]) == 2 and len(data["snippets"]) <= 2


def test_stdin_questions_give_one_json_object_per_line(seed_assistant: Assistant) -> None:
    result = runner.invoke(
        app,
        ["ask", "--json", *args(seed_assistant)],
        input="Flannel vs Calico?\n\nmake a cronjob that runs on a schedule\n",
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert [json.loads(line)["question"] for line in lines] == [
        "Flannel vs Calico?",
        "",  # a blank line keeps its place: one line out per line in
        "make a cronjob that runs on a schedule",
    ]
    assert "comparison" in json.loads(lines[0]) and json.loads(lines[1])["error"] == "empty question"


def test_terminal_view_names_sources(seed_assistant: Assistant) -> None:
    result = runner.invoke(app, ["ask", "show me the contents of a secret", *args(seed_assistant)])
    assert result.exit_code == 0
    assert "kubernetes-therapy.md:" in result.stdout and "kubectl get secret SecretName -o yaml" in result.stdout


def test_unknown_option_is_a_usage_error() -> None:
    result = runner.invoke(app, ["ask", "x", "--bogus"])
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_bad_k_is_a_usage_error() -> None:
    assert runner.invoke(app, ["ask", "x", "-k", "0"]).exit_code == 2


def test_missing_notes_folder_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["ask", "x", "--notes", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "notes folder not found" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_no_index_yet_is_built_on_first_ask(tmp_path, notes_dir) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        app,
        [
            "ask",
            "make a cronjob that runs on a schedule",
            "--json",
            "--notes",
            str(notes_dir),
            "--index",
            str(tmp_path / "fresh"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "building it" in result.stderr
    assert "create cronjob" in json.loads(result.stdout)["snippets"][0]["code"]


@pytest.mark.slow
def test_index_and_status(tmp_path, notes_dir) -> None:  # type: ignore[no-untyped-def]
    common = ["--notes", str(notes_dir), "--index", str(tmp_path / "idx")]
    result = runner.invoke(app, ["index", *common])
    assert result.exit_code == 0 and "1 added" in result.stdout
    result = runner.invoke(app, ["index", "--json", *common])
    assert json.loads(result.stdout)["embedded"] == 0
    (notes_dir / "kubernetes-therapy.md").write_text("# Changed\n\nnew text\n")
    result = runner.invoke(app, ["status", *common])
    assert "stale:   kubernetes-therapy.md (changed)" in result.stdout
    result = runner.invoke(app, ["status", "--json", *common])
    assert json.loads(result.stdout)["stale"]["changed"] == ["kubernetes-therapy.md"]


@pytest.mark.slow
def test_ask_notices_edits_before_answering(tmp_path, notes_dir) -> None:  # type: ignore[no-untyped-def]
    common = ["--notes", str(notes_dir), "--index", str(tmp_path / "idx")]
    runner.invoke(app, ["index", *common])
    with (notes_dir / "kubernetes-therapy.md").open("a") as f:
        f.write("\n## Zebra clusters\n\nZebra clusters use striped etcd quorum.\n")
    result = runner.invoke(app, ["ask", "zebra striped quorum", "--json", *common])
    assert "index updated: 1 changed" in result.stderr
    assert json.loads(result.stdout)["passages"][0]["headings"][-1] == "Zebra clusters"


def test_every_command_has_help_and_is_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    commands = [c.name or c.callback.__name__ for c in app.registered_commands]  # type: ignore[union-attr]
    assert {"ask", "index", "status", "watch", "eval", "open", "mcp", "prune"} <= set(commands)
    for command in commands:
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and len(result.stdout) > 100
        assert f"kt {command}" in readme, command

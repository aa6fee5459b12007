"""`kt open FILE:LINE`: the section of the notes at a source an answer named, printed (the one-shot `:open`) or
opened in the user's editor at that line."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.app.cli import app
from assistant.app.core import Assistant, NotInNotes
from assistant.views.sources import editor_argv, parse_location

runner = CliRunner(env={"NO_COLOR": None, "FORCE_COLOR": None, "VISUAL": None, "EDITOR": None, "VTE_VERSION": None})


def where(seed_assistant: Assistant) -> list[str]:
    s = seed_assistant.settings
    return ["--notes", str(s.notes[0]), "--index", str(s.index)]


def line_of(seed_assistant: Assistant, text: str) -> int:
    note = seed_assistant.settings.notes[0] / "kubernetes-therapy.md"
    return next(n for n, line in enumerate(note.read_text().splitlines(), 1) if text in line)


def test_open_prints_the_section_holding_the_line(seed_assistant: Assistant) -> None:
    line = line_of(seed_assistant, "kubectl rollout undo")
    result = runner.invoke(app, ["open", f"kubernetes-therapy.md:{line}", *where(seed_assistant)])
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0]
    path, start = header.split()[0].rsplit(":", 1)
    assert path == "kubernetes-therapy.md" and int(start) <= line
    assert "CKAD Commands" in header
    assert "kubectl rollout undo deploy/nginx" in result.stdout
    assert "Calico" not in result.stdout  # that section, not the file


def test_open_shows_what_the_repl_open_shows(seed_assistant: Assistant) -> None:
    """The answer's sources open to the same section as `:open N` in the REPL."""
    answer = seed_assistant.ask("Flannel vs Calico?")
    for hit in answer.passages:
        _, section = seed_assistant.lookup.section_at(hit.chunk.path, hit.chunk.start_line)
        assert section == seed_assistant.lookup.section(hit.index)


def test_open_takes_a_path_to_the_note_and_a_column(seed_assistant: Assistant) -> None:
    note = seed_assistant.settings.notes[0] / "kubernetes-therapy.md"
    by_key = runner.invoke(app, ["open", "kubernetes-therapy.md:210", *where(seed_assistant)])
    by_path = runner.invoke(app, ["open", f"{note}:210:3", *where(seed_assistant)])
    assert by_key.exit_code == by_path.exit_code == 0
    assert by_key.stdout == by_path.stdout and "Calico" in by_key.stdout


def test_long_lines_are_not_wrapped_when_piped(seed_assistant: Assistant) -> None:
    line = line_of(seed_assistant, "--dry-run -o yaml > output.yaml")
    result = runner.invoke(app, ["open", f"kubernetes-therapy.md:{line}", *where(seed_assistant)])
    assert any(ln.startswith("kubectl run") and ln.endswith("output.yaml") for ln in result.stdout.splitlines())


def test_the_source_is_a_hyperlink_on_a_colour_terminal(seed_assistant: Assistant) -> None:
    note = (seed_assistant.settings.notes[0] / "kubernetes-therapy.md").resolve()
    result = runner.invoke(app, ["--color", "always", "open", "kubernetes-therapy.md:3", *where(seed_assistant)])
    assert result.exit_code == 0
    assert "\x1b]8;id=" in result.stdout and f";{note.as_uri()}#3\x1b\\" in result.stdout  # OSC 8, at the line
    plain = runner.invoke(app, ["open", "kubernetes-therapy.md:3", *where(seed_assistant)])
    assert "\x1b]8" not in plain.stdout


def test_color_setting_reaches_the_output(seed_assistant: Assistant) -> None:
    """Piped output has no colour by default; `color = "always"` (here from the option) keeps it."""
    plain = runner.invoke(app, ["open", "kubernetes-therapy.md:1", *where(seed_assistant)])
    coloured = runner.invoke(app, ["--color", "always", "open", "kubernetes-therapy.md:1", *where(seed_assistant)])
    assert plain.exit_code == coloured.exit_code == 0, plain.output + coloured.output
    assert "\x1b[" not in plain.stdout and "\x1b[" in coloured.stdout


@pytest.mark.parametrize(
    ("location", "code", "message"),
    [
        ("nowhere.md:3", 1, "nowhere.md is not one of your notes"),
        ("kubernetes-therapy.md:0", 2, "lines are numbered from 1"),
        ("kubernetes-therapy.md:abc", 2, "LINE must be a number"),  # the same kind of mistake, the same code
        ("kubernetes-therapy.md:99999", 1, "past the end: the note has"),
    ],
)
def test_open_errors(seed_assistant: Assistant, location: str, code: int, message: str) -> None:
    result = runner.invoke(app, ["open", location, *where(seed_assistant)])
    assert result.exit_code == code and message in result.stderr and "Traceback" not in result.output


@pytest.fixture
def fake_editor(tmp_path: Path) -> tuple[Path, Path]:
    """An executable that records the arguments it was started with."""
    log = tmp_path / "editor-args.json"
    script = tmp_path / "fake-editor"
    script.write_text(f"#!{sys.executable}\nimport json, sys\njson.dump(sys.argv[1:], open({str(log)!r}, 'w'))\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, log


def test_edit_opens_the_editor_at_the_line(seed_assistant: Assistant, fake_editor: tuple[Path, Path]) -> None:
    script, log = fake_editor
    note = seed_assistant.settings.notes[0] / "kubernetes-therapy.md"
    result = runner.invoke(
        app, ["open", "kubernetes-therapy.md:29", "--edit", *where(seed_assistant)], env={"EDITOR": str(script)}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(log.read_text()) == ["+29", str(note)]


def test_edit_prefers_visual_and_needs_an_editor(
    seed_assistant: Assistant, fake_editor: tuple[Path, Path], tmp_path: Path
) -> None:
    script, log = fake_editor
    env = {"VISUAL": f"{script} --wait", "EDITOR": "/nonexistent/editor"}
    result = runner.invoke(app, ["open", "kubernetes-therapy.md:5", "--edit", *where(seed_assistant)], env=env)
    assert result.exit_code == 0 and json.loads(log.read_text())[:2] == ["--wait", "+5"]
    no_editors = {"PATH": str(tmp_path)}  # neither variable set, and no `editor`, `vi` or `nano` to fall back on
    result = runner.invoke(app, ["open", "kubernetes-therapy.md:5", "--edit", *where(seed_assistant)], env=no_editors)
    assert result.exit_code == 1 and "set $VISUAL or $EDITOR" in result.stderr
    result = runner.invoke(
        app, ["open", "kubernetes-therapy.md:5", "--edit", *where(seed_assistant)], env={"EDITOR": "/nonexistent/ed"}
    )
    assert result.exit_code == 1 and "editor not found: /nonexistent/ed" in result.stderr


def test_editor_conventions() -> None:
    path = Path("/notes/pods.md")
    assert editor_argv(path, 7, {"EDITOR": "nvim"}) == ["nvim", "+7", "/notes/pods.md"]
    assert editor_argv(path, 7, {"EDITOR": "code --wait"}) == ["code", "--wait", "--goto", "/notes/pods.md:7"]
    assert editor_argv(path, 7, {"VISUAL": "/usr/bin/subl", "EDITOR": "vi"}) == ["/usr/bin/subl", "/notes/pods.md:7"]
    assert editor_argv(path, 7, {}, which=lambda name: None) is None
    vi_only = lambda name: f"/usr/bin/{name}" if name == "vi" else None  # noqa: E731
    assert editor_argv(path, 7, {}, which=vi_only) == ["vi", "+7", "/notes/pods.md"]  # the platform's editor


@pytest.mark.parametrize(
    ("editor", "argv"),
    [
        # VS Code and its builds take -g/--goto FILE:LINE (`+7` would be a file name); --wait stays where it is
        ("code", ["code", "--goto", "/notes/pods.md:7"]),
        ("code --wait", ["code", "--wait", "--goto", "/notes/pods.md:7"]),
        ("code -w", ["code", "-w", "--goto", "/notes/pods.md:7"]),
        ("/usr/bin/codium --wait", ["/usr/bin/codium", "--wait", "--goto", "/notes/pods.md:7"]),
        ("code-oss --wait", ["code-oss", "--wait", "--goto", "/notes/pods.md:7"]),
        ("cursor --wait", ["cursor", "--wait", "--goto", "/notes/pods.md:7"]),
        # helix, Sublime Text and Zed read FILE:LINE
        ("hx", ["hx", "/notes/pods.md:7"]),
        ("helix", ["helix", "/notes/pods.md:7"]),
        ("subl -w", ["subl", "-w", "/notes/pods.md:7"]),
        ("zed --wait", ["zed", "--wait", "/notes/pods.md:7"]),
        # the rest: +LINE FILE
        ("vim", ["vim", "+7", "/notes/pods.md"]),
        ("nano", ["nano", "+7", "/notes/pods.md"]),
        ("emacsclient -t", ["emacsclient", "-t", "+7", "/notes/pods.md"]),
        ("kak", ["kak", "+7", "/notes/pods.md"]),
    ],
)
def test_each_editor_is_opened_at_the_line_its_own_way(editor: str, argv: list[str]) -> None:
    assert editor_argv(Path("/notes/pods.md"), 7, {"VISUAL": editor}) == argv


def test_locations_parse() -> None:
    assert parse_location("notes/pods.md:42") == ("notes/pods.md", 42)
    assert parse_location("pods.md:42:7") == ("pods.md", 42)
    assert parse_location("pods.md") == ("pods.md", 1)
    assert parse_location(os.path.join("a b", "c.md:3")) == ("a b/c.md", 3)


def test_open_finds_each_note_among_several(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from assistant.config import Settings

    notes = tmp_path / "notes"
    (notes / "team").mkdir(parents=True)
    names = ["a.md", "m.md", "team/z.md", "zz.md"]
    for n, name in enumerate(names):
        (notes / name).write_text(
            f"# Note {n}\n\nintro {n}\n\n## Part one of {n}\n\none\n\n## Part two of {n}\n\ntwo\n"
        )
    assistant = Assistant(Settings((notes,), tmp_path / "index"), notice=lambda m: None, embedder=embedder)
    assistant.update()
    for n, name in enumerate(names):
        for line, heading in (
            (1, f"Note {n}"),
            (6, f"Part one of {n}"),
            (9, f"Part two of {n}"),
            (11, f"Part two of {n}"),
        ):
            file, section = assistant.lookup.section_at(name, line)
            assert file == notes / name and section[0].path == name and section[0].headings[-1] == heading
        with pytest.raises(NotInNotes, match="past the end: the note has 11 lines"):
            assistant.lookup.section_at(name, 99)

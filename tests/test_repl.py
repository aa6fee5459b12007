"""The REPL, fed input as a user would type it."""

from __future__ import annotations

import io
import os

from rich.console import Console

from assistant.app.core import Assistant
from assistant.app.repl import Repl, copy_to_clipboard, run_repl, shift


def run(assistant: Assistant, lines: list[str]) -> str:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    assert run_repl(assistant, input_lines=[line + "\n" for line in lines], console=console) == 0
    return out.getvalue()


def test_conversation_with_follow_ups_copy_and_fill(seed_assistant: Assistant) -> None:
    out = run(seed_assistant, [
        "Flannel vs Calico?",
        "which one is faster?",
        "show me the contents of a secret",
        ":copy 1",
        "stream logs of a container",
        ":fill 1",
        "web-1",
        "",
        ":quit",
        "this line is never read",
    ])  # fmt: skip
    assert "Flannel" in out and "Calico" in out
    assert "(searched as: Flannel vs Calico: which one is faster)" in out
    assert "no terminal to copy to; snippet 1 is below" in out  # StringIO is not a terminal
    assert "kubectl get secret SecretName -o yaml" in out
    assert "value for podName" not in out  # prompts go to the input source, the filled code to the view
    assert "kubectl logs -f web-1 containerName" in out  # an empty answer keeps the placeholder
    assert "this line is never read" not in out


def test_and_for_swaps_the_subject(seed_assistant: Assistant) -> None:
    out = run(seed_assistant, ["how can I roll a deployment back to its previous version", "and for StatefulSets?"])
    assert "(searched as: how can I roll a StatefulSets back to its previous version)" in out


def test_open_more_help_and_errors(seed_assistant: Assistant) -> None:
    out = run(
        seed_assistant,
        [":open 1", "when should I pick a DaemonSet", ":open 1", ":more", ":copy x", ":nope", ":help"],
    )
    assert "ask a question first" in out
    assert "ensure pod is running on every node" in out
    assert "give a number" in out and "unknown command :nope" in out and ":fill N" in out


def test_prompt_toolkit_session_reads_piped_keys(seed_assistant: Assistant) -> None:
    """The interactive path: a real PromptSession on a pipe input, Ctrl-C dropping a line, Ctrl-D quitting."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    with create_pipe_input() as pipe:
        session: PromptSession[str] = PromptSession(input=pipe, output=DummyOutput())
        repl = Repl(seed_assistant, console, session.prompt, interactive=True)
        pipe.send_text("make a cronjob that runs on a schedule\r")
        assert repl.handle(session.prompt("kt> "))
        pipe.send_text(":quit\r")
        assert not repl.handle(session.prompt("kt> "))
    assert "kubectl create cronjob nginx" in out.getvalue()


def test_osc52_copy_writes_the_sequence() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    assert copy_to_clipboard("kubectl get pods", tty)
    assert tty.getvalue() == "\x1b]52;c;a3ViZWN0bCBnZXQgcG9kcw==\x07"
    assert not copy_to_clipboard("x", io.StringIO())


def test_commands_without_a_number_explain_themselves(seed_assistant: Assistant) -> None:
    out = run(seed_assistant, [":open", "when should I pick a DaemonSet", ":open", ":copy", ":fill x"])
    assert out.count(":open N shows the whole section of passage N") == 2  # before and after a question
    assert ":copy N copies snippet [N] to the clipboard, e.g. :copy 1" in out
    assert "give a number: :fill N fills in the placeholders" in out
    assert "e.g. :copy 1" not in out.split(":copy N copies")[0]  # :open no longer suggests :copy


def test_numbers_continue_after_more_and_keep_their_meaning(seed_assistant: Assistant) -> None:
    question = "kubectl commands to create things"
    first, second = seed_assistant.ask(question), seed_assistant.ask(question, offset=5)
    more = [":more"] * 4  # the rest of the first answer (it fits 25 rows), then the next results
    out = run(seed_assistant, [question, *more, ":copy 1", f":copy {5 + 1}", ":open 6", ":copy 99"])
    copied = out.split("no terminal to copy to; snippet 1 is below:")[1]
    assert copied.lstrip().startswith(first.snippets[0].snippet.code.splitlines()[0])
    copied = out.split("no terminal to copy to; snippet 6 is below:")[1]
    assert copied.lstrip().startswith(second.snippets[0].snippet.code.splitlines()[0])
    assert f"[6] {second.snippets[0].snippet.label}" in out  # the next page is numbered on, not from 1 again
    assert f"{second.passages[0].chunk.path}:{second.passages[0].chunk.start_line}" in out.split(":open 6")[-1]
    assert "no snippet [99] in the last answer" in out


def test_shift_numbers_every_reference(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("exec into a pod and run ls")
    moved = shift(answer, 5)
    assert [h.rank for h in moved.passages] == [h.rank + 5 for h in answer.passages]
    assert [s.rank for s in moved.snippets] == [s.rank + 5 for s in answer.snippets]
    assert [w.snippet for w in moved.warnings] == [w.snippet + 5 for w in answer.warnings]
    assert [p.passage for p in moved.key_points] == [p.passage + 5 for p in answer.key_points]


def test_edit_opens_the_editor_at_the_passage_line(seed_assistant: Assistant, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    record = tmp_path / "args"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$@" > {record}\n')
    editor.chmod(0o755)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", str(tmp_path))  # and no `editor`, `vi` or `nano` to fall back on
    out = run(seed_assistant, ["show me the contents of a secret", ":edit 1"])
    assert "set $VISUAL or $EDITOR to edit notes" in out
    monkeypatch.setenv("PATH", path)
    monkeypatch.setenv("VISUAL", str(editor))
    run(seed_assistant, ["show me the contents of a secret", ":edit 1"])
    hit = seed_assistant.ask("show me the contents of a secret").passages[0]
    note = seed_assistant.settings.notes[0] / hit.chunk.path
    assert record.read_text().split() == [f"+{hit.chunk.start_line}", str(note)]


def test_status_shows_what_kt_status_shows(seed_assistant: Assistant) -> None:
    out = run(seed_assistant, [":status"])
    assert out.splitlines() == seed_assistant.status().lines()
    assert any(line.startswith("content: ") for line in out.splitlines())

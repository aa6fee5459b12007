"""The REPL, fed input as a user would type it."""

from __future__ import annotations

import io

from rich.console import Console

from assistant.core import Assistant
from assistant.repl import Repl, copy_to_clipboard, run_repl


def run(assistant: Assistant, lines: list[str]) -> str:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    assert run_repl(assistant, input_lines=[line + "\n" for line in lines], console=console) == 0
    return out.getvalue()


def test_conversation_with_follow_ups_copy_and_fill(seed_assistant: Assistant) -> None:
    out = run(seed_assistant, [
        "Flannel vs Calico?",
        "which one is faster?",
        "how do I view a secret",
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
    out = run(seed_assistant, ["how do I roll back a deployment", "and for StatefulSets?"])
    assert "(searched as: how do I roll back a StatefulSets)" in out


def test_open_more_help_and_errors(seed_assistant: Assistant) -> None:
    out = run(
        seed_assistant,
        [":open 1", "what is a DaemonSet good for", ":open 1", ":more", ":copy x", ":nope", ":help"],
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
        pipe.send_text("create a cronjob\r")
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

"""The interactive REPL (prompt-toolkit): ask, follow up, page, open, copy and fill snippets.

`run_repl` takes its input source, so tests (and pipes) feed it lines: with stdin not a terminal it answers
each line and exits.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Callable, Iterator
from typing import Any

from assistant.answer import Answer
from assistant.core import Assistant
from assistant.followup import Conversation
from assistant.placeholders import fill, find_placeholders
from assistant.render import code_view, heading_path, render_answer, sanitize

HELP = """\
Ask a question in plain words, e.g. "Flannel vs Calico?" or "how do I roll back a deployment".
Follow-ups use the conversation: "which one is faster?", "show me the yaml", "and for StatefulSets?".
  :more       next results for the last question
  :open N     the whole section of passage N
  :copy N     copy snippet N to the clipboard (OSC 52: works over SSH)
  :fill N     fill in the placeholders of snippet N (<podName>, $NAMESPACE, …), then copy it
  :new        forget the conversation (next question starts fresh)
  :help       this help        :quit (or Ctrl-D) leave       Ctrl-C drops the line"""

ReadLine = Callable[[str], str]


class Repl:
    def __init__(self, assistant: Assistant, console: Any, read_line: ReadLine, interactive: bool) -> None:
        self.assistant = assistant
        self.console = console
        self.read_line = read_line
        self.interactive = interactive
        self.conversation = Conversation()
        self.answer: Answer | None = None
        self.offset = 0
        self.k = 5

    def handle(self, line: str) -> bool:
        """Handle one input line; False means quit."""
        line = line.strip()
        if not line:
            return True
        if line.startswith(":"):
            return self.command(line)
        self.assistant.refresh()
        self.offset = 0
        self.answer = self.assistant.ask(line, k=self.k, conversation=self.conversation)
        render_answer(self.answer, self.console, hint="repl" if self.interactive else None)
        return True

    def command(self, line: str) -> bool:
        name, _, arg = line[1:].partition(" ")
        name = name.lower()
        if name in ("q", "quit", "exit"):
            return False
        if name in ("h", "help", "?"):
            self.console.print(HELP, markup=False, highlight=False)
        elif name == "new":
            self.conversation = Conversation()
            self.answer = None
            self.say("conversation cleared")
        elif name == "more":
            self.more()
        elif name in ("open", "copy", "fill"):
            n = self.number(arg)
            if n is not None:
                getattr(self, name)(n)
        else:
            self.say(f"unknown command :{name} (try :help)")
        return True

    def say(self, message: str, style: str = "yellow") -> None:
        from rich.text import Text

        self.console.print(Text(message, style=style))

    def number(self, arg: str) -> int | None:
        if self.answer is None:
            self.say("ask a question first")
            return None
        try:
            return int(arg)
        except ValueError:
            self.say("give a number, e.g. :copy 1")
            return None

    def more(self) -> None:
        if self.answer is None:
            self.say("ask a question first")
            return
        self.offset += self.k
        question = self.answer.rewritten or self.answer.question
        page = self.assistant.ask(question, k=self.k, offset=self.offset)
        if not page.passages and not page.snippets:
            self.say("no more results")
            return
        self.answer = page
        render_answer(page, self.console, hint="repl" if self.interactive else None)

    def open(self, n: int) -> None:
        assert self.answer is not None
        hit = next((h for h in self.answer.passages if h.rank == n), None)
        if hit is None:
            self.say(f"no passage {n} in the last answer")
            return
        from rich.text import Text

        for chunk in self.assistant.section(hit):
            self.console.print(
                Text(
                    f"{chunk.path}:{chunk.start_line}  {sanitize(heading_path(chunk.headings))}",
                    style="bold green",
                )
            )
            self.console.print(Text(sanitize(chunk.text)))

    def _snippet(self, n: int) -> Any:
        assert self.answer is not None
        hit = next((s for s in self.answer.snippets if s.rank == n), None)
        if hit is None:
            self.say(f"no snippet {n} in the last answer")
        return hit

    def copy(self, n: int, code: str | None = None) -> None:
        hit = self._snippet(n)
        if hit is None:
            return
        code = code if code is not None else hit.snippet.code
        if copy_to_clipboard(code):
            self.say(f"copied snippet {n} to the clipboard ({len(code.splitlines())} lines)", style="green")
        else:
            self.say(f"no terminal to copy to; snippet {n} is below:")
            self.console.print(code_view(code, hit.snippet.lang))

    def fill(self, n: int) -> None:
        hit = self._snippet(n)
        if hit is None:
            return
        slots = find_placeholders(hit.snippet.code, hit.snippet.lang)
        if not slots:
            self.say(f"snippet {n} has no placeholders")
            return
        values = {}
        for slot in slots:
            values[slot] = self.read_line(f"value for {slot} (empty keeps it): ").strip()
        code = fill(hit.snippet.code, values)
        self.console.print(code_view(code, hit.snippet.lang))
        self.copy(n, code)


def copy_to_clipboard(text: str, stream: Any = None) -> bool:
    """Write an OSC 52 clipboard sequence, which terminals honour even over SSH. False if not a terminal."""
    stream = stream or sys.stdout
    if not getattr(stream, "isatty", lambda: False)():
        return False
    payload = base64.b64encode(text.encode()).decode()
    stream.write(f"\x1b]52;c;{payload}\x07")
    stream.flush()
    return True


def _lines(source: Any) -> Iterator[str]:
    for line in source:
        yield line.rstrip("\n")


def run_repl(assistant: Assistant, input_lines: Any = None, console: Any = None) -> int:
    """Run the REPL. Interactive (prompt-toolkit, history, Ctrl-C/Ctrl-D) when stdin is a terminal and no
    input is given; otherwise answer each input line and return."""
    from rich.console import Console

    console = console or Console(highlight=False)
    interactive = input_lines is None and sys.stdin.isatty()
    if not interactive:
        lines = _lines(input_lines if input_lines is not None else sys.stdin)

        def read_line(prompt: str) -> str:
            return next(lines, "")

        repl = Repl(assistant, console, read_line, interactive=False)
        for line in lines:
            if not repl.handle(line):
                break
        return 0

    session = _session()
    repl = Repl(assistant, console, lambda prompt: session.prompt(prompt), interactive=True)
    console.print("[bold]Kubernetes Therapy[/bold] — ask about your notes (:help, Ctrl-D to quit)")
    assistant.reader()  # build or heal the index before the first question, with progress
    while True:
        try:
            line = session.prompt("kt> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            return 0
        try:
            if not repl.handle(line):
                return 0
        except KeyboardInterrupt:
            repl.say("interrupted")


def _session() -> Any:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    from assistant.config import history_file

    path = history_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    return PromptSession(history=FileHistory(str(path)))

"""The interactive REPL (prompt-toolkit): ask, follow up, page, open, copy and fill snippets.

`run_repl` takes its input source, so tests (and pipes) feed it lines: with stdin not a terminal it answers
each line and exits.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answer.placeholders import fill, find_placeholders
from assistant.answer.types import Answer
from assistant.app.core import Assistant, plural
from assistant.query.followup import Conversation
from assistant.views.terminal import (
    MIN_ROWS,
    RESERVED_ROWS,
    Shown,
    code_view,
    file_links,
    heading_path,
    make_console,
    note_path,
    render_answer,
    sanitize,
)

if TYPE_CHECKING:
    from assistant.rank.search import Hit, SnippetHit

HELP = """\
Ask a question in plain words, e.g. "Flannel vs Calico?" or "how do I undo a rollout".
Follow-ups use the conversation: "which one is faster?", "show me the yaml", "and for StatefulSets?".
Snippets are numbered [1], [2], …; passages 1., 2., … (the numbers stay those on screen after :more).
  :more       the rest of the answer (or of a long :open), then the next results
  :open N     the whole section of passage N, a screenful at a time
  :edit N     open passage N's note in $VISUAL / $EDITOR at its line
  :copy N     copy snippet [N] to the clipboard (OSC 52: works over SSH)
  :fill N     fill in the placeholders of snippet [N] (<podName>, $NAMESPACE, …), then copy it
              (the values you type are not kept in the history)
  :new        forget the conversation (next question starts fresh)
  :status     the notes folders, the index and the notes changed since it was built (as `kt status`)
  :help       this help        :quit (or Ctrl-D) leave       Ctrl-C drops the line"""

# Words that mean the REPL command when typed alone, without the colon: nobody asks their notes "exit".
BARE_COMMANDS = {"exit", "quit", "help"}

USAGE = {
    "open": ":open N shows the whole section of passage N (the numbered passages: 1., 2., …), e.g. :open 1",
    "edit": ":edit N opens passage N's note in your editor at its line, e.g. :edit 1",
    "copy": ":copy N copies snippet [N] to the clipboard, e.g. :copy 1",
    "fill": ":fill N fills in the placeholders of snippet [N], then copies it, e.g. :fill 1",
}

ReadLine = Callable[[str], str]


def shift(answer: Answer, by: int) -> Answer:
    """The answer with its passages and snippets numbered from by + 1 (a :more page continues the numbers)."""
    if not by:
        return answer
    return replace(
        answer,
        passages=[replace(h, rank=h.rank + by) for h in answer.passages],
        snippets=[
            replace(s, rank=s.rank + by, passage=None if s.passage is None else s.passage + by) for s in answer.snippets
        ],
        key_points=[replace(p, passage=p.passage + by) for p in answer.key_points],
        warnings=[replace(w, snippet=w.snippet + by) for w in answer.warnings],
    )


class Repl:
    """One conversation: questions and follow-ups, `:more` pages, `:new`, `:status`, `:help`; the commands on a
    numbered snippet or passage are `Items`'s."""

    def __init__(
        self,
        assistant: Assistant,
        console: Any,
        read_line: ReadLine,
        interactive: bool,
        read_value: ReadLine | None = None,
        plain: bool = False,
    ) -> None:
        """`read_value` reads what :fill asks for; it must not keep a history (values may be secrets). `plain`:
        answers as plain text (output piped)."""
        self.plain = plain
        self.link = file_links(assistant.folders)  # sources as hyperlinks to the notes, where terminals allow
        self.assistant = assistant
        self.console = console
        self.read_line = read_line
        self.interactive = interactive
        self.items = Items(assistant, console, read_value or read_line, interactive)
        self.conversation = Conversation()
        self.answer: Answer | None = None
        self.shown = Shown()
        self.offset = 0
        self.k = assistant.settings.top_k
        # `:NAME` with no number: the commands of the conversation
        self.commands: dict[str, Callable[[], None]] = {
            "help": self.help, "h": self.help, "?": self.help, "new": self.new, "more": self.more,
            "status": self.status,
        }  # fmt: skip

    def handle(self, line: str) -> bool:
        """Handle one input line; False means quit."""
        line = line.strip()
        if not line:
            return True
        if line.startswith(":"):
            return self.command(line)
        if line.lower().rstrip("!.") in BARE_COMMANDS:  # "exit", "quit", "help" typed as words
            return self.command(":" + line.lower().rstrip("!."))
        self.assistant.refresh()
        self.offset = 0
        self.items.clear()
        self.show(self.assistant.ask(line, k=self.k, conversation=self.conversation), Shown())
        return True

    def show(self, answer: Answer, shown: Shown) -> None:
        self.answer, self.shown = answer, shown
        self.items.add(answer)
        if self.plain:  # output piped: plain text, all of it (nothing to page through)
            from assistant.views.plain import plain_text

            self.console.out(plain_text(answer), end="", highlight=False)
            shown.snippets.update(self.items.snippets)
            shown.passages.update(self.items.passages)
            shown.overview = True
            return
        hint = "repl" if self.interactive else None
        render_answer(answer, self.console, shown=shown, hint=hint, link=self.link)

    def command(self, line: str) -> bool:
        name, _, arg = line[1:].partition(" ")
        name = name.lower()
        if name in ("q", "quit", "exit"):
            return False
        if name in self.commands:
            self.commands[name]()
        elif name in USAGE:
            n = self.number(name, arg)
            if n is not None:
                getattr(self.items, name)(n)
        else:
            self.items.say(f"unknown command :{name} (try :help)")
        return True

    def say(self, message: str, style: str = "yellow") -> None:
        self.items.say(message, style)

    def help(self) -> None:
        self.console.print(HELP, markup=False, highlight=False)

    def new(self) -> None:
        self.conversation = Conversation()
        self.answer = None
        self.items.pending = []
        self.say("conversation cleared")

    def status(self) -> None:
        """What `kt status` prints: the settings, the index and the notes changed since it was built."""
        for line in self.assistant.status().lines():
            self.console.out(sanitize(line), highlight=False)

    def number(self, name: str, arg: str) -> int | None:
        if not arg.strip():
            self.say(USAGE[name])
            return None
        if self.answer is None:
            self.say("ask a question first")
            return None
        try:
            return int(arg)
        except ValueError:
            self.say(f"give a number: {USAGE[name]}")
            return None

    def more(self) -> None:
        """The rest of the answer on screen first; then the next page of results, numbered on from the last."""
        if self.items.pending:
            self.items.page()
            return
        if self.answer is None:
            self.say("ask a question first")
            return
        if any(self.shown.hidden(self.answer)):
            self.show(self.answer, self.shown)
            return
        self.offset += self.k
        question = self.answer.rewritten or self.answer.question
        page = self.assistant.ask(question, k=self.k, offset=self.offset)
        if not page.passages and not page.snippets:
            self.say("no more results")
            return
        self.show(shift(page, self.offset), Shown(overview=True, warned=dict(self.shown.warned)))


class Items:
    """The numbered snippets and passages of the current question, every page of it (the numbers are those on the
    screen), and the commands on one of them: `:open N`, `:edit N`, `:copy N`, `:fill N`."""

    def __init__(self, assistant: Assistant, console: Any, read_value: ReadLine, interactive: bool) -> None:
        self.assistant = assistant
        self.console = console
        self.read_value = read_value
        self.interactive = interactive
        self.snippets: dict[int, SnippetHit] = {}
        self.passages: dict[int, Hit] = {}
        self.pending: list[Any] = []  # rows of an :open section not on screen yet (:more shows them)

    def clear(self) -> None:
        self.snippets, self.passages, self.pending = {}, {}, []

    def add(self, answer: Answer) -> None:
        self.snippets.update((s.rank, s) for s in answer.snippets)
        self.passages.update((h.rank, h) for h in answer.passages)

    def say(self, message: str, style: str = "yellow") -> None:
        from rich.text import Text

        self.console.print(Text(message, style=style))

    def _passage(self, n: int) -> Hit | None:
        hit = self.passages.get(n)
        if hit is None:
            self.say(f"no passage {n} in the last answer")
        return hit

    def open(self, n: int) -> None:
        hit = self._passage(n)
        if hit is None:
            return
        from rich.text import Text

        rows: list[Any] = []
        for chunk in self.assistant.lookup.section(hit.index):
            head = f"{chunk.path}:{chunk.start_line}  {sanitize(heading_path(chunk.headings))}"
            rows.extend(Text(head, style="bold green").wrap(self.console, self.console.width))
            rows.extend(Text(sanitize(chunk.text.rstrip("\n"))).wrap(self.console, self.console.width))
        self.pending = rows
        self.page()

    def page(self) -> None:
        """The next screenful of a long :open section (all of it when not interactive), its header kept in view,
        then how to see the rest."""
        rows = max(self.console.height - RESERVED_ROWS, MIN_ROWS) if self.interactive else len(self.pending)
        for row in self.pending[:rows]:
            self.console.print(row)
        self.pending = self.pending[rows:]
        if self.pending:
            self.say(f"-- :more for the rest ({len(self.pending)} more lines) --", style="dim")

    def edit(self, n: int) -> None:
        hit = self._passage(n)
        if hit is None:
            return
        heading = hit.chunk.headings[-1] if hit.chunk.headings else ""
        try:
            record = self.assistant.store.manifest().files.get(hit.chunk.path)
            indexed = record.sha256 if record else None
        except Exception:  # noqa: BLE001 - no manifest to compare with: open the line as the answer gave it
            indexed = None
        problem = open_in_editor(self.assistant.folders, hit.chunk.path, hit.chunk.start_line, heading, indexed)
        if problem:
            self.say(problem)

    def _snippet(self, n: int) -> SnippetHit | None:
        hit = self.snippets.get(n)
        if hit is None:
            self.say(f"no snippet [{n}] in the last answer")
        return hit

    def copy(self, n: int, code: str | None = None) -> None:
        hit = self._snippet(n)
        if hit is None:
            return
        code = code if code is not None else hit.snippet.code
        if copy_to_clipboard(code):
            self.say(f"copied snippet {n} to the clipboard ({plural(len(code.splitlines()), 'line')})", style="green")
        else:
            self.say(f"no terminal to copy to; snippet {n} is below:")
            self.console.print(code_view(code, hit.snippet.lang, self.console.width))

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
            values[slot] = self.read_value(f"value for {slot} (empty keeps it): ").strip()
        code = fill(hit.snippet.code, values)
        self.console.print(code_view(code, hit.snippet.lang, self.console.width))
        self.copy(n, code)


def open_in_editor(
    folders: list[Path], key: str, line: int, heading: str = "", indexed_sha256: str | None = None
) -> str | None:
    """Open the editor (`sources.editor_argv`) at a passage of a note and wait for it; a message when that cannot
    be done. When the note was edited since it was indexed, the passage's heading is looked up again."""
    import subprocess

    from assistant.ingest.notes import file_sha256
    from assistant.views.sources import current_line, editor_argv

    path = note_path(folders, key)
    if path is None:
        return f"{sanitize(key)} is no longer in your notes"
    if indexed_sha256 is not None and file_sha256(path) not in (None, indexed_sha256):  # edited since indexed
        line = current_line(path, line, heading)
    argv = editor_argv(path, line)
    if argv is None:
        return f"set $VISUAL or $EDITOR to edit notes; the passage is at {path}:{line}"
    try:
        subprocess.run(argv, check=False)
    except OSError as e:
        return f"could not start {argv[0]}: {e.strerror}"
    return None


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
    plain = console is None and not sys.stdout.isatty()
    console = console or make_console(assistant.settings.color, highlight=False)
    interactive = input_lines is None and sys.stdin.isatty()
    if not interactive:
        lines = _lines(input_lines if input_lines is not None else sys.stdin)

        def read_line(prompt: str) -> str:
            return next(lines, "")

        repl = Repl(assistant, console, read_line, interactive=False, plain=plain)
        for line in lines:
            if not repl.handle(line):
                break
        return 0

    session, values = _session(assistant.settings.index), _value_session()
    repl = Repl(assistant, console, session.prompt, interactive=True, read_value=values.prompt, plain=plain)
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


def _session(index: Path) -> Any:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    from assistant.config import history_file

    path = history_file(index)
    path.parent.mkdir(parents=True, exist_ok=True)
    return PromptSession(history=FileHistory(str(path)))


def _value_session() -> Any:
    """Prompts for :fill values: no history at all, so a password or token typed there is never written down."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import DummyHistory

    return PromptSession(history=DummyHistory())

"""Terminal view of an answer (rich): numbered passages, highlighted snippets, readable at 80 columns.

Text from notes is shown, never interpreted: escape sequences (ANSI colours, OSC 52 clipboard writes, title
changes) are neutralised before anything reaches the terminal.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.answer import Answer

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
PASSAGE_LINES = 10
SNIPPET_LINES = 20
LEXERS = {
    "shell": "bash",
    "yaml": "yaml",
    "dockerfile": "docker",
    "python": "python",
    "html": "html",
    "json": "json",
}


def sanitize(text: str) -> str:
    """Make control characters visible (ESC → '␛', others → '\\xNN') so notes can't drive the terminal."""
    return _CONTROL.sub(lambda m: "␛" if m.group(0) == "\x1b" else f"\\x{ord(m.group(0)):02x}", text)


def location(path: str, line: int) -> str:
    return f"{path}:{line}"


def heading_path(headings: tuple[str, ...] | list[str]) -> str:
    return " › ".join(headings)


def render_answer(answer: Answer, console: Any, more_hint: bool = False) -> None:
    from rich.console import Group
    from rich.padding import Padding
    from rich.panel import Panel
    from rich.text import Text

    if answer.rewritten:
        console.print(Text(f"(searched as: {sanitize(answer.rewritten)})", style="dim"))
    if answer.comparison:
        render_comparison(answer, console)
    if answer.key_points:
        console.print(Text("Key points", style="bold"))
        for point in answer.key_points:
            line = Text("  • ")
            line.append(sanitize(point.text))
            line.append(f" [{point.passage}]", style="cyan")
            console.print(line)
        console.print()
    if not answer.passages:
        console.print(Text("Nothing in your notes matches that question.", style="yellow"))
        return
    for hit in answer.passages:
        head = Text(f"{hit.rank}. ", style="bold cyan")
        head.append(location(hit.chunk.path, hit.chunk.start_line), style="green")
        head.append(f"  {sanitize(heading_path(hit.chunk.headings))}", style="bold")
        lines = sanitize(hit.chunk.text).splitlines()
        body = "\n".join(lines[:PASSAGE_LINES]) + (
            f"\n… ({len(lines) - PASSAGE_LINES} more lines, :open {hit.rank})" if len(lines) > PASSAGE_LINES else ""
        )
        console.print(head)
        console.print(Padding(Text(body), (0, 0, 1, 3)))
    if answer.snippets:
        console.print(Text("Commands and snippets", style="bold"))
        for s in answer.snippets:
            title = Text(f"[{s.rank}] ", style="bold magenta")
            title.append(sanitize(s.snippet.label or heading_path(s.snippet.headings)))
            sub = Text(location(s.snippet.path, s.snippet.start_line), style="green")
            code = s.snippet.code
            lines = code.splitlines()
            if s.rank > 1 and len(lines) > SNIPPET_LINES:
                code = "\n".join(lines[:SNIPPET_LINES])
            parts: list[Any] = [code_view(code, s.snippet.lang)]
            if code is not s.snippet.code:
                parts.append(
                    Text(f"… {len(lines) - SNIPPET_LINES} more lines (:copy {s.rank} copies all)", style="dim")
                )
            for w in answer.warnings:
                if w.snippet == s.rank:
                    parts.append(Text(f"⚠ {w.message} → {w.replacement}", style="yellow"))
            console.print(
                Panel(
                    Group(*parts),
                    title=title,
                    title_align="left",
                    subtitle=sub,
                    subtitle_align="right",
                    border_style="dim",
                    expand=True,
                )
            )
    if more_hint:
        console.print(
            Text(
                ":more for the next results, :open N for a whole section, :copy N to copy a snippet",
                style="dim",
            )
        )


def code_view(code: str, lang: str) -> Any:
    """Highlighted code with placeholders underlined; the code itself stays byte-exact."""
    from rich.syntax import Syntax

    from assistant.placeholders import PLACEHOLDER

    clean = sanitize(code.rstrip("\n"))
    syntax = Syntax(
        clean, LEXERS.get(lang, lang or "text"), theme="ansi_dark", word_wrap=True, background_color="default"
    )
    for m in PLACEHOLDER.finditer(clean):
        start_line = clean.count("\n", 0, m.start()) + 1
        col = m.start() - (clean.rfind("\n", 0, m.start()) + 1)
        syntax.stylize_range("bold reverse", (start_line, col), (start_line, col + len(m.group(0))))
    return syntax


def render_comparison(answer: Answer, console: Any) -> None:
    """The sides next to each other, each point citing its source as file:line."""
    from rich.table import Table
    from rich.text import Text

    table = Table(expand=True, show_lines=False)
    cells = []
    for side in answer.comparison:
        table.add_column(Text(sanitize(side.term), style="bold"), ratio=1)
        body = Text()
        for point in side.points:
            hit = side.passages[point.passage - 1]
            body.append("• " + sanitize(point.text))
            body.append(f" ({hit.chunk.path}:{hit.chunk.start_line})\n", style="green")
        if not side.points:
            body.append("(nothing specific in your notes)", style="dim")
        cells.append(body)
    table.add_row(*cells)
    console.print(table)

"""Terminal view of an answer (rich), answer first: the comparison table, the commands and manifests (numbered,
with their file:line), the key points, then each passage in a few lines. The default view is fitted to the
terminal's height; the rest is one `:more` (REPL) or `kt ask --full` away.

Text from notes is shown, never interpreted: escape sequences (ANSI colours, OSC 52 clipboard writes, title
changes) are neutralised before anything reaches the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.answer.prose import LINK, shorten
from assistant.answer.types import Answer

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
FIRST_FOLD = 12  # compact view: lines of the first snippet shown before it is folded
OTHER_FOLD = 6  # … and of the snippets after it
EXCERPT_LINES = 2  # compact view: lines shown of each passage
CLOSEST = 3  # passages shown when the notes do not answer the question
POINT_CHARS = 220  # compact view: a key point is cut after this many characters
CELL_CHARS = 150  # … and a point of the comparison table
RESERVED_ROWS = 4  # rows kept free for the prompt (or the shell's command line) around an answer
MIN_ROWS = 20
CONTINUATION = "↪ "
LEXERS = {
    "shell": "bash",
    "yaml": "yaml",
    "dockerfile": "docker",
    "python": "python",
    "html": "html",
    "json": "json",
}


def make_console(color: str = "auto", **options: Any) -> Any:
    """A rich console that honours the colour setting (`config.Settings.color`): "never" drops colour, "always"
    keeps it even into a pipe, "auto" leaves it to rich (a terminal, and NO_COLOR / FORCE_COLOR)."""
    from rich.console import Console

    if color == "never":
        options.setdefault("no_color", True)
    elif color == "always":
        options.setdefault("force_terminal", True)
        options.setdefault("no_color", False)
    return Console(**options)


def sanitize(text: str) -> str:
    """Make control characters visible (ESC → '␛', others → '\\xNN') so notes can't drive the terminal."""
    return _CONTROL.sub(lambda m: "␛" if m.group(0) == "\x1b" else f"\\x{ord(m.group(0)):02x}", text)


# Inline Markdown a reader of the rendered note does not see as characters: a link shows its text, strong
# emphasis is bold (`__` not inside a word, as CommonMark reads it), a code span is code. (Single `*` is left alone:
# in notes it is as often a glob as emphasis.)
_INLINE = re.compile(
    LINK.pattern + r"|\*\*(?P<strong>\S(?:.*?\S)?)\*\*|(?<!\w)__(?P<under>\S(?:.*?\S)?)__(?!\w)"
    r"|`(?P<code>[^`\n]+)`"
)


def prose_text(text: str, limit: int | None = None) -> Any:
    """A line of prose as a reader of the rendered note sees it: a Markdown link shows its text, underlined (and
    clickable where the terminal supports it, for a web address), `**strong**` is bold and a `code span` is
    code; cut at a word to `limit` visible characters."""
    from rich.style import Style
    from rich.text import Text

    out, pos = Text(), 0
    for m in _INLINE.finditer(text):
        out.append(sanitize(text[pos : m.start()]))
        if m["text"] is not None and (m["image"] or not m["text"]):
            out.append(sanitize(m[0]))  # an image, or a link with no text: as written
        elif m["text"] is not None:
            target = m["target"].strip()
            web = target.startswith(("http://", "https://"))
            out.append(sanitize(m["text"]), style=Style(underline=True, link=target if web else None))
        elif (strong := m.group("strong") or m.group("under")) is not None:
            out.append(sanitize(strong), style="bold")
        else:
            out.append(sanitize(m.group("code")), style="cyan")
        pos = m.end()
    out.append(sanitize(text[pos:]))
    if limit is not None and len(out.plain) > limit:
        cut = shorten(out.plain, limit)
        out = out[: len(cut) - 1]
        out.rstrip()
        out.append("…")
    return out


Link = Callable[[str, int], str | None]  # a source's name in answers and a line → a URL to open it there, if any


def file_url(path: Path, line: int, environ: Any = None) -> str:
    """The OSC 8 target of FILE:LINE: `file:///abs/path#LINE`. A bare line number as the fragment is what kitty's
    open actions act on (ripgrep's `--hyperlink-format=kitty` writes the same) and what VS Code's opener reads
    as a line (`#29` or `#L29`); other terminals hand the URL to the desktop, which opens the file. Not under
    VTE (GNOME Terminal, Tilix…): GLib refuses a file URL with a '#' in it, so there the link is the file alone."""
    import os

    env = os.environ if environ is None else environ
    url = path.resolve().as_uri()
    return url if env.get("VTE_VERSION") else f"{url}#{line}"


def location(path: str, line: int) -> str:
    return f"{path}:{line}"


def note_path(folders: list[Path], key: str) -> Path | None:
    """The file behind a source name as answers show it (relative to its notes folder, prefixed when several)."""
    from assistant.ingest.notes import folder_labels

    for folder, label in folder_labels(folders).items():
        if key.startswith(label) and (folder / key[len(label) :]).is_file():
            return folder / key[len(label) :]
    return None


def file_links(folders: list[Path]) -> Link:
    """file:// URLs for the notes at a line, so terminals that support OSC 8 hyperlinks open a source on a click."""
    cache: dict[str, Path | None] = {}

    def link(key: str, line: int) -> str | None:
        if key not in cache:
            cache[key] = note_path(folders, key)
        path = cache[key]
        return file_url(path, line) if path else None

    return link


def source(path: str, line: int, link: Link | None) -> Any:
    """file:line in green; a hyperlink to the note where the terminal supports them."""
    from rich.style import Style
    from rich.text import Text

    url = link(path, line) if link else None
    return Text(location(path, line), style=Style(color="green", link=url) if url else "green")


def heading_path(headings: tuple[str, ...] | list[str]) -> str:
    return " › ".join(headings)


def not_relevant(answer: Answer) -> str:
    closest = " The closest passages:" if answer.passages else ""
    return f"Nothing in your notes answers this.{closest}"


NBSP = "\u00a0"  # joins the words of a tag such as `[passage 1]`: wrap() never breaks a row there


def wrap(text: Any, width: int, indent: int = 0, rows: int | None = None) -> list[Any]:
    """`text` (a rich Text) as rows of at most `width` characters, broken at spaces only (never inside a word,
    nor at a non-breaking space), each row after the first indented by `indent` spaces (a hanging indent); only
    a word longer than a row is broken. With `rows`, at most that many: when the text goes on, the last one ends
    in "…" after a whole word (inside a word only when the row would otherwise be less than half full)."""
    from rich.text import Text

    out: list[Any] = []
    while True:
        room = max(width - (indent if out else 0), 8)
        plain = text.plain
        if len(plain) <= room:
            out.append(text)
            break
        lead = len(plain) - len(plain.lstrip(" "))  # a row's own indent is no place to break
        if rows is not None and len(out) >= rows - 1:
            cut = plain.rfind(" ", lead + 1, room)
            head = text[: cut if cut > room // 2 else room - 1]  # a long path is cut, not dropped whole
            head = head[: len(head.plain.rstrip(" ›"))]  # no dangling "Heading ›"
            out.append(head + "…")
            break
        cut = plain.rfind(" ", lead + 1, room + 1)
        if cut < 0:
            cut = room
        head, text = text[:cut], text[cut:]
        head.rstrip()
        out.append(head)
        text = text[len(text.plain) - len(text.plain.lstrip(" ")) :]
    return [Text(" " * indent) + row if i else row for i, row in enumerate(out)]


@dataclass
class Shown:
    """What of an answer is on screen: `:more` shows the rest, and warnings are spelled out once."""

    snippets: set[int] = field(default_factory=set)
    passages: set[int] = field(default_factory=set)
    overview: bool = False  # the searched-as line, the not-relevant notice, the table and the key points
    warned: dict[str, int] = field(default_factory=dict)  # warning rule → the snippet it was spelled out under

    def hidden(self, answer: Answer) -> tuple[int, int]:
        """(snippets, passages) of the answer not shown yet."""
        snippets = sum(s.rank not in self.snippets for s in answer.snippets)
        return snippets, sum(h.rank not in self.passages for h in answer.passages)


class _Screen:
    """Collects renderables while counting the rows they take, against a budget (None: no limit)."""

    def __init__(self, console: Any, budget: int | None, link: Link | None = None) -> None:
        self.console = console
        self.link = link if console.is_terminal else None
        self.budget = budget
        self.used = 0
        self.items: list[Any] = []

    def rows(self, renderable: Any) -> int:
        return len(self.console.render_lines(renderable, self.console.options, pad=False))

    def fits(self, rows: int, reserve: int = 0) -> bool:
        return self.budget is None or self.used + rows + reserve <= self.budget

    def add(self, renderable: Any, rows: int | None = None) -> None:
        self.used += self.rows(renderable) if rows is None else rows
        self.items.append(renderable)

    def flush(self) -> None:
        for item in self.items:
            self.console.print(item)


def render_answer(
    answer: Answer,
    console: Any,
    full: bool = False,
    shown: Shown | None = None,
    hint: str | None = None,
    link: Link | None = None,
) -> Shown:
    """Print what of `answer` is not in `shown` yet (all of it at first) and return what is on screen now.

    `full`: everything, nothing folded. Otherwise the view fits the console's height: the table and the first
    snippet always, then more snippets, key points and passages while they fit. `hint` ("repl" or "cli") says
    how to reach the rest. `link` makes the file:line sources hyperlinks (in a terminal)."""
    from rich.text import Text

    shown = shown or Shown()
    screen = _Screen(console, None if full else max(console.height - RESERVED_ROWS, MIN_ROWS), link)
    first_call = not shown.overview
    if first_call:
        shown.overview = True
        if answer.rewritten:
            screen.add(Text(f"(searched as: {sanitize(answer.rewritten)})", style="dim"))
        if answer.notice:
            screen.add(Text(sanitize(answer.notice), style="bold yellow"))
        if not answer.relevant:
            screen.add(Text(not_relevant(answer), style="bold yellow"))
            _passages(screen, answer, shown, full, hint, limit=None if full else CLOSEST)
            if full:
                _snippets(screen, answer, shown, full, hint)
            _footer(screen, answer, shown, hint, full)
            screen.flush()
            return shown
        if answer.comparison:
            screen.add(comparison_table(answer, compact=not full, link=screen.link))
            screen.add("")
    if not answer.passages and not answer.snippets:
        screen.add(Text("Nothing in your notes matches that question.", style="yellow"))
        screen.flush()
        return shown
    explanation_first = answer.lead == "explanation"  # "what / why / how does X work"
    if not explanation_first:
        reserve = 0 if full else _reserve(screen, answer, shown, first_call)
        _snippets(screen, answer, shown, full, hint, reserve)
    if first_call and answer.key_points:
        _key_points(screen, answer, full)
    _passages(screen, answer, shown, full, hint)
    if explanation_first:
        _snippets(screen, answer, shown, full, hint)
    _footer(screen, answer, shown, hint, full)
    screen.flush()
    return shown


def _reserve(screen: _Screen, answer: Answer, shown: Shown, first_call: bool) -> int:
    """Rows kept for the key points and the first two passages, so that snippets do not crowd them out."""
    rows = 2  # the footer and a spare
    if first_call and answer.key_points:
        rows += screen.rows(_key_points_view(answer, True, screen.console.width))
    rows += sum(1 + EXCERPT_LINES for h in answer.passages[:2] if h.rank not in shown.passages) + 1
    return rows


def _snippets(screen: _Screen, answer: Answer, shown: Shown, full: bool, hint: str | None, reserve: int = 0) -> None:
    first = True
    for s in answer.snippets:
        if s.rank in shown.snippets:
            continue
        fold = None if full else (FIRST_FOLD if first else OTHER_FOLD)
        warned = dict(shown.warned)
        block = snippet_view(s, answer, warned, screen.console.width, fold, hint, screen.link)
        rows = screen.rows(block) + 1
        if not first and not screen.fits(rows, reserve):
            break
        shown.warned = warned
        screen.add(block, rows - 1)
        screen.add("")
        shown.snippets.add(s.rank)
        first = False


def snippet_view(
    s: Any,
    answer: Answer,
    warned: dict[str, int],
    width: int,
    fold: int | None,
    hint: str | None,
    link: Link | None = None,
) -> Any:
    """[N] label  file:line, the code (folded after `fold` lines), then each outdated-command warning once:
    `warned` (rule → snippet number) records where each was spelled out, later snippets refer to it."""
    from rich.text import Text

    head = Text()
    head.append(f"[{s.rank}] ", style="bold magenta")
    head.append(sanitize(s.snippet.label or heading_path(s.snippet.headings)), style="bold")
    head.append("  ")
    head.append_text(source(s.snippet.path, s.snippet.start_line, link))
    rows = [head]
    lines = s.snippet.code.rstrip("\n").split("\n")
    if fold is None or len(lines) <= fold + 1:
        rows.extend(code_lines(s.snippet.code, s.snippet.lang, width))
    else:  # the first lines; a manifest's head and the lines that match the question
        from assistant.answer.excerpt import fold as fold_yaml

        question = answer.rewritten or answer.question
        shown = 0
        for start, end in fold_yaml(lines, question, fold) if s.snippet.lang == "yaml" else [(0, fold)]:
            if start > shown:
                rows.append(Text(f"… {start - shown} lines", style="dim"))
            rows.extend(code_lines("\n".join(lines[start:end]), s.snippet.lang, width))
            shown = end
        how = f":copy {s.rank} copies all" if hint == "repl" else "kt ask --full shows all"
        if shown < len(lines):
            rows.append(Text(f"… {len(lines) - shown} more lines ({how})", style="dim"))
        else:
            rows.append(Text(f"({how})", style="dim"))
    referred: set[str] = set()
    for w in answer.warnings:
        if w.snippet != s.rank or w.rule in referred:
            continue
        referred.add(w.rule)  # the same outdated command on two lines of a snippet: one warning
        if w.rule in warned and warned[w.rule] != s.rank:
            rows.extend(wrap(Text(f"⚠ {w.kind} too: see the warning under [{warned[w.rule]}]", "yellow"), width, 2))
            continue
        warned[w.rule] = s.rank
        rows.extend(wrap(Text(f"⚠ {sanitize(w.headline)}", style="yellow"), width, indent=2))  # whole, at words
        if w.replacement:
            rows.extend(wrap(Text(f"  → {sanitize(w.replacement)}", style="yellow"), width, indent=4))
    return Text("\n").join(rows)


def code_lines(code: str, lang: str, width: int) -> list[Any]:
    """Highlighted code, one Text per screen row: a line longer than the screen is broken (at a space when one
    is near) and its continuation rows start with a dim ↪, so a wrapped command never reads as two. Placeholders
    are underlined; the code itself stays byte-exact (copying uses the original)."""
    from rich.syntax import Syntax
    from rich.text import Text

    from assistant.answer.placeholders import PLACEHOLDER

    clean = sanitize(code.rstrip("\n")).expandtabs(4)
    text = Syntax(clean, LEXERS.get(lang, lang or "text"), theme="ansi_dark", background_color="default").highlight(
        clean
    )
    text.right_crop(len(text.plain) - len(clean))
    for m in PLACEHOLDER.finditer(clean):
        text.stylize("bold reverse", m.start(), m.end())
    width = max(width, len(CONTINUATION) + 8)  # each row carries at least 8 characters of code
    rows: list[Any] = []
    for line in text.split("\n", allow_blank=True):
        start = 0  # where the code starts on this row (after a continuation mark)
        while len(line.plain) > width:
            cut = line.plain.rfind(" ", start + 1, width) + 1
            if cut <= start + (width - start) // 2:
                cut = width  # no space near the edge: break the word
            head, line = line.divide([cut])
            rows.append(head)
            line = Text(CONTINUATION, style="dim") + line
            start = len(CONTINUATION)
        rows.append(line)
    return rows


def _key_points_view(answer: Answer, compact: bool, width: int) -> Any:
    """Each point with its passage number; a point's wrapped rows hang under its text, not under the bullet."""
    from rich.text import Text

    rows = [Text("Key points", style="bold")]
    for point in answer.key_points:
        line = Text("  • ") + prose_text(point.text, POINT_CHARS if compact else None)
        line.append(f" [passage{NBSP}{point.passage}]", style="cyan")
        rows.extend(wrap(line, width, indent=4))
    return Text("\n").join(rows)


def _key_points(screen: _Screen, answer: Answer, full: bool) -> None:
    view = _key_points_view(answer, not full, screen.console.width)
    rows = screen.rows(view) + 1
    if screen.fits(rows):
        screen.add(view, rows - 1)
        screen.add("")


def _passages(
    screen: _Screen, answer: Answer, shown: Shown, full: bool, hint: str | None, limit: int | None = None
) -> None:
    from rich.text import Text

    question = answer.rewritten or answer.question
    title = Text("Passages", style="bold")
    if hint == "repl":
        title.append("  (:open N shows a whole section)", style="dim")
    titled = False
    for hit in answer.passages[:limit]:
        if hit.rank in shown.passages:
            continue
        block = passage_view(hit, question, full, screen.console.width, screen.link)
        rows = screen.rows(block)
        if not screen.fits(rows + (0 if titled else 1), reserve=1 if hint else 0):  # the title, the footer
            break
        if not titled:
            screen.add(title, 1)
            titled = True
        screen.add(block, rows)
        shown.passages.add(hit.rank)


def passage_view(hit: Any, question: str, full: bool, width: int, link: Link | None = None) -> Any:
    """N. file:line  heading path, then the passage's lines that best match the question (full: all of it)."""
    from rich.text import Text

    from assistant.answer.excerpt import excerpt

    head = Text()
    head.append(f"{hit.rank}. ", style="bold cyan")
    head.append_text(source(hit.chunk.path, hit.chunk.start_line, link))
    head.append(f"  {sanitize(heading_path(hit.chunk.headings))}", style="bold")
    if hit.also_in:  # the same text elsewhere in the notes
        head.append(" (also in ", style="dim")
        for n, (path, line) in enumerate(hit.also_in):
            head.append_text(source(path, line, link))
            head.append(", " if n + 1 < len(hit.also_in) else ")", style="dim")
    if full:
        body = Text("\n".join("   " + line for line in sanitize(hit.chunk.text).splitlines()))
        return Text("\n").join([head, body, Text("")])
    from assistant.answer.keypoints import line_roles
    from assistant.answer.prose import is_code, marker

    rows = wrap(head, width, rows=1)
    code = is_code(hit.chunk)
    written = set() if code else {line.strip() for line, role in line_roles(hit.chunk.text) if role != "prose"}
    for line in excerpt(hit.chunk.text, question, EXCERPT_LINES, code):  # EXCERPT_LINES rows in all
        line = line.strip()
        if len(rows) <= EXCERPT_LINES:  # a list item's rows hang under its text, not under its marker
            # prose reads as rendered; a line of code, as written
            text = Text("   " + sanitize(line)) if code or line in written else Text("   ") + prose_text(line)
            rows.extend(wrap(text, width, 3 + len(marker(line)), rows=EXCERPT_LINES + 1 - len(rows)))
    return Text("\n").join(rows)


def _footer(screen: _Screen, answer: Answer, shown: Shown, hint: str | None, full: bool) -> None:
    from rich.text import Text

    if full or hint is None:
        return
    snippets, passages = shown.hidden(answer)
    rest = ", ".join(
        f"{n} more {what}{'s' if n > 1 else ''}" for n, what in ((snippets, "snippet"), (passages, "passage")) if n
    )
    if hint == "repl":
        more = f":more shows {rest}" if rest else ":more for the next results"
        copy = " · :copy N copies [N]" if answer.snippets else ""
        message = f"{more} · :open N a whole section{copy} · :help"
    elif rest:
        message = f"({rest}: kt ask --full shows everything)"
    else:
        return
    screen.add(Text(message, style="dim"))


def comparison_table(answer: Answer, compact: bool = True, link: Link | None = None) -> Any:
    """The sides next to each other, each point citing its source as file:line."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(expand=True, box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD, show_edge=not compact)
    cells = []
    for side in answer.comparison:
        table.add_column(Text(sanitize(side.term), style="bold"), ratio=1)
        lines = []
        for point in side.points:
            hit = side.passages[point.passage - 1]
            line = Text("• ") + prose_text(point.text, CELL_CHARS if compact else None)
            line.append(" (")
            line.append_text(source(hit.chunk.path, hit.chunk.start_line, link))
            line.append(")")
            lines.append(line)
        if not side.points:
            lines.append(Text("(nothing specific in your notes)", style="dim"))
        cells.append(Text("\n").join(lines))
    table.add_row(*cells)
    return table


def code_view(code: str, lang: str, width: int = 100) -> Any:
    """A whole snippet as rows for the console (used by :copy without a terminal and by :fill)."""
    from rich.text import Text

    return Text("\n").join(code_lines(code, lang, width))

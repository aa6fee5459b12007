"""An answer as plain text (stdout is not a terminal) or as Markdown (`kt ask --md`), in the order of the terminal
view: comparison, commands, key points, passages. No box borders, no padding, no trailing spaces, every line of
code on a line of its own and every source as file:line, so the output can be grepped, copied and pasted.

No rich here: piping an answer stays as fast as `--json`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from assistant.answer.types import Answer
from assistant.views.terminal import CLOSEST, EXCERPT_LINES, heading_path, location, not_relevant, sanitize

FENCE_LANGS = {"shell": "bash"}


def plain_text(answer: Answer, full: bool = False) -> str:
    return _join(_plain(answer, full))


def markdown(answer: Answer, full: bool = False, once: bool = False) -> str:
    """`once`: a command or manifest shown as a snippet is not repeated inside the passages (for agents, who pay
    for every token): its lines there become a pointer to it."""
    return _join(_markdown(answer, full, once))


def _join(lines: Iterator[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def _parts(answer: Answer, full: bool) -> tuple[list[Any], list[Any]]:
    """(snippets, passages) to print: all of them, but only the closest passages when the notes do not answer."""
    if answer.relevant or full:
        return answer.snippets, answer.passages
    return [], answer.passages[:CLOSEST]


def _passage_lines(hit: Any, answer: Answer, full: bool) -> list[str]:
    from assistant.answer.excerpt import excerpt
    from assistant.answer.prose import is_code

    if full:
        return sanitize(hit.chunk.text).splitlines()
    lines = excerpt(hit.chunk.text, answer.rewritten or answer.question, EXCERPT_LINES, is_code(hit.chunk))
    return [sanitize(line.strip()) for line in lines]


def _warnings(answer: Answer, snippet: int, warned: dict[str, int]) -> Iterator[tuple[str, str | None]]:
    """(message, replacement) for each outdated command of a snippet, once; (reference, None) when an earlier
    snippet already carries that warning."""
    seen: set[str] = set()
    for w in answer.warnings:
        if w.snippet != snippet or w.rule in seen:
            continue
        seen.add(w.rule)
        if w.rule in warned:
            yield f"{w.kind} too: see the warning under [{warned[w.rule]}]", None
            continue
        warned[w.rule] = snippet
        yield sanitize(w.headline), sanitize(w.replacement)


def _plain(answer: Answer, full: bool) -> Iterator[str]:
    if answer.rewritten:
        yield f"(searched as: {sanitize(answer.rewritten)})"
    if answer.notice:
        yield sanitize(answer.notice)
    snippets, passages = _parts(answer, full)
    if not answer.relevant:
        yield not_relevant(answer)
    elif not answer.passages and not answer.snippets:
        yield "Nothing in your notes matches that question."
    for term, points in _sides(answer):
        yield term
        yield from (f"- {text} ({where})" if where else f"- {text}" for text, where in points)
        yield ""
    sections = [_plain_snippets(answer, snippets), _plain_explanation(answer, passages, full)]
    for section in sections if answer.lead == "commands" else reversed(sections):
        yield from section


def _plain_snippets(answer: Answer, snippets: list[Any]) -> Iterator[str]:
    warned: dict[str, int] = {}
    for s in snippets:
        label = sanitize(s.snippet.label or heading_path(s.snippet.headings))
        yield f"[{s.rank}] {label} ({location(s.snippet.path, s.snippet.start_line)})"
        yield from sanitize(s.snippet.code.rstrip("\n")).splitlines()
        for message, replacement in _warnings(answer, s.rank, warned):
            yield f"warning: {message}"
            if replacement:
                yield f"  instead: {replacement}"
        yield ""


def _plain_explanation(answer: Answer, passages: list[Any], full: bool) -> Iterator[str]:
    if answer.key_points and answer.relevant:
        yield "Key points"
        for point in answer.key_points:
            yield f"- {sanitize(point.text)} [passage {point.passage}]"
        yield ""
    if passages:
        yield "Passages"
    for hit in passages:
        yield f"{hit.rank}. {_source(hit)}  {sanitize(heading_path(hit.chunk.headings))}{_also(hit)}"
        for line in _passage_lines(hit, answer, full):
            yield f"   {line}" if line.strip() else ""
        if full:
            yield ""
    yield ""


def _sides(answer: Answer) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """Each side of a comparison: its term and its points as (text, file:line), sanitised."""
    for side in answer.comparison if answer.relevant else []:
        points = []
        for point in side.points:
            hit = side.passages[point.passage - 1]
            points.append((sanitize(point.text), location(hit.chunk.path, hit.chunk.start_line)))
        yield sanitize(side.term), points or [("(nothing specific in your notes)", "")]


def _source(hit: Any) -> str:
    return sanitize(location(hit.chunk.path, hit.chunk.start_line))


def _also(hit: Any) -> str:
    """Where else the notes hold a passage's text (a copy in another file, a larger passage holding it)."""
    also = ", ".join(location(path, line) for path, line in getattr(hit, "also_in", ()))
    return sanitize(f" (also in {also})") if also else ""


def _fence(code: str, lang: str) -> list[str]:
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + FENCE_LANGS.get(lang, lang), *code.rstrip("\n").splitlines(), fence]


def _markdown(answer: Answer, full: bool, once: bool = False) -> Iterator[str]:
    yield f"### {sanitize(answer.question)}"
    yield ""
    if answer.rewritten:
        yield f"*Searched as: {sanitize(answer.rewritten)}*"
        yield ""
    if answer.notice:
        yield f"> **{sanitize(answer.notice)}**"
        yield ""
    snippets, passages = _parts(answer, full)
    if not answer.relevant:
        yield f"> **{not_relevant(answer)}**"
        yield ""
    elif not answer.passages and not answer.snippets:
        yield "Nothing in your notes matches that question."
    for term, points in _sides(answer):
        yield f"**{term}**"
        yield ""
        yield from (f"- {text} (`{where}`)" if where else f"- {text}" for text, where in points)
        yield ""
    shown = _shown_lines(snippets) if once else {}
    sections = [_markdown_snippets(answer, snippets), _markdown_explanation(answer, passages, full, shown)]
    for section in sections if answer.lead == "commands" else reversed(sections):
        yield from section


def _shown_lines(snippets: list[Any]) -> dict[str, int]:
    """Each line of the snippets shown (stripped) → the first snippet showing it."""
    shown: dict[str, int] = {}
    for s in snippets:
        for line in sanitize(s.snippet.code).splitlines():
            if line.strip():
                shown.setdefault(line.strip(), s.rank)
    return shown


def _once(lines: list[str], shown: dict[str, int]) -> list[str]:
    """The lines, each run of lines shown as a snippet already replaced by one pointer to it."""
    out: list[str] = []
    pointed: int | None = None
    for line in lines:
        rank = shown.get(line.strip())
        if rank is None:
            out.append(line)
            pointed = None
        elif rank != pointed:
            out.append(f"(see [{rank}] above)")
            pointed = rank
    return out


def _markdown_snippets(answer: Answer, snippets: list[Any]) -> Iterator[str]:
    warned: dict[str, int] = {}
    for s in snippets:
        label = sanitize(s.snippet.label or heading_path(s.snippet.headings))
        yield f"**[{s.rank}] {label}** (`{location(s.snippet.path, s.snippet.start_line)}`)"
        yield ""
        yield from _fence(sanitize(s.snippet.code), s.snippet.lang)
        yield ""
        for message, replacement in _warnings(answer, s.rank, warned):
            yield f"> ⚠ {message}"
            if replacement:
                yield ">"
                yield f"> Instead: {replacement}"
            yield ""


def _markdown_explanation(
    answer: Answer, passages: list[Any], full: bool, shown: dict[str, int] | None = None
) -> Iterator[str]:
    if answer.key_points and answer.relevant:
        yield "**Key points**"
        yield ""
        for point in answer.key_points:
            yield f"- {sanitize(point.text)} [passage {point.passage}]"
        yield ""
    if passages:
        yield "**Passages**"
        yield ""
    for hit in passages:
        yield f"{hit.rank}. `{_source(hit)}` {sanitize(heading_path(hit.chunk.headings))}{_also(hit)}"
        yield ""
        # A passage's lines as they are, in a fence: a comment line (`# Rollback Update`) would be a heading and
        # two command lines one paragraph in a blockquote.
        yield from (
            f"   {line}" if line else ""
            for line in _fence("\n".join(_once(_passage_lines(hit, answer, full), shown or {})), "text")
        )
        yield ""

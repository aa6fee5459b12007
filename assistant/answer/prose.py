"""The prose of a passage as a reader takes it, for what the views choose to show (key points, excerpts).

Notes are often hard-wrapped (the Kubernetes docs at ~80 columns): a line break inside a paragraph is a space
(CommonMark's soft line break), so a paragraph or a list item is joined into one logical line before anything
picks a sentence of it. Code fences, headings, table rows, HTML and Hugo shortcode lines stay as they are. Only
a display-time view: chunks keep their text byte-exact, and no Markdown parser is loaded on the query path.
"""

from __future__ import annotations

import re
from typing import Any

FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")  # a code fence line: its marker, its info string
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])(?:\s|$)")  # a list item starts a logical line of its own
# A heading, an HTML or shortcode line, a rule, a table row (a GFM table needs no outer pipes: `a | b`, `:--| --`)
_ALONE = re.compile(r"^\s*(?:#{1,6}(?:\s|$)|\||<|\{\{|(?:[-*_=]\s*){3,}$|.* \| |\s*:?-+:?\s*\|)")
QUOTE = re.compile(r"^\s*(?:>\s?)+")  # a blockquote's (or callout's) markers, nested ones too
# A Markdown link `[text](target)`, or an image `![alt](source)` (`image` is "!"): one line's worth.
LINK = re.compile(r"(?P<image>!?)\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\n]*)\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!e\.g\.)(?<!i\.e\.)(?<!\bvs\.)\s+(?=[A-Z`*\[(])")


def is_code(chunk: Any) -> bool:
    """Whether a passage is code through and through (a YAML file, a command group): its lines stay apart."""
    from assistant.ingest.chunks import is_group_passage
    from assistant.ingest.notes import YAML_SUFFIXES

    return chunk.path.lower().endswith(YAML_SUFFIXES) or is_group_passage(chunk)


def logical_lines(text: str) -> list[str]:
    """The lines of a passage with each paragraph, list item or quote joined into one line (soft breaks are
    spaces; a hard break, two trailing spaces or a backslash, still ends a line). Code lines, in fences or
    indented where no list is open, are kept one per line, unjoined."""
    out: list[str] = []
    current: str | None = None  # the logical line being joined
    fence = ""  # the marker of the open code fence
    in_list = in_code = False
    after_blank = True

    def flush() -> None:
        nonlocal current
        if current is not None:
            out.append(current)
            current = None

    for raw in text.splitlines():
        line = raw.rstrip()
        if fence:
            out.append(line)
            if line.strip().startswith(fence):
                fence = ""
            continue
        m = FENCE.match(line)
        if m:
            flush()
            fence = m.group(1)[0] * 3
            out.append(line)
            continue
        if not line.strip():
            flush()
            after_blank = True
            continue
        indent = len(line) - len(line.lstrip())
        item = bool(_ITEM.match(line))
        if after_blank and not item and indent == 0:
            in_list = False  # a paragraph back at the margin ends the list
        in_list = in_list or item
        in_code = indent >= 4 and not in_list and (after_blank or in_code)  # an indented code block
        if _ALONE.match(line) or in_code:
            flush()
            out.append(line)
        elif current is not None and not item and not (QUOTE.match(line) and not QUOTE.match(current)):
            current += " " + (QUOTE.sub("", line) if QUOTE.match(current) else line.strip())
        else:
            flush()
            current = line
        if current is not None and (raw.endswith("  ") or line.endswith("\\")):
            flush()  # a hard line break
        after_blank = False
    flush()
    return out


def marker(line: str) -> str:
    """A list item's marker with the space after it (`- `, `12. `), or ""."""
    m = _ITEM.match(line)
    return line[: m.end()] if m else ""


def sentences(line: str) -> list[str]:
    """A logical line split at its sentence ends (". " before a capital, a backtick, a bracket); a list item's
    marker (`1. `) stays with its first sentence."""
    at = len(marker(line))
    parts = [p for p in (p.strip() for p in _SENTENCE_END.split(line[at:])) if p] or [""]
    return [(line[:at].strip() + " " + parts[0]).strip(), *parts[1:]]


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, with "…"; a single word longer than the
    limit is cut where it must be."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    if cut <= limit // 2:
        cut = limit - 1
    return text[:cut].rstrip() + "…"

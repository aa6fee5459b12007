"""Extractive key points: the few sentences or bullets of the notes that best answer the question.

Nothing is generated: each point is a line (or a sentence of one) of a passage, cited by passage number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.answer.prose import FENCE, LINK, QUOTE, marker
from assistant.answer.types import KeyPoint
from assistant.index.lexical import QUESTION_WORDS, tokenize
from assistant.knowledge.words import word_set
from assistant.query.parse import Query
from assistant.rank.search import CONFIG, Hit, RankConfig

_MARKUP_ONLY = re.compile(r"^[\s#>|`*_:-]*$")
_BOLD_ONLY = re.compile(r"^(\*\*|__)[^*_]+\1:?$")  # "**Check the controller**": a label, says nothing itself
# How the lines of a passage are offered (how they are scored: RankConfig.point_*).
MIN_CHARS = 25  # a shorter line says too little to be a point
MAX_CHARS = 400  # a longer point is cut at a word with "…"
SPLIT_CHARS = 200  # a joined paragraph longer than this offers its sentences one by one
LABEL_CHARS = 60  # a line shorter than this (not a bullet) labels the list after it ("Flannel")
GENERIC = word_set("generic_words") | QUESTION_WORDS  # too common to tell one line from another
_DANGLING = word_set("dangling_words")  # a clause does not end on these ("… in your cluster with")
_URL = re.compile(r"https?://\S+")
# Above this share of its text in links, a line sends the reader elsewhere ("Learn more about [X](…)") rather
# than saying something: the link-density cut of boilerplate detection (Kohlschütter et al. 2010).
MAX_LINK_DENSITY = 1 / 3


def line_roles(text: str) -> list[tuple[str, str]]:
    """Each line of a passage with its role: "prose" outside fences; in a fence "marker" (the fence lines),
    "command" and "comment" (lines of the commands a shell block offers), "code" (YAML and other code), "output"
    (program output, a text block, a shell block's lines that are not its commands) or "diagram" (mermaid and
    the like). Key points come from prose alone; excerpts never show output or diagrams."""
    from assistant.ingest.snippets import DIAGRAM_LANGS, SOURCE_LINE, _normalise_lang, _shell_groups

    lines = text.splitlines()
    roles = ["prose"] * len(lines)
    n = 0
    while n < len(lines):
        m = FENCE.match(lines[n])
        if not m:
            n += 1
            continue
        mark = m.group(1)
        end = next(
            (k for k in range(n + 1, len(lines)) if lines[k].strip().startswith(mark[0] * len(mark))
             and not lines[k].strip().strip(mark[0])), len(lines)
        )  # fmt: skip
        code = "".join(line + "\n" for line in lines[n + 1 : end])
        lang = _normalise_lang(m.group(2), code)
        role = "diagram" if lang in DIAGRAM_LANGS else "code" if lang else "output"
        inner = [role] * (end - n - 1)
        if lang == "shell":
            inner = ["comment" if line.lstrip().startswith("#") else "output" for line in SOURCE_LINE.findall(code)]
            for a, _, group, _ in _shell_groups(code):
                inner[a : a + len(SOURCE_LINE.findall(group))] = ["command"] * len(SOURCE_LINE.findall(group))
        roles[n] = "marker"
        roles[n + 1 : end] = inner
        if end < len(lines):
            roles[end] = "marker"
        n = end + 1
    return list(zip(lines, roles, strict=True))


def says_nothing(line: str) -> bool:
    """Markup alone, a bold label line ("**Steps**"), or a diagram's line break markup: never a point."""
    text = QUOTE.sub("", line.strip()).strip()
    return bool(_MARKUP_ONLY.match(text) or _BOLD_ONLY.match(text) or "<br" in text.lower())


def candidate_lines(text: str, code: bool = False) -> Iterable[tuple[str, str]]:
    """(line, label) for the prose lines and bullets of a passage (hard-wrapped lines joined; code fences,
    diagrams and output left out), long ones split into sentences, blockquote (callout) markers dropped. A
    bullet's label is the short line that introduces its list ("Flannel"). `code`: the passage is code
    (prose.is_code), its lines stay as they are."""
    from assistant.answer.prose import logical_lines, sentences, shorten

    prose = "\n".join(line if role == "prose" else "" for line, role in line_roles(text))  # the rest: blank
    label = ""
    for raw in prose.splitlines() if code else logical_lines(prose):
        stripped = QUOTE.sub("", raw.strip()).strip()
        if not stripped or _MARKUP_ONLY.match(stripped) or stripped.startswith(("#", "<", "|")):
            continue
        bullet = marker(stripped)
        is_bullet = bool(bullet)
        line = stripped[len(bullet) :].lstrip()
        if not is_bullet and len(line) < LABEL_CHARS:
            label = line.strip("*:_ ")
        if says_nothing(line):
            continue  # a bold label line ("**Steps**") names the list after it; it is no point itself
        parts = sentences(line) if len(line) > SPLIT_CHARS else [line]
        for part in parts:
            part = part.strip()
            if len(part) >= MIN_CHARS and not introduces(part) and link_density(part) <= MAX_LINK_DENSITY:
                yield shorten(part, MAX_CHARS), label if is_bullet else ""


def link_density(text: str) -> float:
    """The share of a line's visible text that is link text or bare URLs (a link reads as its text)."""
    linked = sum(len(m["text"]) for m in LINK.finditer(text))
    visible = LINK.sub(lambda m: m["text"], text)
    linked += sum(len(url) for url in _URL.findall(LINK.sub("", text)))
    return linked / len(visible.strip()) if visible.strip() else 0.0


def introduces(sentence: str) -> bool:
    """A sentence that only leads into what follows it ("**Steps:**", "List the nodes in your cluster with"):
    the code or list it introduces is not part of a key point, so the point would end mid-thought."""
    text = sentence.rstrip("*_ ")
    words = text.split()
    return text.endswith(":") or bool(words) and words[-1].lower() in _DANGLING


def _terms(text: str) -> set[str]:
    return {t for t in tokenize(text) if t not in GENERIC}


def key_points(
    query: Query,
    passages: list[Hit],
    limit: int = 3,
    side: str = "",
    others: tuple[str, ...] = (),
    config: RankConfig = CONFIG,
    offered: frozenset[str] = frozenset(),
) -> list[KeyPoint]:
    """Up to `limit` lines that share the most of the question's content terms, favouring higher passages. With
    `side` (one side of a comparison), only lines about that side qualify: the line, its list label or its
    section title names it, and not only the other sides. A line of code the answer already offers as a
    command (`offered`: its snippets' lines) is not repeated as a point."""
    terms = set(query.terms) - GENERIC
    side_terms = _terms(side)
    other_terms = set().union(*(_terms(o) for o in others)) - side_terms if others else set()
    if not terms and not side_terms:
        return []
    from assistant.answer.prose import is_code

    scored: list[tuple[float, int, str]] = []
    for hit in passages[: config.point_passages]:
        title = _terms(hit.chunk.headings[-1]) if hit.chunk.headings else set()
        for line, label in candidate_lines(hit.chunk.text, is_code(hit.chunk)):
            if line.strip() in offered:
                continue
            words = _terms(line)
            shared = len(terms & words)
            if side_terms:
                # How clearly the line is about this side: its list label names it, the line does, or the
                # section title does (and no other side is named there).
                label_terms = _terms(label)
                if side_terms & label_terms and not other_terms & label_terms:
                    about = config.point_side_label
                elif side_terms & words:
                    about = config.point_side_line
                elif side_terms & title and not other_terms & (title | words | label_terms):
                    about = config.point_side_title
                else:
                    continue
                score = about + len((terms - side_terms) & words)
            elif shared < min(config.point_min_shared, len(terms)):
                continue  # one common word in passing is not an answer
            else:
                score = shared
            scored.append((score / (1 + config.point_rank_decay * (hit.rank - 1)), hit.rank, line))
    scored.sort(key=lambda x: (-x[0], x[1]))
    points: list[KeyPoint] = []
    for _, rank, line in scored:
        if all(line != p.text for p in points):
            points.append(KeyPoint(line, rank))
        if len(points) == limit:
            break
    return points

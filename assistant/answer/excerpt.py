"""Which few lines of a passage to show in the compact view: those that share the most words with the question.

Only a choice of what to display; the ranking of passages is search.py's.
"""

from __future__ import annotations

import re

from assistant.answer.keypoints import GENERIC, line_roles, says_nothing
from assistant.index.lexical import tokenize

_SKIP = ("```", "~~~")
_SHOWN = ("prose", "command", "comment", "code")  # never fence markers, program output or a diagram's source
_LABEL = re.compile(r"^\s*[*_]*[^*_]{0,30}:[*_]*\s*$")  # "**Steps:**" introduces lines, says nothing itself


def _prose(line: str) -> bool:
    """Whether a logical line is prose to split into sentences (not a code or table line)."""
    return not line.startswith((" " * 4, "\t", "|", "#", "$"))


def _terms(text: str) -> set[str]:
    return {t for t in tokenize(text) if t not in GENERIC}


def _shared(terms: set[str], line: str) -> int:
    """Question words in the line, a word also counting when one starts the other ("roll" in "rollout")."""
    words = _terms(line)
    return sum(any(w.startswith(t) or (len(w) > 3 and t.startswith(w)) for w in words) for t in terms)


def excerpt(text: str, question: str, n: int = 2, code: bool = False) -> list[str]:
    """Up to `n` sentences or code lines of `text` (in their order), preferring those that name words of the
    question; the first ones when none does. Hard-wrapped lines are joined into sentences first; fence markers,
    program output, a diagram's source, markup alone and blank lines are left out. `code`: the passage is code
    (prose.is_code), its lines are kept apart."""
    from assistant.answer.prose import logical_lines, sentences

    shown = "\n".join(  # output, diagrams and markup alone become blank lines; fences stay for logical_lines
        line if role == "marker" or (role in _SHOWN and not says_nothing(line)) else ""
        for line, role in line_roles(text)
    )
    lines = [
        part
        for line in (shown.splitlines() if code else logical_lines(shown))
        if line.strip() and not line.strip().startswith(_SKIP)
        for part in ([line.rstrip()] if code or not _prose(line) else sentences(line))
    ]
    lines = [line for line in lines if not _LABEL.match(line)] or lines
    terms = _terms(question)
    scored = sorted(
        ((_shared(terms, line), -i) for i, line in enumerate(lines)),
        reverse=True,
    )
    chosen = sorted(-neg for score, neg in scored[:n] if score > 0)
    if not chosen:
        chosen = list(range(min(n, len(lines))))
    return [lines[i] for i in chosen]


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_IDENT = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]*)+")
_NAME = re.compile(r"^\s+name:")


def _yaml_shared(terms: set[str], line: str) -> int:
    """Question words in a YAML line, its camelCase keys read as words and as initials (`volumeMounts` names
    "mounts", `persistentVolumeClaim` "pvc")."""
    initials = " ".join("".join(p[0] for p in _CAMEL.split(m.group(0))) for m in _IDENT.finditer(line))
    return _shared(terms, _CAMEL.sub(" ", line) + " " + initials)


def fold(lines: list[str], question: str, rows: int) -> list[tuple[int, int]]:
    """Which lines of a long manifest to show in `rows` rows, as [start, end) ranges: its head (apiVersion, kind,
    metadata name), then, after a row for the "… N lines" marker, the window around the lines that match the
    question best, when that shows more of the question than the first `rows` lines do."""
    if len(lines) <= rows:
        return [(0, len(lines))]
    terms = _terms(question)
    scores = [_yaml_shared(terms, line) for line in lines]
    head = next((i + 1 for i, line in enumerate(lines[: rows // 3]) if _NAME.match(line)), rows // 3)
    size = rows - head - 1  # the window, after the head and the marker row
    if size < 1:
        return [(0, rows)]
    start = max(range(head, len(lines) - size + 1), key=lambda i: (sum(scores[i : i + size]), -i))
    matched = [i for i in range(start, start + size) if scores[i]]
    if sum(scores[:head]) + sum(scores[start : start + size]) <= sum(scores[:rows]):
        return [(0, rows)]
    slack = size - (matched[-1] - matched[0] + 1)  # centre the matching lines in the window
    start = min(max(head, matched[0] - slack // 2), len(lines) - size)
    if start <= head + 1:  # a gap of one line: show it instead of a marker
        return [(0, rows)]
    return [(0, head), (start, start + size)]

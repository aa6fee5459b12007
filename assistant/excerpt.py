"""Which few lines of a passage to show in the compact view: those that share the most words with the question.

Only a choice of what to display; the ranking of passages is search.py's.
"""

from __future__ import annotations

import re

from assistant.keypoints import GENERIC
from assistant.lexical import tokenize

_SKIP = ("```", "~~~")
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


def excerpt(text: str, question: str, n: int = 2) -> list[str]:
    """Up to `n` sentences or code lines of `text` (in their order), preferring those that name words of the
    question; the first ones when none does. Hard-wrapped lines are joined into sentences first; fence markers
    and blank lines are left out."""
    from assistant.prose import logical_lines, sentences

    lines = [
        part
        for line in logical_lines(text)
        if line.strip() and not line.strip().startswith(_SKIP)
        for part in (sentences(line) if _prose(line) else [line])
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

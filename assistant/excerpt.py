"""Which few lines of a passage to show in the compact view: those that share the most words with the question.

Only a choice of what to display; the ranking of passages is search.py's.
"""

from __future__ import annotations

import re

from assistant.keypoints import GENERIC, line_roles, says_nothing
from assistant.lexical import tokenize

_SHOWN = ("prose", "command", "comment", "code")  # never fence markers, program output or a diagram's source
_LABEL = re.compile(r"^\s*[*_]*[^*_]{0,30}:[*_]*\s*$")  # "**Steps:**" introduces lines, says nothing itself


def _terms(text: str) -> set[str]:
    return {t for t in tokenize(text) if t not in GENERIC}


def _shared(terms: set[str], line: str) -> int:
    """Question words in the line, a word also counting when one starts the other ("roll" in "rollout")."""
    words = _terms(line)
    return sum(any(w.startswith(t) or (len(w) > 3 and t.startswith(w)) for w in words) for t in terms)


def excerpt(text: str, question: str, n: int = 2) -> list[str]:
    """Up to `n` lines of `text` (in their order), preferring lines that name words of the question; the first
    lines when none does. Fence markers, program output, a diagram's source, markup alone and blank lines are
    left out."""
    lines = [line.rstrip() for line, role in line_roles(text) if role in _SHOWN and not says_nothing(line)]
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

""" "X vs Y" questions: detect them and split them into sides."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PATTERNS = [
    re.compile(r"^(?:what(?:'s| is| are)? (?:the )?)?differences? between (?P<a>.+?) and (?P<b>.+?)$"),
    re.compile(r"^compare (?P<a>.+?) (?:and|with|to|vs\.?|versus) (?P<b>.+?)$"),
    re.compile(r"^(?P<a>.+?) (?:vs\.?|versus|compared to|compared with) (?P<b>.+?)$"),
    re.compile(
        r"^(?:should i use |which is better,? |which one,? )?(?P<a>[\w./-]+(?: [\w./-]+)?) or "
        r"(?P<b>[\w./-]+(?: [\w./-]+)?)$"
    ),
]
_ARTICLES = re.compile(r"^(?:a|an|the|using|use)\s+", re.I)


@dataclass(frozen=True)
class Comparison:
    sides: tuple[str, ...]
    aspect: str = ""  # what to compare on, e.g. "faster"


def _clean_side(text: str) -> str:
    text = text.strip(" ?.!,:;\"'")
    while _ARTICLES.match(text):
        text = _ARTICLES.sub("", text, count=1)
    return text.strip()


def detect_comparison(question: str) -> Comparison | None:
    """Comparison(sides=("Flannel", "Calico")) for "Flannel vs Calico?"; None for other questions."""
    text = " ".join(question.strip().rstrip("?!. ").split())
    aspect = ""
    if ":" in text:  # "Flannel vs Calico: which one is faster"
        text, aspect = (part.strip() for part in text.split(":", 1))
    lowered = text.lower()
    for pattern in _PATTERNS:
        m = pattern.match(lowered)
        if not m:
            continue
        a = _clean_side(text[m.start("a") : m.end("a")])
        b = _clean_side(text[m.start("b") : m.end("b")])
        if a and b and a.lower() != b.lower() and len(a) <= 60 and len(b) <= 60:
            return Comparison((a, b), aspect)
    return None

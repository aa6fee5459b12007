""" "X vs Y" questions: detect them and split them into sides."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PATTERNS = [
    re.compile(r"^(?:what(?:'s| is| are)? (?:the )?)?differences? between (?P<a>.+?) and (?P<b>.+?)$"),
    re.compile(r"^compare (?P<a>.+?) (?:and|with|to|vs\.?|versus) (?P<b>.+?)$"),
    re.compile(r"^(?P<a>.+?) (?:vs\.?|versus|compared to|compared with) (?P<b>.+?)$"),
    re.compile(
        r"^(?:should (?:i|we) (?:use|pick|choose|go with) |which is better,? |which one,? )?"
        r"(?P<a>[\w./-]+(?: [\w./-]+)?) or (?P<b>[\w./-]+(?: [\w./-]+)?)(?P<tail> (?:for|on|in|with|when|under) .+)?$"
    ),
    # "is calico faster than flannel", "is a statefulset more reliable than a deployment"
    re.compile(
        r"^(?:is|are|does|do|was|would) (?P<a>.+?) (?P<aspect>\w+er|more \w+|less \w+|better|worse) than "
        r"(?P<b>.+?)$"
    ),
]
# A phrase after the second side that holds for both ("ReadWriteOnce vs ReadWriteMany on Nutanix").
_SHARED_TAIL = re.compile(r"^(?P<side>.+?) (?P<tail>(?:on|for|in|with|when|under|inside|within) .+)$", re.I)
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
        found = m.groupdict()
        extra = [text[m.start(g) : m.end(g)].strip() for g in ("aspect", "tail") if found.get(g)]
        if (shared := _SHARED_TAIL.match(b)) and " " not in a:
            b = shared.group("side")  # the qualifier belongs to both sides
            extra.append(shared.group("tail"))
        if a and b and a.lower() != b.lower() and len(a) <= 60 and len(b) <= 60:
            return Comparison((a, b), " ".join([aspect, *extra]).strip())
    return None

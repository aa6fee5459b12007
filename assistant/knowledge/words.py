"""The hand-written word lists every stage reads (kubectl's verbs and short names, question words, stopwords,
the words that ask for a removal…), kept in one data file, data/words.json, each with a note saying what it is
for, and read once.

A list of words comes back as a frozenset (for membership only, so no hash seed can change an answer), a
mapping as a dict (its values frozensets when they are lists), an ordered list of pairs as a tuple in the
file's order.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

WORDS_FILE = Path(__file__).parents[1] / "data" / "words.json"


@cache
def _lists() -> dict[str, Any]:
    lists: dict[str, Any] = json.loads(WORDS_FILE.read_text(encoding="utf-8"))["lists"]
    return {name: entry["words"] for name, entry in lists.items()}


def _get(name: str, kind: type) -> Any:
    value = _lists()[name]
    if not isinstance(value, kind):
        raise TypeError(f"{WORDS_FILE.name}: {name} is not a {kind.__name__}")
    return value


def word_set(name: str) -> frozenset[str]:
    """A list of words, for membership."""
    return frozenset(_get(name, list))


def word_map(name: str) -> dict[str, str]:
    """A mapping of words to words (`deploy` → deployment)."""
    return dict(_get(name, dict))


def word_sets(name: str) -> dict[str, frozenset[str]]:
    """A mapping of words to sets of words (`roll` → {rollout})."""
    return {key: frozenset(values) for key, values in _get(name, dict).items()}


def word_pairs(name: str) -> tuple[tuple[str, str], ...]:
    """An ordered list of pairs, in the file's order (where the order matters)."""
    return tuple((a, b) for a, b in _get(name, list))

"""Destructive commands: deletes, resets, wipes, evictions, force-kills. The rules are data
(data/destructive.json), like the deprecation rules: each has a regex over one shell command (as
`deprecations.shell_commands` reads it), what it does, and the question words that ask for its effect.

A destructive command is offered only when the question asks for it (a removal word, or one of the rule's own
words: "reboot" asks for a drain), and every view marks it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from assistant.knowledge.kubectl import negated
from assistant.knowledge.words import word_set

RULES_FILE = Path(__file__).parents[1] / "data" / "destructive.json"


@dataclass(frozen=True)
class Rule:
    id: str
    pattern: re.Pattern[str]
    message: str
    asked_by: frozenset[str]  # question words (any inflection) that ask for this command's effect


@cache
def _load() -> tuple[tuple[Rule, ...], frozenset[str]]:
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    removal = word_set("removal_words")

    def asking(words: list[str]) -> frozenset[str]:
        return frozenset(w for w in words if w != "@removal") | (removal if "@removal" in words else frozenset())

    rules = tuple(Rule(r["id"], re.compile(r["pattern"]), r["message"], asking(r["asked_by"])) for r in data["rules"])
    return rules, removal


def rules() -> tuple[Rule, ...]:
    return _load()[0]


def find(code: str, lang: str) -> list[str]:
    """Ids of the destructive rules one snippet's commands match, in rule order (shell snippets only)."""
    if lang != "shell":
        return []
    from assistant.knowledge.deprecations import shell_commands

    commands = [c for _, c in shell_commands(code)]
    return [r.id for r in rules() if any(r.pattern.search(c) for c in commands)]


def inflections(word: str) -> set[str]:
    """A base word and its regular inflections: delete → deletes, deleted, deleting."""
    stem = word[:-1] if word.endswith("e") else word
    return {word, word + "s", word + "es", word + "d", word + "ed", stem + "ing", word + word[-1] + "ing"}


@cache
def _asking_words() -> dict[str, frozenset[str]]:
    """rule id → every question word that asks for its effect."""
    return {r.id: frozenset(w for base in sorted(r.asked_by) for w in inflections(base)) for r in rules()}


# A removal word that names a permission ("is it able to delete secrets", "allowed to remove pods") or that the
# question rules out ("without deleting anything", and a plain "not": "not deleting the data") asks for no removal.
_PERMISSION = "|".join(re.escape(w) for w in sorted(word_set("permission_words")))
_NOT_ASKING = re.compile(rf"\b(?:{_PERMISSION})\s+to\s+\w+|" + negated(frozenset({"not"}), ".,;:()?"), re.I)


def request_words(text: str) -> set[str]:
    """The lower-case words of a question that can ask for a destructive effect."""
    return set(re.findall(r"[\w-]+", _NOT_ASKING.sub(" ", text).lower()))


def asked_for(rule_ids: list[str] | tuple[str, ...], words: set[str] | frozenset[str]) -> bool:
    """Whether a question (its lower-case words) asks for what every one of these rules does."""
    table = _asking_words()
    return all(table.get(r, frozenset()) & words for r in rule_ids)


def message(rule_id: str) -> str:
    return next((r.message for r in rules() if r.id == rule_id), rule_id)

"""Follow-up questions in a conversation: "which one is faster?", "show me the yaml", "and for StatefulSets?".

A follow-up is rewritten into a self-contained question from the conversation so far; a question that
already names its subject is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.index.lexical import QUESTION_WORDS
from assistant.knowledge.words import word_set
from assistant.query.compare import Comparison, detect_comparison

SWAP_PREFIX = re.compile(
    r"^(?:and|what about|how about|same for|now for|also for|and what about)\s+(?:for\s+|with\s+)?", re.I
)
PRONOUNS = word_set("pronouns")  # point back at the conversation ("scale it to 3")
# Words that ask for a snippet ("show me the yaml").
SNIPPET_WORDS = word_set("snippet_request_words")
# Words that ask for a form of the answer rather than name a subject (question words count too: see is_followup).
FORM_WORDS = SNIPPET_WORDS | word_set("form_words")
# Kubernetes nouns that are the usual subject of a question (and so what "and for X?" replaces).
SUBJECT_NOUNS = word_set("subject_nouns")


@dataclass
class Turn:
    question: str
    searched: str
    comparison: Comparison | None


@dataclass
class Conversation:
    turns: list[Turn] = field(default_factory=list)

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def add(self, question: str, searched: str, comparison: Comparison | None) -> None:
        self.turns.append(Turn(question, searched, comparison))


def _words(text: str) -> list[str]:
    return re.findall(r"[\w./-]+", text.lower())


def is_followup(question: str) -> bool:
    q = question.strip().lower()
    if SWAP_PREFIX.match(q):
        return True
    words = _words(q)
    if not words:
        return False
    if all(w in FORM_WORDS or w in QUESTION_WORDS for w in words):
        return True
    # A pronoun points back ("scale it to 3", "is that one faster"), unless the question names its own subject:
    # "create a pod that runs nginx" is a new question whose "that" points at its own pod.
    return bool(set(words) & PRONOUNS) and len(words) <= 8 and not _names_a_subject(q, words)


def _names_a_subject(question: str, words: list[str]) -> bool:
    from assistant.knowledge.kubectl import wanted

    return (
        bool(wanted(question)[1]) or any(w in SUBJECT_NOUNS for w in words) or detect_comparison(question) is not None
    )


def rewrite(question: str, conversation: Conversation) -> tuple[str, Comparison | None]:
    """(self-contained question, comparison it continues, if any)."""
    last = conversation.last
    if last is None or not is_followup(question):
        return question, detect_comparison(question)
    q = question.strip().rstrip("?").strip()
    swap = SWAP_PREFIX.match(q)
    if swap:
        new_subject = q[swap.end() :].strip()
        if last.comparison:
            return question, None  # "and for X?" after a comparison: X on its own
        return _swap_subject(last.searched, new_subject), None
    if last.comparison and not set(_words(q)) & SNIPPET_WORDS:
        sides = last.comparison.sides
        return f"{' vs '.join(sides)}: {q}", Comparison(sides, q)
    if last.comparison:  # "show me the yaml" after "Flannel vs Calico?": the yaml of both
        return f"{' '.join(last.comparison.sides)} {q}", None
    return f"{_subject_of(last.searched)} {q}".strip(), None


def focus_of(question: str, conversation: Conversation) -> tuple[tuple[str, ...], str]:
    """What a follow-up's commands must be about, and the subject it replaced: ("Flannel", "Calico") for "show
    me the yaml" after "Flannel vs Calico?"; (("StatefulSets",), "deployment") for "and for StatefulSets?" after a
    question about rolling back a deployment. ((), "") for a question that is not such a follow-up."""
    last = conversation.last
    if last is None or not is_followup(question):
        return (), ""
    q = question.strip().rstrip("?").strip()
    swap = SWAP_PREFIX.match(q)
    if swap and not last.comparison:
        tokens = re.findall(r"[\w./-]+", last.searched)
        replaced = next((t for t in reversed(tokens) if t.lower() in SUBJECT_NOUNS), "")
        return (q[swap.end() :].strip(),), replaced
    if last.comparison and set(_words(q)) & SNIPPET_WORDS:
        return last.comparison.sides, ""
    return (), ""


def _subject_of(question: str) -> str:
    """The content words of a question: what it is about, without its question words and form words."""
    words = [w for w in re.findall(r"[\w./-]+", question) if w.lower() not in FORM_WORDS | QUESTION_WORDS]
    return " ".join(words)


def _swap_subject(previous: str, new_subject: str) -> str:
    """Replace the Kubernetes noun the previous question was about with the new subject."""
    tokens = re.findall(r"[\w./-]+|\W+", previous)
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i].lower() in SUBJECT_NOUNS:
            tokens[i] = new_subject
            return "".join(tokens)
    return f"{previous} {new_subject}"

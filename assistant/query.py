"""One question, parsed once: what every later stage (retrieval, snippets, key points, comparisons) needs of it.

`parse_query` runs the follow-up rewrite (when there is a conversation), then reads the searched text once:
its words, its content terms, its intent, the kubectl verbs and resources it asks for, the kind of snippet it
names and, for "X vs Y", the two sides. Later stages take the `Query` and never re-read the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.compare import Comparison, detect_comparison
from assistant.lexical import QUESTION_WORDS, STOPWORDS_EN, tokenize

if TYPE_CHECKING:
    from assistant.followup import Conversation

# A question about what something is (or how two things differ), rather than how to do something.
CONCEPT_START = (
    "what is", "what are", "what's", "what does", "what do", "why", "who", "explain", "define", "describe",
    "tell me about", "difference", "compare",
)  # fmt: skip
# Words that name the kind of snippet a question wants ("the dockerfile for …", "pvc yaml").
SNIPPET_KIND_WORDS = {"dockerfile": "dockerfile", "yaml": "yaml", "manifest": "yaml", "manifests": "yaml"}
_WORDS = re.compile(r"[\w./-]+")


@dataclass(frozen=True)
class Query:
    question: str  # as asked
    text: str  # as searched: a follow-up rewritten into a self-contained question
    words: tuple[str, ...]  # lower-case words of `text`
    terms: tuple[str, ...]  # content terms: tokens without English or question-phrasing stopwords
    intent: str  # "concept", "howto" or "" (unclear)
    verbs: frozenset[str]  # kubectl verbs asked for ("roll back" → rollout)
    resources: frozenset[str]  # Kubernetes resources asked about, folded (pvc → persistentvolumeclaim)
    requests: tuple[tuple[frozenset[str], str], ...]  # each listed task's main (verbs, resource)
    snippet_kind: str  # "yaml", "dockerfile" or ""
    comparison: Comparison | None
    followup_of: str | None = None  # the earlier question this one continues

    @property
    def rewritten(self) -> bool:
        return self.text != self.question


def parse_query(question: str, conversation: Conversation | None = None) -> Query:
    from assistant.commands import requests, wanted

    followup_of = None
    if conversation is not None:
        from assistant.followup import rewrite

        text, comparison = rewrite(question, conversation)
        if text != question and conversation.last is not None:
            followup_of = conversation.last.question
    else:
        text, comparison = question, detect_comparison(question)
    words = tuple(_WORDS.findall(text.lower()))
    verbs, resources = wanted(text)
    kinds = [SNIPPET_KIND_WORDS[w] for w in words if w in SNIPPET_KIND_WORDS]
    return Query(
        question=question,
        text=text,
        words=words,
        terms=tuple(tokenize(text, QUESTION_WORDS | STOPWORDS_EN)),
        intent=intent_of(text, comparison),
        verbs=frozenset(verbs),
        resources=frozenset(resources),
        requests=tuple((frozenset(v), r) for v, r in requests(text)),
        snippet_kind=kinds[0] if kinds else "",
        comparison=comparison,
        followup_of=followup_of,
    )


def intent_of(text: str, comparison: Comparison | None = None) -> str:
    """'concept' for questions about what something is, 'howto' when it asks for a kubectl action or a kind of
    snippet, '' when unclear."""
    from assistant.commands import wanted

    q = text.lower().strip()
    if comparison is not None or q.startswith(CONCEPT_START):
        return "concept"
    verbs, _ = wanted(text)
    if verbs or q.startswith("how") or set(_WORDS.findall(q)) & (set(SNIPPET_KIND_WORDS) | {"kubectl", "command"}):
        return "howto"
    return ""

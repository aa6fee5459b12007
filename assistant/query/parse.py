"""One question, parsed once: what every later stage (retrieval, snippets, key points, comparisons) needs of it.

`parse_query` runs the follow-up rewrite (when there is a conversation), then reads the searched text once:
its words, its content terms, its intent, the kubectl verbs and resources it asks for, the kind of snippet it
names and, for "X vs Y", the two sides. Later stages take the `Query` and never re-read the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.index.lexical import QUESTION_WORDS, STOPWORDS_EN, tokenize
from assistant.knowledge.words import word_map, word_set
from assistant.query.compare import Comparison, detect_comparison

if TYPE_CHECKING:
    from assistant.query.followup import Conversation

# A question about what something is (or how two things differ), rather than how to do something.
CONCEPT_START = tuple(sorted(word_set("concept_starts")))  # for str.startswith
# Words that name the kind of snippet a question wants ("the dockerfile for …", "pvc yaml").
SNIPPET_KIND_WORDS = word_map("snippet_kind_words")
_WORDS = re.compile(r"[\w./-]+")
# "how does X work", "how is traffic routed", "how do services find each other": how something works, not a task
# ("how do I …", "how can we …" stay tasks).
_HOW_IT_WORKS = re.compile(r"^how (?:does|is|are|do (?!i\b|you\b|we\b)|did|was|were)\b|^how .*\bworks?\b\??$")


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
    imperative: bool  # a task on a named resource ("Create a pod …"): kubectl verb matching applies
    asks_how: bool  # "how do I <verb> …" on a named resource, the verb not a light one (get, make…)
    snippet_kind: str  # "yaml", "dockerfile" or ""
    comparison: Comparison | None
    followup_of: str | None = None  # the earlier question this one continues
    focus: tuple[str, ...] = ()  # a follow-up's subject its commands must be about ("show me the yaml" of both sides)
    replaced: str = ""  # the earlier subject a follow-up swapped out ("and for StatefulSets?" → "deployment")

    @property
    def rewritten(self) -> bool:
        return self.text != self.question


def parse_query(question: str, conversation: Conversation | None = None) -> Query:
    from assistant.knowledge.kubectl import requests, wanted

    followup_of = None
    focus: tuple[str, ...] = ()
    replaced = ""
    if conversation is not None:
        from assistant.query.followup import focus_of, rewrite

        text, comparison = rewrite(question, conversation)
        if text != question and conversation.last is not None:
            followup_of = conversation.last.question
        focus, replaced = focus_of(question, conversation)
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
        imperative=is_imperative(text, resources),
        asks_how=asks_how_to(text, resources),
        snippet_kind=kinds[0] if kinds else "",
        comparison=comparison,
        followup_of=followup_of,
        focus=focus,
        replaced=replaced,
    )


# Words that may come before a task's verb without changing it ("Now create …", "Please list …").
_LEAD_WORDS = word_set("task_lead_words")
_LEAD_CLAUSE = re.compile(r"^\s*(?:in|within|inside|on|from|using|for)\b[^,]*,\s*", re.I)  # "In namespace x, …"
_FIRST_SENTENCE = re.compile(r"(?<=[.!?])\s|\n")


def is_imperative(text: str, resources: set[str] | frozenset[str]) -> bool:
    """Whether a question is a task on a named resource: its first sentence opens with a base-form verb that
    kubectl has a command for ("Create a deployment …", "In namespace dev, list the pods"). Only then does
    matching English verbs to kubectl verbs help; in a goal or a symptom ("save a copy of the etcd data",
    "free up disk space on a node full of old images") the same words hijack the answer (`kubectl cp`,
    `kubectl set image`)."""
    from assistant.knowledge.kubectl import TASKS, VERBS

    if not resources:
        return False
    for task in TASKS.split(text):  # each listed task ("* Create a namespace …", "* Create a pod …")
        first = _LEAD_CLAUSE.sub("", _FIRST_SENTENCE.split(task.strip(), maxsplit=1)[0])
        words = re.findall(r"[a-z][a-z-]*", first.lower())
        while words and words[0] in _LEAD_WORDS:
            words = words[1:]
        if words and words[0] in VERBS:
            return True
    return False


_HOW_TO = re.compile(r"^\s*how (?:do|can|should|would|could) (?:i|we|you|one)\s+(?:\w+ly\s+)?([a-z-]+)", re.I)
# Light verbs carry little meaning of their own ("get the workloads off", "make sure"): they name no kubectl action.
LIGHT_VERBS = word_set("light_verbs")


def asks_how_to(text: str, resources: set[str] | frozenset[str]) -> bool:
    """ "how can we restart the web deployment": a task on a named resource asked as a question, with a verb that
    kubectl has a command for and that is not a light verb."""
    from assistant.knowledge.kubectl import VERBS

    m = _HOW_TO.match(text)
    return bool(resources and m and m.group(1).lower() in VERBS and m.group(1).lower() not in LIGHT_VERBS)


def intent_of(text: str, comparison: Comparison | None = None) -> str:
    """'concept' for questions about what something is, 'howto' when it asks for a kubectl action or a kind of
    snippet, '' when unclear."""
    from assistant.knowledge.kubectl import wanted

    q = text.lower().strip()
    if comparison is not None:
        return "concept"
    if set(_WORDS.findall(q)) & (set(SNIPPET_KIND_WORDS) | {"kubectl", "command", "commands"}):
        return "howto"  # "what is the command to …" asks for the command
    if q.startswith(CONCEPT_START) or _HOW_IT_WORKS.match(q):
        return "concept"
    verbs, _ = wanted(text)
    if verbs or q.startswith("how"):
        return "howto"
    return ""

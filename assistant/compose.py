"""Question → Answer: parse the question once (follow-ups rewritten), retrieve, then add what helps act on the
results (key points, comparison sides, outdated-command warnings)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.answer import Answer, Side, Warning_
from assistant.keypoints import key_points
from assistant.query import Query, parse_query
from assistant.words import word_map

if TYPE_CHECKING:
    from assistant.followup import Conversation
    from assistant.search import Hit, SnippetHit

SIDE_PASSAGES = 3
# (query, passages wanted, snippets wanted, offset) → (passages, snippets, whether the notes answer)
Retrieve = Callable[[Query, int, int, int], "tuple[list[Hit], list[SnippetHit], bool]"]


def compose_answer(
    retrieve: Retrieve,
    question: str,
    k: int,
    n_snippets: int,
    offset: int = 0,
    conversation: Conversation | None = None,
) -> Answer:
    query = parse_query(question, conversation)
    passages, snippets, relevant = retrieve(query, k, n_snippets, offset)
    lead = "explanation" if query.intent == "concept" else "commands"
    if not relevant:
        snippets = []  # the notes do not answer: no view offers a command to run
    elif lead == "explanation":
        snippets = own_commands(snippets, passages)
    notice = None
    if query.focus and relevant and offset == 0:
        snippets, notice = focused(snippets, query)
    sides = []
    if query.comparison and offset == 0 and relevant:
        for term in query.comparison.sides:
            others = tuple(t for t in query.comparison.sides if t != term)
            side_query = parse_query(f"{term} {query.comparison.aspect}".strip())
            side_passages, _, _ = retrieve(side_query, SIDE_PASSAGES, 0, 0)
            points = key_points(side_query, side_passages, limit=3, side=term, others=others)
            sides.append(Side(term, points, side_passages))
    answer = Answer(
        question,
        passages,
        snippets,
        key_points=key_points(query, passages) if offset == 0 and relevant else [],
        comparison=sides,
        warnings=outdated(snippets),
        rewritten=query.text if query.rewritten else None,
        relevant=relevant,
        lead=lead,
        notice=notice,
    )
    if conversation is not None:
        conversation.add(question, query.text, query.comparison)
    return answer


EXPLAINING_PASSAGES = 2  # a concept question's commands come from its first passages only


def own_commands(snippets: list[SnippetHit], passages: list[Hit]) -> list[SnippetHit]:
    """A concept question's commands: only those of the passages that explain it (a command elsewhere in the
    notes that shares a word is no answer to "what is etcd for"), renumbered."""
    from dataclasses import replace

    kept = [s for s in snippets if s.passage is not None and s.passage <= EXPLAINING_PASSAGES]
    return [replace(s, rank=n) for n, s in enumerate(kept, start=1)]


SNIPPET_FORMS = word_map("snippet_forms")  # "yaml" → how a notice names it: "Your notes hold no YAML for …"


def mentions(s: SnippetHit, term: str) -> bool:
    """Whether a snippet is about a term: its code, label or heading path names it (any case, plural folded)."""
    from assistant.commands import fold

    text = " ".join((s.snippet.code, s.snippet.label, *s.snippet.headings)).lower()
    words = term.lower().split()
    return all(w in text or fold(w) in text for w in words)


def focused(snippets: list[SnippetHit], query: Query) -> tuple[list[SnippetHit], str | None]:
    """A follow-up's commands, honestly: "show me the yaml" after "Flannel vs Calico?" offers only YAML about
    Flannel or Calico, and says so when the notes hold none; "and for StatefulSets?" after a Deployment question
    says when the notes show it only for Deployments."""
    from dataclasses import replace

    covered = [s for s in snippets if any(mentions(s, t) for t in query.focus)]
    sides = " or ".join(query.focus)
    if query.replaced:
        from assistant.lexical import tokenize

        # the same task on the new subject: a snippet that names the subject and one of the task's other terms
        task = set(query.terms) - set(tokenize(" ".join(query.focus)))
        covered = [
            s for s in covered if task & set(tokenize(" ".join((s.snippet.code, s.snippet.label, *s.snippet.headings))))
        ]
        if covered or not snippets:
            return snippets, None
        return snippets, f"Your notes show this only for {query.replaced}, not for {sides}."
    if covered:
        return [replace(s, rank=n) for n, s in enumerate(covered, start=1)], None
    form = next((SNIPPET_FORMS[w] for w in query.words if w in SNIPPET_FORMS), "snippets")
    return [], f"Your notes hold no {form} for {sides}."


def outdated(snippets: list[SnippetHit]) -> list[Warning_]:
    """The warnings of the snippets shown: outdated commands and APIs, and destructive commands."""
    from assistant import destructive
    from assistant.deprecations import check

    warnings = []
    for s in snippets:
        for f in check(s.snippet.code, s.snippet.lang, label=s.snippet.label):
            warnings.append(Warning_(f.rule, f.message, f.replacement, f.since, f.source, s.rank))
        for rule in destructive.find(s.snippet.code, s.snippet.lang):
            warnings.append(Warning_(rule, destructive.message(rule), "", "", "", s.rank, kind="destructive"))
    return warnings

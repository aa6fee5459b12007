"""Question → Answer: parse the question once (follow-ups rewritten), retrieve, then add what helps act on the
results (key points, comparison sides, outdated-command warnings)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from assistant.answer import Answer, Side, Warning_
from assistant.keypoints import key_points
from assistant.query import Query, parse_query

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
    )
    if conversation is not None:
        conversation.add(question, query.text, query.comparison)
    return answer


def outdated(snippets: list[SnippetHit]) -> list[Warning_]:
    from assistant.deprecations import check

    warnings = []
    for s in snippets:
        for f in check(s.snippet.code, s.snippet.lang, label=s.snippet.label):
            warnings.append(Warning_(f.rule, f.message, f.replacement, f.since, f.source, s.rank))
    return warnings

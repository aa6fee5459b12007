"""Question → Answer: rewrite follow-ups, retrieve, then add what helps act on the results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.answer import Answer, Side, Warning_
from assistant.compare import detect_comparison, expand
from assistant.keypoints import key_points

if TYPE_CHECKING:
    from assistant.core import Assistant
    from assistant.followup import Conversation
    from assistant.search import IndexReader, SnippetHit

SIDE_PASSAGES = 3


def compose_answer(
    assistant: Assistant,
    reader: IndexReader,
    question: str,
    k: int,
    n_snippets: int,
    offset: int = 0,
    conversation: Conversation | None = None,
) -> Answer:
    if conversation is not None:
        from assistant.followup import rewrite

        searched, comparison = rewrite(question, conversation)
    else:
        searched, comparison = question, detect_comparison(question)
    # Abbreviations are spelled out for comparisons ("PV or PVC?"); in a task ("mount a PVC in a deployment")
    # the spelled-out words would outweigh the rest of the question.
    query = expand(searched) if comparison else searched
    passages, snippets = assistant.retrieve(reader, query, k, n_snippets, offset)
    sides = []
    if comparison and offset == 0:
        for term in comparison.sides:
            others = tuple(t for t in comparison.sides if t != term)
            side_query = expand(f"{term} {comparison.aspect}".strip())
            side_passages, _ = assistant.retrieve(reader, side_query, SIDE_PASSAGES, 0)
            points = key_points(side_query, side_passages, limit=3, side=term, others=others)
            sides.append(Side(term, points, side_passages))
    answer = Answer(
        question,
        passages,
        snippets,
        key_points=key_points(query, passages) if offset == 0 else [],
        comparison=sides,
        warnings=outdated(snippets),
        rewritten=searched if searched != question else None,
    )
    if conversation is not None:
        conversation.add(question, searched, comparison)
    return answer


def outdated(snippets: list[SnippetHit]) -> list[Warning_]:
    from assistant.deprecations import check

    warnings = []
    for s in snippets:
        for f in check(s.snippet.code, s.snippet.lang, label=s.snippet.label):
            warnings.append(Warning_(f.rule, f.message, f.replacement, f.since, f.source, s.rank))
    return warnings

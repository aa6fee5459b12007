"""Question → Answer: retrieval, then the parts that help act on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.answer import Answer

if TYPE_CHECKING:
    from assistant.core import Assistant
    from assistant.search import IndexReader


def compose_answer(
    assistant: Assistant, reader: IndexReader, question: str, k: int, n_snippets: int, offset: int = 0
) -> Answer:
    passages, snippets = assistant.retrieve(reader, question, k, n_snippets, offset)
    return Answer(question, passages, snippets)

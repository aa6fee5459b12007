"""A parsed question → the passages and snippets that answer it, as `Hit`s and `SnippetHit`s.

A `Retriever` owns what retrieval needs (the index reader, the query embedder, the `RankConfig`, a note filter)
so that `Assistant.ask` reads straight: parse, retrieve (the question, then each side of a comparison), compose.
A comparison's sides rank passages only (`search.rank_passages`): their snippets would be thrown away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.index.generation import IndexReader
from assistant.query.parse import Query, parse_query
from assistant.rank.search import (
    CONFIG,
    Hit,
    RankConfig,
    Ranking,
    SnippetHit,
    collapse_duplicates,
    rank,
    rank_passages,
)

SIDE_PASSAGES = 3  # passages retrieved for each side of a comparison


@dataclass(frozen=True)
class Retrieved:
    passages: list[Hit]
    snippets: list[SnippetHit]
    relevant: bool  # whether the notes answer the question at all, or these are only the closest passages


@dataclass(frozen=True)
class SideHits:
    """One side of "X vs Y": its term, the query it was retrieved with, its best passages."""

    term: str
    query: Query
    passages: list[Hit]


@dataclass
class Retriever:
    reader: IndexReader
    embed: Callable[[list[str]], np.ndarray]  # texts → unit vectors (the query embedder)
    note_named: Callable[[str], str]  # a wikilink's target → the note it names ("" when none does)
    config: RankConfig = CONFIG
    where: Callable[[str], bool] | None = None  # only the notes it accepts (by note key)

    def retrieve(
        self, query: Query, k: int, n_snippets: int, offset: int = 0, check: Callable[[str], None] | None = None
    ) -> Retrieved:
        """The passages and snippets that answer, numbered from 1 after skipping `offset` of each. `check(stage)`
        runs after embedding and after ranking, and may raise to stop there (a cancelled MCP call)."""
        qvec = self.embed([query.text])[0]
        if check:
            check("after embedding")
        ranking = rank(self.reader, query, qvec, self.config)
        if check:
            check("after ranking")
        passages = self._passages(ranking, k, offset)
        return Retrieved(passages, self._snippets(ranking, passages, n_snippets, offset), ranking.relevant)

    def sides(self, query: Query) -> list[SideHits]:
        """Each side of a comparison ("Flannel vs Calico: which is faster" → "Flannel faster", "Calico faster")
        with its best passages; [] for a question that compares nothing."""
        if query.comparison is None:
            return []
        found = []
        for term in query.comparison.sides:
            side_query = parse_query(f"{term} {query.comparison.aspect}".strip())
            qvec = self.embed([side_query.text])[0]
            ranking = rank_passages(self.reader, side_query, qvec, self.config)
            found.append(SideHits(term, side_query, self._passages(ranking, SIDE_PASSAGES, 0)))
        return found

    def _passages(self, ranking: Ranking, k: int, offset: int) -> list[Hit]:
        reader, ranked = self.reader, ranking.passages
        if self.where is not None:
            ranked = [(ci, s) for ci, s in ranked if self.where(reader.text(ci)[0])]
        passages = []
        for r, (ci, s, also) in enumerate(collapse_duplicates(reader, ranked, offset + k)[offset:]):
            chunk = reader.chunk(ci)
            links = tuple((t, self.note_named(t)) for t in chunk.links)
            passages.append(Hit(r + 1, s, chunk, ci, tuple(also), links))
        return passages

    def _snippets(self, ranking: Ranking, passages: list[Hit], n: int, offset: int) -> list[SnippetHit]:
        """The first n distinct snippets past `offset`: the same manifest linked from two pages, or the same
        command written twice, is offered once."""
        reader = self.reader
        shown = {h.index: h.rank for h in passages}
        snippets: list[SnippetHit] = []
        seen: set[object] = set()
        distinct = 0
        for si, score in ranking.snippets:
            if len(snippets) == n:
                break
            snippet = reader.snippet(si)
            if self.where is not None and not self.where(snippet.path):
                continue
            if (snippet.path, snippet.start_line) in seen or snippet.code.strip() in seen:
                continue
            seen.update(((snippet.path, snippet.start_line), snippet.code.strip()))
            distinct += 1
            if distinct > offset:
                owner = shown.get(int(reader.snippet_chunk[si]))
                snippets.append(SnippetHit(len(snippets) + 1, score, snippet, si, owner))
        return snippets

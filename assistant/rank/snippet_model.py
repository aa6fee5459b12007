"""Learned snippet ranking: a linear model over the evidence for each candidate snippet.

Each candidate (search.SnippetPool) is described by a few features — its closeness in meaning, its BM25 rank,
the rank of the passage it sits in, whether it does the asked action, whether it is a manifest and one was asked
for, whether it is destructive and not asked for — and scored by a weighted sum. The weights are fitted by
`bench/ltr.py` with a pairwise logistic loss (RankNet's linear case, Burges et al. 2005) on the dev sets, each
half fitted on the other half first to check it generalises; `data/snippet_model.json` holds them.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from assistant.index.generation import IndexReader
    from assistant.query.parse import Query
    from assistant.rank.search import RankConfig, SnippetPool

MODEL_FILE = Path(__file__).parents[1] / "data" / "snippet_model.json"

FEATURES = (
    "dense",  # cosine of the snippet's descriptor to the question
    "dense_rank",  # 1 / log2(2 + rank) among snippets by cosine (0 outside the pool)
    "lexical_rank",  # the same by BM25
    "parent_rank",  # the same for the passage the snippet sits in
    "parent_first",  # it sits in the first passage
    "match",  # action score / 3: does what the question asks (verb, subcommand, resource)
    "match_rank",  # 1 / log2(2 + rank) among the commands and manifests that match
    "strong",  # the asked verb on the asked resource
    "yaml",  # a manifest
    "yaml_asked",  # a manifest, and the question names YAML, a manifest, a spec or a file
    "shell_asked_task",  # a command, and the question is a task on a named resource
    "destructive_unasked",  # destructive, and the question does not ask to remove anything
    "dense_z",  # the cosine, standardised over the candidates
    "bm25_share",  # BM25 over the best candidate's BM25
    "inline",  # code quoted in a sentence that tells the reader to run it, not a block
    "lines",  # log2(1 + code lines) / 4: long blocks answer less precisely
    "names_program",  # the question names the command's program or subcommand (`crictl`, `drain`)
    "concept_parent",  # parent_rank, for a question about what something is or how it works
    "page_rank",  # 1 / log2(2 + rank) of the snippet's page among the pages of the ranked passages
    "fusion",  # the reciprocal rank fusion of the signals (search.fused_snippets), × (k + 1)
    "other_lang",  # neither a command nor a manifest (a Dockerfile, HTML, a config file)
    "lang_asked",  # of the kind the question names ("the dockerfile for …")
)


def _discount(rank: int | None) -> float:
    return 0.0 if rank is None else 1.0 / math.log2(2 + rank)


def features(pool: SnippetPool, query: Query, reader: IndexReader, config: RankConfig) -> tuple[list[int], np.ndarray]:
    """(candidates, one row of FEATURES each)."""
    from assistant.knowledge.destructive import asked_for, request_words
    from assistant.rank.search import MANIFEST_WORDS, STRONG_MATCH, fused_snippets

    fused = dict(fused_snippets(pool, config))

    candidates = pool.candidates
    langs, extra = reader.snippet_langs, reader.snippet_features
    match_rank = {si: r for r, si in enumerate(pool.matches)}
    words = request_words(query.text)
    wants_yaml = query.snippet_kind == "yaml" or bool(MANIFEST_WORDS & set(query.words))
    task = query.imperative or query.asks_how
    sims = pool.sims[candidates] if candidates else np.zeros(0)
    mean, spread = (float(sims.mean()), float(sims.std()) or 1.0) if len(sims) > 1 else (0.0, 1.0)
    best_bm25 = float(pool.bm25[candidates].max()) if candidates else 0.0
    asked = set(query.words) - {"kubectl"}
    concept = query.intent == "concept"
    page_rank: dict[int, int] = {}
    for ci, _ in pool.passages:
        page_rank.setdefault(int(reader.chunk_page[ci]), len(page_rank))
    rows = []
    for si in candidates:
        stored = extra[si]  # the snippet's shape, stored when indexing (kubectl.snippet_shape)
        yaml_ = langs[si] == "yaml"
        match = pool.matches.get(si, 0.0)
        destructive = extra[si].get("destructive")
        rows.append((
            float(pool.sims[si]),
            _discount(pool.dense.get(si)),
            _discount(pool.lexical.get(si)),
            _discount(pool.parent.get(si)),
            float(pool.parent.get(si) == 0),
            match / 3,
            _discount(match_rank.get(si)),
            float(match >= STRONG_MATCH),
            float(yaml_),
            float(yaml_ and wants_yaml),
            float(not yaml_ and task),
            float(bool(destructive) and not asked_for(destructive, words)),
            (float(pool.sims[si]) - mean) / spread,
            float(pool.bm25[si]) / best_bm25 if best_bm25 > 0 else 0.0,
            float(stored["inline"]),
            math.log2(1 + stored["lines"]) / 4,
            float(langs[si] == "shell" and not asked.isdisjoint(stored["programs"])),
            _discount(pool.parent.get(si)) if concept else 0.0,
            _discount(page_rank.get(int(reader.chunk_page[reader.snippet_chunk[si]]))),
            fused.get(si, 0.0) * (config.rrf_k + 1),
            float(langs[si] not in ("shell", "yaml")),
            float(bool(query.snippet_kind) and langs[si] == query.snippet_kind),
        ))  # fmt: skip
    return candidates, np.array(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))


def score(pool: SnippetPool, query: Query, reader: IndexReader, config: RankConfig) -> list[tuple[int, float]]:
    """The candidates, best first, by the weighted sum of their features (ties: the lower snippet index)."""
    candidates, x = features(pool, query, reader, config)
    w = dict(config.snippet_model)
    scores = x @ np.array([w.get(name, 0.0) for name in FEATURES])
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], candidates[i]))
    return [(candidates[i], float(scores[i])) for i in order]


@cache
def shipped() -> tuple[tuple[str, float], ...]:
    """The fitted weights, in FEATURES order; () when the file is missing (then ranks fuse, search.fuse)."""
    if not MODEL_FILE.exists():
        return ()
    weights = json.loads(MODEL_FILE.read_text())["weights"]
    return tuple((name, float(weights.get(name, 0.0))) for name in FEATURES)

"""Hybrid retrieval: dense (FAISS) and BM25, fused by normalised scores for passages, by rank for snippets.

The query path imports numpy, onnxruntime and tokenizers only — never torch (nor faiss: the flat FAISS files
are memory-mapped and searched exactly, as IndexFlatIP would).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

import numpy as np

from assistant.index.generation import IndexReader
from assistant.knowledge.kubectl import KINDS, SUBCOMMAND_WORDS
from assistant.knowledge.words import word_map, word_set
from assistant.query.parse import Query
from assistant.records import Chunk, Snippet


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    chunk: Chunk
    index: int
    also_in: tuple[tuple[str, int], ...] = ()  # (path, line) of the other passages holding the same text
    links: tuple[tuple[str, str], ...] = ()  # (wikilink target, the note it names, "" when none does)


@dataclass(frozen=True)
class SnippetHit:
    rank: int
    score: float
    snippet: Snippet
    index: int
    passage: int | None  # rank of the passage it belongs to, when that passage is shown


def _dense(vectors: np.ndarray, qvec: np.ndarray, n: int) -> tuple[dict[int, int], np.ndarray]:
    """Exact inner-product search over the flat index (what IndexFlatIP does): (ranks of the top n, all sims)."""
    if not len(vectors):
        return {}, np.zeros(0, np.float32)
    sims = np.asarray(vectors @ qvec.astype(np.float32))
    return {int(i): r for r, i in enumerate(top(sims, n))}, sims


def _lexical_ranks(scores: np.ndarray, n: int) -> dict[int, int]:
    return {int(i): r for r, i in enumerate(top(scores, n)) if scores[i] > 0}


def shipped_snippet_model() -> tuple[tuple[str, float], ...]:
    from assistant.rank.snippet_model import shipped

    return shipped()


@dataclass(frozen=True)
class RankConfig:
    """Every number ranking uses. Chosen on one half of each dev set (split by a hash of the id) and kept only
    where the other half agreed; the README gives both halves."""

    pool: int = 50  # candidates taken from each signal before fusion (fusing fewer than ~50 hurt)
    lexical_weight: float = 0.3  # z-score fusion: BM25's share; the dense cosine has the rest
    page_weight: float = 0.1  # page aggregation: share of a page's other candidates added to each of its chunks
    page_others: int = 3  # how many of a page's other candidates count
    page_lexical: float = 0.2  # document-level evidence: the z-scored BM25 of a chunk's whole page, added
    crowd_per_page: int = 1  # host crowding: passages of one page among the first crowd_window while others wait
    crowd_per_section: int = 1  # the same for the pieces of one heading section
    crowd_window: int = 10
    crowd_depth: int = 4  # crowding reorders the first crowd_depth × crowd_window passages, the rest keep their place
    generated_penalty: float = 0.5  # subtracted (in standard deviations) from chunks of generated reference pages
    rrf_k: int = 60  # snippets fuse ranks (their signals are too unlike for scores)
    snippet_pool: int = 60  # snippets considered for an answer, before the relevance floor
    snippet_dense: float = 1.0
    snippet_lexical: float = 1.0
    snippet_parent: float = 0.8  # the rank of the passage a snippet sits in
    snippet_command: float = 1.0  # the rank among commands doing what the question asks
    command_match: float = 2.0  # doing exactly what was asked counts like topping one more list, this much
    min_sim: float = 0.3  # cosine, query vs snippet descriptor, for a snippet to be offered at all
    min_sim_lexical: float = 0.2  # the same, for snippets that also share words with the question
    relevant_floor: float = 0.155  # the notes answer when a passage is this close to the question, plus…
    relevant_per_decade: float = 0.065  # …this much per tenfold more passages (see is_relevant)
    gate: str = "task"  # when kubectl verb matching applies: imperative | task (also "how do I …") | off
    match_evidence: bool = True  # a command doing the asked action on the asked resource also means relevant
    # Command matching (action_score): how well one kubectl action does what a task asks. A command doing an
    # asked verb on the asked resource scores match_verb + match_resource = match_full.
    match_verb: float = 1.0  # it does one of the asked kubectl verbs (every candidate does)
    match_main: float = 0.5  # added when it does one of the question's main requests (a task's first verb)
    match_subcommand: float = 0.5  # added for an asked subcommand ("image" → `set image`), taken off for another
    match_resource: float = 1.0  # added when it acts on an asked resource
    match_other_resource: float = 0.5  # taken off when it acts on another resource than the asked ones
    match_no_resource: float = 0.5  # added when the question names no resource
    match_product: float = 0.5  # added when it makes an asked resource besides its target (`expose` → a Service)
    match_floor: float = 0.25  # the least a matching command scores
    manifest_create: float = 2.0  # a manifest of an asked kind, for a question asking to create or apply: full
    manifest_kind: float = 1.0  # a manifest of an asked kind, otherwise
    match_full: float = 2.0  # an action score that does an asked action: the first such command of each action
    # leads, it is offered down to min_sim_lexical, and rank fusion counts it as one whole command_match
    strong_match: float = 2.5  # the asked verb on the asked resource, and more (main request…): evidence too
    # Diversity at the top of the snippets (diversify)
    mix_window: int = 5  # the first answers, where commands and manifests are mixed
    mix_matching: float = 1.5  # an action score from which a command or manifest counts as matching
    mix_manifests: int = 2  # manifests in the window while a matching command waits…
    mix_manifests_asked: int = 3  # …or this many, when the question asks for YAML
    mix_commands: int = 3  # commands in the window while a matching manifest waits
    mix_main_at: int = 2  # where the command doing the main request goes when the window lacks one (0-based)
    # Key points (keypoints.key_points): lines scored by the question's content terms they share
    point_passages: int = 3  # points come from the first passages only
    point_min_shared: int = 2  # content terms a line must share (fewer when the question has fewer)
    point_rank_decay: float = 0.15  # a line's score is divided by 1 + this × (its passage's rank - 1)
    point_side_label: float = 1.5  # a comparison side named by the line's list label…
    point_side_line: float = 1.0  # …by the line itself…
    point_side_title: float = 0.5  # …or only by its section's title
    # Snippets are ranked by a linear model fitted on the dev sets (snippet_model.py, bench/ltr.py) over the
    # evidence for each; with no weights, by the reciprocal rank fusion of that evidence (fused_snippets).
    snippet_model: tuple[tuple[str, float], ...] = field(default_factory=shipped_snippet_model)
    diversify: bool = True  # keep a mix of commands and manifests at the top (see diversify)
    unasked_destructive: str = "drop"  # a destructive command the question did not ask for: drop | last


CONFIG = RankConfig()


def command_matches(
    reader: IndexReader, query: Query, sims: np.ndarray, n: int, config: RankConfig
) -> tuple[dict[int, float], dict[int, str]]:
    """Snippets whose kubectl command does what the question asks (verb, subcommand, resource), or manifests
    of the kind it asks to create: {snippet: match score}, the best n (ties broken by closeness in meaning);
    and, for the commands that do one of the asked actions, its verb: {snippet: verb}."""
    verbs, resources = query.verbs, query.resources
    gate = {"imperative": query.imperative, "task": query.imperative or query.asks_how, "off": True}[config.gate]
    if not gate or (not verbs and not resources):
        return {}, {}
    words = set(query.words)
    by_verb, by_kind = reader.command_index
    scores: dict[int, float] = {}
    target: dict[int, tuple[str, str]] = {}
    for verb in sorted(verbs):  # sorted: the same answer whatever the hash seed
        for si, sub, resource in by_verb.get(verb, ()):
            score = action_score(verb, sub, resource, words, resources, query.requests, config)
            if score > scores.get(si, 0.0):
                scores[si], target[si] = score, (verb, resource)
    for resource in sorted(resources):
        for si in by_kind.get(KINDS.get(resource, ""), ()):
            asked = config.manifest_create if verbs & {"create", "apply"} else config.manifest_kind
            scores[si] = max(scores.get(si, 0.0), asked)
    # Commands and manifests are ranked apart, then interleaved: hundreds of Pod manifests must not push the one
    # `kubectl run` out of sight, nor the other way round. A question that asks for several actions ("create a
    # namespace and a pod", "run it, check it, delete it") gets the best command for each before the second
    # best for any.
    kind_hits = {si for r in resources for si in by_kind.get(KINDS.get(r, ""), ())}
    order = sorted(scores, key=lambda si: (-scores[si], -float(sims[si]) if len(sims) else 0.0))
    commands = [si for si in order if si not in kind_hits]
    firsts: dict[tuple[str, str], int] = {}
    for si in commands:
        if scores[si] >= config.match_full:
            firsts.setdefault(target.get(si, ("", "")), si)
    commands = list(firsts.values()) + [si for si in commands if si not in set(firsts.values())]
    manifests = [si for si in order if si in kind_hits]
    mixed = [si for pair in zip_longest(commands, manifests) for si in pair if si is not None][:n]
    full = config.match_full
    return {si: scores[si] for si in mixed}, {si: target[si][0] for si in mixed if si in target and scores[si] >= full}


# What a command makes besides acting on its target: `kubectl expose deployment web` makes a Service.
PRODUCTS = word_map("kubectl_products")


def action_score(
    verb: str,
    sub: str,
    resource: str,
    words: set[str],
    resources: frozenset[str] | set[str],
    main: tuple[tuple[frozenset[str], str], ...] | list[tuple[set[str], str]] | None = None,
    config: RankConfig = CONFIG,
) -> float:
    """How well one kubectl action answers: 1 for the verb, +1 for the asked resource, +0.5 for the asked
    subcommand ("image" → `set image`) or a product that was asked for, +0.5 for doing one of the question's
    main requests (a task's first verb, on the first resource after it), less for a different resource or
    subcommand (`kubectl set env` when the question is about the image). The numbers: RankConfig.match_*."""
    score = config.match_verb
    product = PRODUCTS.get(verb)
    if any(
        main_resource and (verb in main_verbs or product == main_resource) and main_resource in (resource, product)
        for main_verbs, main_resource in main or ()
    ):
        score += config.match_main
    if sub:
        score += config.match_subcommand if SUBCOMMAND_WORDS.get(sub, {sub}) & words else -config.match_subcommand
    if resources and resource:
        score += config.match_resource if resource in resources else -config.match_other_resource
    elif not resources:
        score += config.match_no_resource
    if product in resources and product != resource:
        score += config.match_product
    return max(score, config.match_floor)


def fuse(*rankings: tuple[dict[int, int], float], k: int) -> dict[int, float]:
    """Weighted reciprocal rank fusion: Σ w / (k + rank)."""
    fused: dict[int, float] = {}
    for ranks, weight in rankings:
        for i, r in ranks.items():
            fused[i] = fused.get(i, 0.0) + weight / (k + r + 1)
    return fused


def zscores(x: np.ndarray, over: np.ndarray) -> np.ndarray:
    """x standardised by the mean and spread of its values over the candidates `over`."""
    sample = x[over]
    spread = float(sample.std()) if len(sample) > 1 else 0.0
    return (x[over] - float(sample.mean())) / (spread or 1.0)


def top(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n best scores, best first."""
    n = min(n, len(scores))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    best = np.argpartition(-scores, n - 1)[:n]
    return best[np.argsort(-scores[best], kind="stable")]


def fuse_passages(lexical: np.ndarray, dense: np.ndarray, config: RankConfig) -> tuple[np.ndarray, np.ndarray]:
    """(candidates, fused scores): the best `pool` of each signal, each signal z-scored over the candidates
    and combined convexly (normalised score fusion; it beat rank fusion on both halves of the seed sets)."""
    chosen = np.zeros(len(dense), dtype=bool)  # (not np.union1d: it imports numpy.ma, 7 ms of a cold start)
    chosen[top(lexical, config.pool)] = True
    chosen[top(dense, config.pool)] = True
    candidates = np.flatnonzero(chosen)
    w = config.lexical_weight
    fused = w * zscores(lexical, candidates) + (1 - w) * zscores(dense, candidates)
    return candidates, fused


def crowd(
    ranked: list[tuple[int, float]],
    key: Callable[[int], Hashable],
    limit: int,
    window: int,
    depth: int = CONFIG.crowd_depth,
) -> list[tuple[int, float]]:
    """Crowding: among the first `window` results, at most `limit` with the same key (the same page, the same
    section) while others wait; the held ones follow, in order (of the first `depth` × `window`; the rest keep
    their place). One long page, or one section split in pieces, cannot fill every slot."""
    if not limit:
        return ranked
    head: list[tuple[int, float]] = []
    held: list[tuple[int, float]] = []
    count: dict[Hashable, int] = {}
    for item in ranked[: window * depth]:
        k = key(item[0])
        if len(head) < window and count.get(k, 0) < limit:
            head.append(item)
            count[k] = count.get(k, 0) + 1
        else:
            held.append(item)
    return head + held + ranked[window * depth :]


def aggregate_pages(candidates: np.ndarray, fused: np.ndarray, pages: np.ndarray, config: RankConfig) -> np.ndarray:
    """Page aggregation: each chunk gains `page_weight` × the scores (above the pool's floor) of the best
    `page_others` other chunks of its page among the best `pool`. A page that answers in several places
    outranks a page that mentions the words once; counting only a few keeps a long notes file from winning
    by its length alone. Chunks of one page keep their order among themselves."""
    if not config.page_weight or not len(candidates):
        return fused
    best = np.argsort(-fused, kind="stable")[: config.pool]
    floor = float(fused[best].min())
    page = pages[candidates]
    seen: dict[int, list[float]] = {}
    for i in best.tolist():  # best first: each page's list is in descending order
        seen.setdefault(int(page[i]), []).append(float(fused[i]) - floor)
    support = {p: sum(values[1 : 1 + config.page_others]) for p, values in seen.items()}
    bonus = np.array([support.get(int(p), 0.0) for p in page], dtype=np.float64)
    return fused + config.page_weight * bonus


@dataclass(frozen=True)
class SnippetPool:
    """The snippets considered for an answer and the evidence for each: ranks in each signal ({snippet: rank})."""

    sims: np.ndarray  # cosine of every snippet's descriptor to the question
    dense: dict[int, int]
    lexical: dict[int, int]
    bm25: np.ndarray  # BM25 of every snippet
    parent: dict[int, int]  # the rank of the passage each snippet sits in
    matches: dict[int, float]  # commands and manifests doing what the question asks: {snippet: action score}
    actions: dict[int, str]  # for those doing one of the asked actions: {snippet: verb}
    passages: list[tuple[int, float]]  # the ranked passages, best first

    @property
    def candidates(self) -> list[int]:
        return sorted(set(self.dense) | set(self.lexical) | set(self.parent) | set(self.matches))


def snippet_pool(
    reader: IndexReader, query: Query, qvec: np.ndarray, passages: list[tuple[int, float]], config: RankConfig
) -> SnippetPool:
    dense, sims = _dense(reader.snippet_vectors, qvec, config.snippet_pool)
    bm25 = reader.snippet_bm25.scores(query.text)
    matches, actions = command_matches(reader, query, sims, config.snippet_pool, config)
    passage_rank = {ci: r for r, (ci, _) in enumerate(passages[: config.snippet_pool])}
    parent = {}
    if passage_rank:
        for si in np.flatnonzero(np.isin(reader.snippet_chunk, list(passage_rank))):
            parent[int(si)] = passage_rank[int(reader.snippet_chunk[si])]
    lexical = _lexical_ranks(bm25, config.snippet_pool)
    return SnippetPool(sims, dense, lexical, bm25, parent, matches, actions, passages[: config.snippet_pool])


def fused_snippets(pool: SnippetPool, config: RankConfig) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of the snippet signals; doing exactly what was asked counts like topping one more
    list."""
    fused = fuse(
        (pool.dense, config.snippet_dense),
        (pool.lexical, config.snippet_lexical),
        (pool.parent, config.snippet_parent),
        ({si: r for r, si in enumerate(pool.matches)}, config.snippet_command),
        k=config.rrf_k,
    )
    for si, score in pool.matches.items():
        fused[si] = fused.get(si, 0.0) + config.command_match * (score / config.match_full) / (config.rrf_k + 1)
    return sorted(fused.items(), key=lambda kv: -kv[1])


@dataclass(frozen=True)
class Ranking:
    passages: list[tuple[int, float]]  # (chunk, score), best first
    snippets: list[tuple[int, float]]  # (snippet, score), best first
    relevant: bool  # whether the notes answer the question at all, or these are only the closest passages


def is_relevant(dense_sims: np.ndarray, config: RankConfig) -> bool:
    """The notes answer a question when their closest passage is close enough in meaning. How close is enough
    grows with the number of passages: the best of many unrelated passages is closer by chance alone (the
    maximum of n draws grows with log n), and a large corpus holds more text that is near any topic.
    Calibrated on the dev questions (in scope) against out-of-scope questions written for the purpose
    (cooking, other software, nonsense, emoji) on the bundled notes (58 passages: floor 0.27) and on the
    Kubernetes docs (12k passages: 0.42); the README gives the rates."""
    n = len(dense_sims)
    if not n:
        return False
    floor = config.relevant_floor + config.relevant_per_decade * math.log10(max(n, 10))
    return float(dense_sims.max()) >= floor


def rank(reader: IndexReader, query: Query, qvec: np.ndarray, config: RankConfig = CONFIG) -> Ranking:
    """Passages and snippets, each as (index, score), best first, and whether they answer at all: the passages
    (rank_passages), then the snippets of the answer (rank_snippets), which the passages' ranks feed."""
    return rank_snippets(reader, query, qvec, rank_passages(reader, query, qvec, config), config)


def rank_passages(reader: IndexReader, query: Query, qvec: np.ndarray, config: RankConfig = CONFIG) -> Ranking:
    """Passages only, as (index, score), best first, and whether they answer at all (no snippets: a comparison's
    sides want passages alone).

    BM25 (question-phrasing stopwords left out) and the dense cosine, z-score fused, plus the BM25 of each chunk's
    whole page (document-level evidence for passage retrieval, Callan 1994), then page aggregation."""
    dense_sims = np.asarray(reader.chunk_vectors @ qvec.astype(np.float32)) if reader.n_chunks else np.zeros(0)
    lexical = reader.chunk_bm25.scores(query.text)
    if reader.n_chunks:
        candidates, fused = fuse_passages(lexical, dense_sims, config)
        if config.page_lexical:
            page = reader.page_bm25(query.text)[reader.chunk_page]
            fused = fused + config.page_lexical * zscores(page, candidates)
        fused = fused - config.generated_penalty * reader.chunk_generated[candidates]
        fused = aggregate_pages(candidates, fused, reader.chunk_page, config)
        order = np.argsort(-fused, kind="stable")
        passages = [(int(candidates[i]), float(fused[i])) for i in order]
        window = config.crowd_window
        section = lambda ci: (int(reader.chunk_page[ci]), tuple(reader.headings(ci)))  # noqa: E731
        depth = config.crowd_depth
        passages = crowd(passages, section, config.crowd_per_section, window, depth)
        passages = crowd(passages, lambda ci: int(reader.chunk_page[ci]), config.crowd_per_page, window, depth)
    else:
        passages = []
    return Ranking(passages, [], is_relevant(dense_sims, config))


def rank_snippets(
    reader: IndexReader, query: Query, qvec: np.ndarray, ranking: Ranking, config: RankConfig = CONFIG
) -> Ranking:
    """The ranking with the snippets of the answer: they fuse the ranks of their own dense and BM25 scores (label,
    heading path, nearby prose, code), of the passage they sit in, and of the commands that do what the question
    asks."""
    passages, relevant = ranking.passages, ranking.relevant
    if not reader.n_snippets:
        return ranking
    pool = snippet_pool(reader, query, qvec, passages, config)
    if config.snippet_model:
        from assistant.rank.snippet_model import score

        snippets = score(pool, query, reader, config)
    else:
        snippets = fused_snippets(pool, config)
    snippet_sims, snippet_lexical, matches, actions = pool.sims, pool.lexical, pool.matches, pool.actions
    kept = relevant_snippets(snippets[: config.snippet_pool], snippet_sims, snippet_lexical, matches, config)
    if config.diversify:
        kept = diversify(kept, reader.snippet_langs, matches, query, actions, config)

    # Two kinds of evidence that the notes answer: a passage close in meaning, or, for a task on a named resource,
    # a command that does exactly the asked action on it ("read the secret db-creds": `kubectl get secret`).
    relevant = relevant or (config.match_evidence and any(s >= config.strong_match for s in matches.values()))
    kept = demote_unasked_destructive(kept, reader.snippet_features, query, drop=config.unasked_destructive == "drop")
    return Ranking(passages, kept, relevant)


def demote_unasked_destructive(
    ranked: list[tuple[int, float]], features: list[dict[str, Any]], query: Query, drop: bool = False
) -> list[tuple[int, float]]:
    """Destructive commands (data/destructive.json) the question does not ask for are not offered (`drop`), or
    move below every other snippet: "back up etcd" must not lead with a wipe. Their passages still show them."""
    from assistant.knowledge.destructive import asked_for, request_words

    words = request_words(query.text)
    unasked = [
        i for i, (si, _) in enumerate(ranked) if (d := features[si].get("destructive")) and not asked_for(d, words)
    ]
    if not unasked:
        return ranked
    moved = set(unasked)
    return [x for i, x in enumerate(ranked) if i not in moved] + ([] if drop else [ranked[i] for i in unasked])


def relevant_snippets(
    ranked: list[tuple[int, float]],
    sims: np.ndarray,
    lexical: dict[int, int],
    matches: dict[int, float],
    config: RankConfig = CONFIG,
) -> list[tuple[int, float]]:
    """Drop snippets that only ride on their passage: a command or manifest is offered when it is itself
    about the question (close in meaning; or sharing its words, or doing what it asks, and reasonably close)."""
    return [
        (si, score)
        for si, score in ranked
        if sims[si] >= config.min_sim
        or ((si in lexical or matches.get(si, 0) >= config.match_full) and sims[si] >= config.min_sim_lexical)
    ]


STRONG_MATCH = CONFIG.strong_match  # the default, for snippet_model's `strong` feature
MANIFEST_WORDS = word_set("manifest_words")  # besides the words that name YAML (Query.snippet_kind)


def diversify(
    ranked: list[tuple[int, float]],
    langs: list[str],
    matches: dict[int, float],
    query: Query,
    actions: dict[int, str] | None = None,
    config: RankConfig = CONFIG,
) -> list[tuple[int, float]]:
    """Keep a mix in the first `mix_window` answers when the question asks for an action that both a command
    and a manifest answer: at most 2 manifests (3 when it asks for YAML) while a matching command waits, and
    at most 3 commands while a matching manifest waits. And when it asks for several actions ("run it, check
    it, delete it"), a command for each verb before a second command for any. The rest move down, in order."""
    actions = actions or {}
    window = config.mix_window
    is_yaml = {si: langs[si] == "yaml" for si in matches}
    matching = {si for si in matches if matches[si] >= config.mix_matching}
    has_match = {kind: any(v == kind and si in matching for si, v in is_yaml.items()) for kind in (True, False)}
    if len(ranked) <= window or not has_match[False]:
        return ranked
    wants_yaml = query.snippet_kind == "yaml" or bool(MANIFEST_WORDS & set(query.words))
    manifests = config.mix_manifests_asked if wants_yaml else config.mix_manifests
    most = {True: manifests, False: config.mix_commands if has_match[True] else window}
    waiting = {actions[si] for si, _ in ranked if si in actions}
    if len(waiting) < 2:
        waiting = set()
    head: list[tuple[int, float]] = []
    held: list[tuple[int, float]] = []
    count = {True: 0, False: 0}
    for item in ranked:
        yaml_ = langs[item[0]] == "yaml"
        action = actions.get(item[0])
        repeat = action is not None and waiting and action not in waiting
        if count[yaml_] >= most[yaml_] or repeat:
            held.append(item)
            continue
        waiting.discard(action)  # type: ignore[arg-type]
        head.append(item)
        count[yaml_] += 1
        if len(head) == window:
            break
    rest = [item for item in ranked if item not in head and item not in held]
    strong = config.strong_match
    main = [item for item in held + rest if matches.get(item[0], 0) >= strong and not is_yaml[item[0]]]
    if main and not any(matches.get(si, 0) >= strong for si, _ in head):
        # The command doing the question's main request ("create the job") outranks a repeat of the others,
        # even when its own words are few (`kubectl create job my-job --image=busybox`).
        best = main[0]
        head.insert(min(config.mix_main_at, len(head)), best)
        return head + [item for item in held + rest if item is not best]
    return head + held + rest


MIN_CONTAINED = 40  # characters: a passage shorter than this is not taken for a copy of a larger one


def same_text(a: str, b: str) -> bool:
    """Whether two passages say the same: the same lines (indentation and blank lines aside), or the lines of the
    smaller, of some length, all within the larger in a row (a README quoting a section of a page)."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return len(short) >= MIN_CONTAINED and f"\n{short}\n" in f"\n{long}\n"


def text_key(text: str) -> str:
    """A passage's lines, stripped, blank lines left out: what same_text compares."""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


_COMPARED: weakref.WeakKeyDictionary[IndexReader, dict[int, tuple[str, int, str]]] = weakref.WeakKeyDictionary()


def compared(reader: IndexReader, i: int) -> tuple[str, int, str]:
    """Chunk i's (path, start line, text_key): what duplicate collapsing compares, kept once read for as long
    as the reader lives (a REPL asks about the same passages again and again; a generation never changes)."""
    seen = _COMPARED.setdefault(reader, {})
    if i not in seen:
        path, line, text = reader.text(i)
        seen[i] = (path, line, text_key(text))
    return seen[i]


def collapse_duplicates(
    reader: IndexReader, ranked: list[tuple[int, float]], n: int, lookahead: int = 50
) -> list[tuple[int, float, list[tuple[str, int]]]]:
    """The first n passages of a ranking with duplicates collapsed into the first of them, best first: a passage
    that holds the same text as a better one (byte-identical in another file, or contained in it, or containing
    it) is not shown again; its file:line joins the better one's `also_in`. Duplicates are looked for among the
    first `lookahead` candidates past those kept (copies of one text score alike), in ranking order, so the
    result is deterministic."""
    kept: list[tuple[int, float, list[tuple[str, int]]]] = []
    keys: list[str] = []
    for position, (ci, score) in enumerate(ranked):
        if len(kept) >= n and position >= n + lookahead:
            break
        path, line, key = compared(reader, ci)
        twin = next((j for j, other in enumerate(keys) if same_text(key, other)), None)
        if twin is not None:
            kept[twin][2].append((path, line))
        elif len(kept) < n:
            kept.append((ci, score, []))
            keys.append(key)
    return kept

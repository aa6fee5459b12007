"""What was retrieved → an Answer: the passages and snippets, and what helps act on them (key points, the
comparison's sides, outdated and destructive-command warnings, notices)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.answer.keypoints import key_points
from assistant.answer.types import Answer, Side, Warning_
from assistant.knowledge.words import word_map
from assistant.query.parse import Query

if TYPE_CHECKING:
    from assistant.rank.retrieve import Retrieved, SideHits
    from assistant.rank.search import Hit, SnippetHit


def compose_answer(question: str, query: Query, found: Retrieved, sides: list[SideHits], offset: int = 0) -> Answer:
    """`found`: what retrieval gave for `query` (the question as parsed, follow-ups rewritten); `sides`: each side
    of a comparison with its passages (empty unless the question compares and the notes answer it)."""
    passages, snippets, relevant = found.passages, found.snippets, found.relevant
    lead = "explanation" if query.intent == "concept" else "commands"
    if not relevant:
        snippets = []  # the notes do not answer: no view offers a command to run
    elif lead == "explanation":
        snippets = own_commands(snippets, passages)
    notice = None
    if query.focus and relevant and offset == 0:
        snippets, notice = focused(snippets, query)
    terms = tuple(side.term for side in sides)
    comparison = [compared(side, tuple(t for t in terms if t != side.term)) for side in sides]
    return Answer(
        question,
        passages,
        snippets,
        key_points=key_points(query, passages, offered=offered_lines(snippets)) if offset == 0 and relevant else [],
        comparison=comparison,
        warnings=outdated(snippets),
        rewritten=query.text if query.rewritten else None,
        relevant=relevant,
        lead=lead,
        notice=notice,
    )


def offered_lines(snippets: list[SnippetHit]) -> frozenset[str]:
    """Every line of the code an answer offers: a key point does not say again what a command shows."""
    return frozenset(line.strip() for s in snippets for line in s.snippet.code.splitlines() if line.strip())


def compared(side: SideHits, others: tuple[str, ...]) -> Side:
    """One side of a comparison: its key points (about it, not the others) and its passages."""
    points = key_points(side.query, side.passages, limit=3, side=side.term, others=others)
    return Side(side.term, points, side.passages)


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
    from assistant.knowledge.kubectl import fold

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
        from assistant.index.lexical import tokenize

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
    from assistant.knowledge import destructive
    from assistant.knowledge.deprecations import check

    warnings = []
    for s in snippets:
        for f in check(s.snippet.code, s.snippet.lang, label=s.snippet.label):
            warnings.append(Warning_(f.rule, f.message, f.replacement, f.since, f.source, s.rank))
        for rule in destructive.find(s.snippet.code, s.snippet.lang):
            warnings.append(Warning_(rule, destructive.message(rule), "", "", "", s.rank, kind="destructive"))
    return warnings

"""An answer: ranked passages and ranked snippets, plus what helps act on them (key points, comparison,
placeholders, outdated-command warnings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.rank.search import Hit, SnippetHit


@dataclass(frozen=True)
class Warning_:
    rule: str
    message: str
    replacement: str
    since: str
    source: str
    snippet: int  # rank of the snippet it concerns
    kind: str = "outdated"  # outdated | destructive

    @property
    def headline(self) -> str:
        """The message as shown: a destructive command says so first."""
        return f"destructive: {self.message}" if self.kind == "destructive" else self.message

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class KeyPoint:
    text: str
    passage: int  # rank of the passage it comes from


@dataclass(frozen=True)
class Side:
    term: str
    points: list[KeyPoint]
    passages: list[Hit]


@dataclass
class Answer:
    question: str
    passages: list[Hit]
    snippets: list[SnippetHit]
    key_points: list[KeyPoint] = field(default_factory=list)
    comparison: list[Side] = field(default_factory=list)
    warnings: list[Warning_] = field(default_factory=list)
    rewritten: str | None = None  # the question as searched, when a follow-up was rewritten
    relevant: bool = True  # False when the notes do not answer the question (the passages are only the closest)
    notice: str | None = (
        None  # an honest word on what the notes lack ("Your notes hold no YAML for Flannel or Calico.")
    )
    lead: str = "commands"  # what every view shows first: "commands" (how-to) or "explanation" (concepts)

    def to_json(self) -> dict[str, Any]:
        from assistant.answer.placeholders import find_placeholders

        data: dict[str, Any] = {
            "question": self.question,
            "relevant": self.relevant,
            "lead": self.lead,
            "passages": [_passage_json(h) for h in self.passages],
            "snippets": [
                {
                    "rank": s.rank,
                    "score": round(s.score, 6),
                    "lang": s.snippet.lang,
                    "code": s.snippet.code,
                    "label": s.snippet.label,
                    "path": s.snippet.path,
                    "start_line": s.snippet.start_line,
                    "end_line": s.snippet.end_line,
                    "headings": list(s.snippet.headings),
                    "kind": s.snippet.kind,
                    "placeholders": find_placeholders(s.snippet.code),
                    "passage": s.passage,
                    "destructive": [w.rule for w in self.warnings if w.kind == "destructive" and w.snippet == s.rank],
                }
                for s in self.snippets
            ],
            "key_points": [{"text": p.text, "passage": p.passage} for p in self.key_points],
            "warnings": [w.to_json() for w in self.warnings],
        }
        if self.comparison:
            data["comparison"] = {
                "sides": [
                    {
                        "term": side.term,
                        "points": [{"text": p.text, "passage": p.passage} for p in side.points],
                        "passages": [_passage_json(h) for h in side.passages],
                    }
                    for side in self.comparison
                ]
            }
        if self.rewritten:
            data["searched_as"] = self.rewritten
        if self.notice:
            data["notice"] = self.notice
        return data


def _passage_json(h: Hit) -> dict[str, Any]:
    return {
        "rank": h.rank,
        "score": round(h.score, 6),
        "path": h.chunk.path,
        "start_line": h.chunk.start_line,
        "end_line": h.chunk.end_line,
        "headings": list(h.chunk.headings),
        "text": h.chunk.text,
        "also_in": [{"path": path, "start_line": line} for path, line in h.also_in],  # the same text elsewhere
        "links": [{"target": target, "path": path or None} for target, path in h.links],  # its wikilinks
    }

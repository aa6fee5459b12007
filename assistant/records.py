"""Small typed values passed between the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Snippet:
    """A command group, a YAML document or an inline command, byte-exact from the notes."""

    code: str
    lang: str
    label: str
    path: str
    start_line: int
    end_line: int
    headings: tuple[str, ...]
    kind: str = "block"  # block | group | yaml-doc | inline | dockerfile
    context: str = ""  # nearby prose, used for ranking only

    def to_json(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every field, which dominated re-indexing a large corpus.
        return {
            "code": self.code, "lang": self.lang, "label": self.label, "path": self.path,
            "start_line": self.start_line, "end_line": self.end_line, "headings": list(self.headings),
            "kind": self.kind, "context": self.context,
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snippet:
        return cls(**{**data, "headings": tuple(data["headings"])})

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Snippet:
        """A snippet from its index record, which also holds its chunk's number and its text hash."""
        return cls.from_json({k: v for k, v in rec.items() if k not in ("chunk", "h")})


@dataclass(frozen=True)
class Chunk:
    """One heading section (or a piece of a long one) of a note file."""

    path: str
    start_line: int
    end_line: int
    headings: tuple[str, ...]
    text: str
    snippets: tuple[Snippet, ...] = field(default=())
    generated: bool = False  # from a generated reference page (auto_generated front matter)
    links: tuple[str, ...] = ()  # the notes its wikilinks point at (`[[Node Drain]]` → "Node Drain")

    @property
    def embed_text(self) -> str:
        """What the model sees: the heading path gives a section its topic."""
        head = " > ".join(self.headings)
        return f"{head}\n{self.text}" if head else self.text

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "headings": list(self.headings),
            "text": self.text,
            "snippets": [s.to_json() for s in self.snippets],
            "generated": self.generated,
            **({"links": list(self.links)} if self.links else {}),
        }

    @classmethod
    def from_record(cls, rec: dict[str, Any], snippets: tuple[Snippet, ...]) -> Chunk:
        """A chunk from its index record (which lists its snippets by number) and those snippets."""
        return cls(
            rec["path"], rec["start_line"], rec["end_line"], tuple(rec["headings"]), rec["text"], snippets,
            rec.get("generated", False), tuple(rec.get("links", ())),
        )  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chunk:
        return cls(
            path=data["path"],
            start_line=data["start_line"],
            end_line=data["end_line"],
            headings=tuple(data["headings"]),
            text=data["text"],
            snippets=tuple(Snippet.from_json(s) for s in data["snippets"]),
            generated=data.get("generated", False),
            links=tuple(data.get("links", ())),
        )

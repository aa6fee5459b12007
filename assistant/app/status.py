"""What `kt status`, the REPL's `:status` and MCP `index_status` report: the settings in force and the index."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.app.core import plural, stale_files
from assistant.config import Settings
from assistant.index.store import IndexError_, IndexMissing, IndexStore

if TYPE_CHECKING:
    from assistant.index.generation import Manifest


@dataclass(frozen=True)
class IndexStatus:
    notes: list[str]  # the notes folders (or files)
    index: str
    top_k: int
    color: str
    config: str | None  # the config.toml read (or looked for)
    sources: dict[str, str]  # where each setting came from: an option, the environment, config, default
    built: bool = False
    problem: str = ""  # why the index cannot be used as it is ("" when there is none yet)
    built_at: str | None = None
    model: str | None = None
    dim: int | None = None
    chunker: str | None = None
    files: int = 0  # every note file read, with passages or not
    without_passages: list[str] = field(default_factory=list)  # front matter only, empty…
    chunks: int = 0
    snippets: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # {note or folder: why}
    stale: dict[str, list[str]] = field(default_factory=dict)  # {added|changed|removed: [note]}

    @classmethod
    def of(
        cls, settings: Settings, manifest: Manifest | None = None, stale: dict[str, list[str]] | None = None
    ) -> IndexStatus:
        """The settings, and the index as its manifest describes it (none: not built); `stale` as
        core.stale_files gives it (notes whose only change is their stat are not stale)."""
        where = cls(
            notes=[str(f) for f in settings.notes],
            index=str(settings.index),
            top_k=settings.top_k,
            color=settings.color,
            config=str(settings.config_file) if settings.config_file else None,
            sources=settings.sources,
        )
        if manifest is None:
            return where
        return replace(
            where,
            built=True,
            built_at=manifest.built_at,
            model=manifest.model,
            dim=manifest.dim,
            chunker=manifest.chunker,
            files=manifest.counts.files,
            without_passages=manifest.without_passages,
            chunks=manifest.counts.chunks,
            snippets=manifest.counts.snippets,
            skipped=manifest.skipped,
            stale={kind: keys for kind, keys in (stale or {}).items() if kind != "touched"},
        )

    @classmethod
    def read(cls, settings: Settings, store: IndexStore) -> IndexStatus:
        """The status of the index in `store` for these settings; a damaged index is not built, and says why."""
        try:
            manifest = store.manifest(verify=True)  # what a question verifies: damage shows here too
        except IndexError_ as e:
            return replace(cls.of(settings), problem="" if isinstance(e, IndexMissing) else str(e))
        return cls.of(settings, manifest, stale_files(manifest, list(settings.notes)))

    def to_json(self) -> dict[str, Any]:
        """`kt status --json`: the settings, then `built`, then the index (or, not built, the problem)."""
        where = {k: getattr(self, k) for k in ("notes", "index", "top_k", "color", "config", "sources")}
        if not self.built:
            return {**where, "built": False, "problem": self.problem}
        index = ("built_at", "model", "dim", "chunker", "files", "without_passages", "chunks", "snippets")
        return {
            **where,
            "built": True,
            **{k: getattr(self, k) for k in index},
            "skipped": self.skipped,
            "stale": self.stale,
        }

    def lines(self) -> list[str]:
        """`kt status` and `:status`, a line each (file names come from the notes: print them sanitised)."""
        source = lambda key: self.sources.get(key, "default")  # noqa: E731
        used = "in use" if "config" in self.sources.values() else "found, not used"
        used = used if self.config and Path(self.config).is_file() else "no file"
        lines = [
            f"config:  {self.config} ({used})",
            f"notes:   {', '.join(self.notes)} ({source('notes')})",
            f"index:   {self.index} ({source('index')})",
            f"top-k:   {self.top_k} ({source('top_k')}); color: {self.color} ({source('color')})",
        ]
        if self.problem:
            return [*lines, f"problem: {self.problem}: `kt index` (or the next question) rebuilds it"]
        if not self.built:
            return [*lines, "no index yet: run `kt index` (or just ask: it is built on first use)"]
        lines += [
            f"model:   {self.model} ({self.dim} dims), chunker v{self.chunker}",
            f"built:   {self.built_at}",
            f"content: {files_count(self.files, self.without_passages)}, {self.chunks} chunks, "
            f"{self.snippets} snippets",
        ]
        lines += [f"skipped: {key}: {reason}" for key, reason in self.skipped.items()]
        stale = [f"stale:   {key} ({kind})" for kind, keys in self.stale.items() for key in keys]
        return lines + (stale or ["stale:   none, the index is up to date"])


def files_count(files: int, without_passages: list[str]) -> str:
    """How many note files the index holds: each one read counts, a note with no passage too (said so)."""
    empty = f" ({len(without_passages)} with no passage: front matter only or empty)" if without_passages else ""
    return f"{plural(files, 'file')}{empty}"

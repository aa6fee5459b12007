"""The pipeline's one-way rule (ARCHITECTURE.md): a module imports only from its own stage or earlier ones.

Every module of `assistant/` belongs to one stage; a new module must be placed here, and an import from a later
stage into an earlier one (at the top of a module or inside a function alike) fails the test.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"

STAGES: dict[str, tuple[str, ...]] = {  # in pipeline order
    "ingest": (  # notes → chunks and snippets, and the knowledge chunking uses
        "config", "words", "model", "notes", "markup", "snippets", "chunks", "texts", "commands", "deprecations",
        "destructive",
    ),
    "index": ("embed", "vectors", "lexical", "generation", "store", "build", "indexes"),  # chunks → the index and back
    "query": ("compare", "followup", "query"),  # a question → a parsed Query
    "rank": ("search", "snippet_model", "retrieve"),  # Query + index → ranked passages and snippets
    "answer": ("answer", "placeholders", "prose", "keypoints", "excerpt", "compose"),  # hits → an Answer
    "views": ("render", "plain", "sources", "mcp_views"),  # an Answer → the terminal, plain text, Markdown
    "app": (  # the Assistant API and what runs on it
        "lookup", "core", "status", "evaluate", "watch", "mcp_freshness", "mcp_tools", "mcp_server", "repl", "cli",
        "__init__", "__main__",
    ),
}  # fmt: skip


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "assistant":
            parts = node.module.split(".")
            found.update([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("assistant."))
    return found - {"__version__"}


def test_every_module_has_a_stage() -> None:
    placed = [m for modules in STAGES.values() for m in modules]
    assert len(placed) == len(set(placed))
    assert sorted(p.stem for p in PACKAGE.glob("*.py")) == sorted(placed)


def test_imports_run_one_way() -> None:
    order = {m: n for n, modules in enumerate(STAGES.values()) for m in modules}
    stage = {m: name for name, modules in STAGES.items() for m in modules}
    backwards = [
        f"{path.stem} ({stage[path.stem]}) imports {dep} ({stage[dep]})"
        for path in sorted(PACKAGE.glob("*.py"))
        for dep in sorted(imports_of(path))
        if order[dep] > order[path.stem]
    ]
    assert backwards == []


def test_a_backward_import_is_caught(tmp_path: Path) -> None:
    module = tmp_path / "chunks.py"
    module.write_text("def f():\n    from assistant.search import rank\n")
    assert imports_of(module) == {"search"}

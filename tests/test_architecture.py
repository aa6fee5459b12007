"""The pipeline's one-way rule (ARCHITECTURE.md): `assistant/` holds one package per stage, and a module imports
only from its own stage or earlier ones.

The folder tree is the map: `assistant/<stage>/<module>.py`. The two records every stage shares (`config`,
`records`) sit at the top as the base; `__init__` (the Python API) and `__main__` are entry points like the app.
An import from a later stage into an earlier one (at the top of a module or inside a function alike) fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "assistant"

STAGES = ("base", "knowledge", "ingest", "index", "query", "rank", "answer", "views", "app")  # pipeline order
BASE = ("config", "records")
ENTRY = ("__init__", "__main__")


def stage_of_path(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    if len(parts) == 1:
        return "base" if path.stem in BASE else "app" if path.stem in ENTRY else "?"
    return parts[0] if len(parts) == 2 and parts[0] in STAGES else "?"


def stage_of_name(dotted: str) -> str:
    """The stage of `assistant.X…`: a package's name, a base module, or the top package's own API (app)."""
    parts = dotted.split(".")
    if len(parts) == 1:
        return "app"
    return parts[1] if parts[1] in STAGES else "base" if parts[1] in BASE else "app"


def imports_of(path: Path) -> set[str]:
    """The stages a module imports from."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "assistant":
            if node.module == "assistant":
                found.update(stage_of_name(f"assistant.{a.name}") for a in node.names if a.name != "__version__")
            else:
                found.add(stage_of_name(node.module))
        elif isinstance(node, ast.Import):
            found.update(stage_of_name(a.name) for a in node.names if a.name.startswith("assistant."))
    return found


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_sits_in_a_stage() -> None:
    assert [str(p.relative_to(PACKAGE)) for p in modules() if stage_of_path(p) == "?"] == []
    for stage in STAGES[1:]:
        init = PACKAGE / stage / "__init__.py"
        assert init.exists() and ast.get_docstring(ast.parse(init.read_text())), f"{stage}/ says what it does"


def test_imports_run_one_way() -> None:
    order = {s: n for n, s in enumerate(STAGES)}
    backwards = [
        f"{path.relative_to(PACKAGE)} ({stage_of_path(path)}) imports from {dep}"
        for path in modules()
        for dep in sorted(imports_of(path))
        if order[dep] > order[stage_of_path(path)]
    ]
    assert backwards == []


def test_a_backward_import_is_caught(tmp_path: Path) -> None:
    module = tmp_path / "chunks.py"
    module.write_text("def f():\n    from assistant.rank.search import rank\n    from assistant import views\n")
    assert imports_of(module) == {"rank", "views"}

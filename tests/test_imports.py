"""The query path must never load torch: `import assistant.app.cli` (and a whole `kt ask`) stay light."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "sentence_transformers", "transformers")


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {m for m in out if m.split(".")[0] in HEAVY}


def test_cli_import_loads_no_model_libraries() -> None:
    assert _loaded_after("import assistant.app.cli") == set()


def test_query_modules_load_no_model_libraries() -> None:
    code = (
        "import assistant.app.core, assistant.rank.search, assistant.answer.compose, assistant.index.embed,"
        " assistant.app.repl"
    )
    assert _loaded_after(code) == set()


def test_asking_loads_no_model_libraries(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    settings = seed_assistant.settings
    code = (
        "from assistant.app.core import Assistant\nfrom assistant.config import Settings\nfrom pathlib import Path\n"
        f"a = Assistant(Settings((Path({str(settings.notes[0])!r}),), Path({str(settings.index)!r})))\n"
        "a.refresh()\nassert a.ask('undo the last rollout of my nginx deployment').snippets"
    )
    assert _loaded_after(code) == set()


def test_the_package_names_its_api_and_stays_light() -> None:
    import assistant

    assert set(assistant.__all__) == {"Answer", "Assistant", "Settings", "resolve"}
    assert _loaded_after("import assistant") == set()
    light = subprocess.run(
        [sys.executable, "-c", "import assistant, sys; print('assistant.app.core' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert light == "False"  # the names load on first use


def test_the_readme_python_example_runs(tmp_path: Path, kt_home: Path, onnx_model: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    example = readme.split("### Python API", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ops.md").write_text(
        "# Ops\n\n## Roll back\n\nUndo the last rollout:\n\n```bash\nkubectl rollout undo deployment/web\n```\n"
    )
    env = {**os.environ, "KT_HOME": str(kt_home)}  # the session's ONNX export, an index of its own
    out = subprocess.run(
        [sys.executable, "-c", example.replace("~/notes", str(notes))],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=600,
    ).stdout
    assert "ops.md:" in out and "kubectl rollout undo deployment/web" in out
    assert out.strip().splitlines()[-1].startswith("True")

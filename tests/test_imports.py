"""The query path must never load torch: `import assistant.cli` (and a whole `kt ask`) stay light."""

from __future__ import annotations

import subprocess
import sys

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
    assert _loaded_after("import assistant.cli") == set()


def test_query_modules_load_no_model_libraries() -> None:
    code = "import assistant.core, assistant.search, assistant.compose, assistant.embed, assistant.repl"
    assert _loaded_after(code) == set()


def test_asking_loads_no_model_libraries(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    settings = seed_assistant.settings
    code = (
        "from assistant.core import Assistant\nfrom assistant.config import Settings\nfrom pathlib import Path\n"
        f"a = Assistant(Settings((Path({str(settings.notes[0])!r}),), Path({str(settings.index)!r})))\n"
        "a.refresh()\nassert a.ask('undo the last rollout of my nginx deployment').snippets"
    )
    assert _loaded_after(code) == set()

"""Kubernetes Therapy: a local assistant that answers Kubernetes questions from your own notes.

The Python API (what `kt` itself runs on):

    from assistant import Assistant, resolve

    kt = Assistant(resolve(["~/notes"]))  # settings as kt reads them: these options, env, config.toml
    answer = kt.ask("undo the last rollout of the web deployment")  # the index is built or updated first when needed

The names load on first use, so `import assistant` stays light (the CLI starts from it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Answer", "Assistant", "Settings", "resolve"]

if TYPE_CHECKING:
    from assistant.answer.types import Answer
    from assistant.app.core import Assistant
    from assistant.config import Settings, resolve

_HOMES = {
    "Answer": "assistant.answer.types",
    "Assistant": "assistant.app.core",
    "Settings": "assistant.config",
    "resolve": "assistant.config",
}


def __getattr__(name: str) -> Any:  # PEP 562: the API's names load when first used
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")

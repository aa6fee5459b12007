"""Outdated commands and APIs in snippets. The rules are data (data/deprecations.json): each has a regex,
what it applies to (shell commands or YAML documents), the modern replacement, the Kubernetes version and a
source.

Shell rules see one kubectl command at a time: the `$ ` prompt, `sudo`/`watch` prefixes (kubectl.PREFIX), trailing
`# comments` and `<- annotations` are stripped, `\\` continuations are joined, `&&`/`;`/`|` split commands,
and a leading `k` alias reads as `kubectl`. YAML rules see the top-level `apiVersion:` lines of each document,
optionally only for some kinds.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from assistant.knowledge.kubectl import PREFIX

RULES_FILE = Path(__file__).parents[1] / "data" / "deprecations.json"
_LANGS = {"shell": "shell", "bash": "shell", "sh": "shell", "console": "shell", "zsh": "shell",
          "yaml": "yaml", "yml": "yaml"}  # fmt: skip
_PROMPT = re.compile(r"^\s*\$\s+")
_ANNOTATION = re.compile(r"\s+(?:<-|#).*$")
_SEPARATOR = re.compile(r"\s*(?:&&|\|\||;|\|)\s*")
_KUBECTL = re.compile(r"^(?:kubectl|k)(?=\s|$)")
_DOC_BREAK = re.compile(r"^---\s*(?:#.*)?$")
_KIND = re.compile(r"""^kind:\s*["']?([\w.-]+)""")


@dataclass(frozen=True)
class Rule:
    id: str
    pattern: re.Pattern[str]
    applies_to: str  # shell | yaml
    message: str
    replacement: str
    since: str  # Kubernetes version that deprecated or removed it
    source: str  # URL, or a path in the k8s-docs corpus
    kinds: tuple[str, ...] = ()  # yaml: only documents of these kinds (empty: any kind)
    requires: re.Pattern[str] | None = None  # shell: the snippet's label or code must also match this

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Rule:
        pattern = data["pattern"]
        text = "".join(pattern) if isinstance(pattern, list) else str(pattern)  # long patterns come in parts
        requires = data.get("requires")
        return cls(
            id=str(data["id"]),
            pattern=re.compile(text),
            applies_to=str(data["applies_to"]),
            message=str(data["message"]),
            replacement=str(data["replacement"]),
            since=str(data["since"]),
            source=str(data["source"]),
            kinds=tuple(data.get("kinds", ())),  # type: ignore[arg-type]
            requires=re.compile(str(requires)) if requires else None,
        )


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    replacement: str
    since: str
    source: str
    line: int  # 1-based, within the snippet's code


@cache
def load_rules() -> list[Rule]:
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    return [Rule.from_json(item) for item in data]


def check(code: str, lang: str, label: str = "") -> list[Finding]:
    """Findings for one snippet, in line order. Languages other than shell and YAML are not checked."""
    kind = _LANGS.get(lang.lower(), "")
    rules = [r for r in load_rules() if r.applies_to == kind]
    if not rules:
        return []
    if kind == "shell":
        rules = [r for r in rules if not r.requires or r.requires.search(label) or r.requires.search(code)]
        lines = _kubectl_commands(code)
    else:
        lines = _yaml_api_lines(code)
    return [
        Finding(r.id, r.message, r.replacement, r.since, r.source, n)
        for n, text, doc_kind in lines
        for r in rules
        if r.pattern.search(text) and (not r.kinds or doc_kind in r.kinds)
    ]


def _kubectl_commands(code: str) -> list[tuple[int, str, str]]:
    """(line, command, "") per kubectl command, read as `kubectl …` without prompt and annotations."""
    return [(n, _KUBECTL.sub("kubectl", part, count=1), "") for n, part in shell_commands(code) if _KUBECTL.match(part)]


def shell_commands(code: str) -> list[tuple[int, str]]:
    """(line, command) per command of a shell snippet: `$ ` prompt, sudo/time/watch… prefixes and trailing
    annotations stripped, `\\` continuations joined, `&&`/`;`/`|` split."""
    out: list[tuple[int, str]] = []
    lines = code.splitlines()
    i = 0
    while i < len(lines):
        first, text = i + 1, lines[i]
        while text.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text.rstrip()[:-1] + " " + lines[i].strip()
        i += 1
        text = _ANNOTATION.sub("", _mask(_PROMPT.sub("", text))).strip()
        for part in _SEPARATOR.split(text):
            part = PREFIX.sub("", part.strip())
            if part:
                out.append((first, part))
    return out


def _mask(text: str) -> str:
    """Blank whitespace and separators inside quotes and $(…): a quoted argument stays one word."""
    out, quote, depth = [], "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif text.startswith("$(", i):
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        out.append("_" if (quote or depth) and (ch.isspace() or ch in "|;&#") else ch)
    return "".join(out)


def _yaml_api_lines(code: str) -> list[tuple[int, str, str]]:
    """(line, text, kind of its document) for every top-level line of every YAML document."""
    out: list[tuple[int, str, str]] = []
    doc: list[tuple[int, str]] = []

    def flush() -> None:
        kind = next((m.group(1) for _, t in doc if (m := _KIND.match(t))), "")
        out.extend((n, t, kind) for n, t in doc if t.startswith("apiVersion"))
        doc.clear()

    for n, text in enumerate(code.splitlines(), start=1):
        if _DOC_BREAK.match(text):
            flush()
        else:
            doc.append((n, text.rstrip()))
    flush()
    return out

"""`kt eval`: score a question set, in one of the formats of the README's "Question sets" table.

- seed format (`evidence`, optional `command`): hit@1, hit@3, MRR@10, command-hit@3.
- docs format (`paths`): page-hit@1, page-hit@3, MRR@10 (a passage is relevant when its file is one of the pages).
- CKAD format (`reference_commands`, `reference_kinds`): cmd-hit@5, first-ref cmd-hit@5, kind-hit@5.
- screen format (`want`, `avoid`): want@1, want@3 (over questions with a `want`), noise@3 (over all questions):
  what the first screen's commands are worth.

With halves, each set is also scored in two halves split by md5(id) % 2: choose settings on one, read the other.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.knowledge.kubectl import kubectl_commands, signature

if TYPE_CHECKING:
    from assistant.answer.types import Answer
    from assistant.app.core import Assistant

MAX_SHELL_LINES = 12


def is_focused(snippet: dict[str, Any]) -> bool:
    if snippet["lang"] != "shell":
        return True
    return sum(1 for line in snippet["code"].splitlines() if line.strip()) <= MAX_SHELL_LINES


def score_seed(item: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    evidence = item["evidence"]
    rank = next((p["rank"] for p in answer["passages"][:10] if any(e in p["text"] for e in evidence)), None)
    result = {
        "hit@1": rank == 1,
        "hit@3": rank is not None and rank <= 3,
        "rr@10": 1.0 / rank if rank else 0.0,
    }
    if item.get("command"):
        result["command-hit@3"] = any(item["command"] in s["code"] and is_focused(s) for s in answer["snippets"][:3])
    return result


def score_docs(item: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    pages = item["paths"]
    rank = next((p["rank"] for p in answer["passages"][:10] if any(p["path"].endswith(x) for x in pages)), None)
    return {
        "page-hit@1": rank == 1,
        "page-hit@3": rank is not None and rank <= 3,
        "rr@10": 1.0 / rank if rank else 0.0,
    }


def half_of(item: dict[str, Any]) -> int:
    """Which half of a set a question falls in: md5 of its id, mod 2 (stable across runs and machines)."""
    key = item["id"] if "id" in item else item["question"]
    return int(hashlib.md5(str(key).encode()).hexdigest(), 16) % 2


def score_screen(item: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """The first screen's commands: does one of the first 3 snippets hold a wanted string (the first one,
    for want@1), and does any of them hold a string to avoid (a destructive, wrong or fragment command)."""
    codes = [s["code"] for s in answer["snippets"][:3]]
    holds = lambda code, strings: any(x in code for x in strings)  # noqa: E731
    result: dict[str, Any] = {}
    if item.get("want"):
        result["want@1"] = bool(codes) and holds(codes[0], item["want"])
        result["want@3"] = any(holds(c, item["want"]) for c in codes)
    result["noise@3"] = any(holds(c, item.get("avoid", [])) for c in codes)
    return result


FORMATS = {"evidence": "seed", "paths": "docs", "reference_commands": "ckad", "want": "screen"}
SCORERS = {"seed": score_seed, "docs": score_docs, "screen": score_screen}
NOISE_KEYS = ("noise@3",)  # lower is better: a question misses when it is true


def failed(result: dict[str, Any]) -> list[str]:
    """The metrics a question failed: every yes/no metric that counts against the set's score (a hit@1 miss
    found at rank 2 is a miss too, so the misses account for every point the table lost)."""
    return [k for k, v in result.items() if isinstance(v, bool) and v == (k in NOISE_KEYS)]


def score_ckad(item: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    commands = [c for s in answer["snippets"][:5] for c in kubectl_commands(s["code"])][:10]
    found = {signature(c) for c in commands} - {None}
    refs = [signature(c) for c in item["reference_commands"]]
    result: dict[str, Any] = {
        "cmd-hit@5": any(r in found for r in refs if r),
        "first-ref cmd-hit@5": bool(refs and refs[0] and refs[0] in found),
    }
    if item.get("reference_kinds"):
        kinds = item["reference_kinds"]
        result["kind-hit@5"] = any(
            s["lang"] == "yaml" and any(re.search(rf"^kind:\s*{re.escape(k)}\s*$", s["code"], re.M) for k in kinds)
            for s in answer["snippets"][:5]
        )
    return result


def evaluate(assistant: Assistant, path: Path, halves: bool = False) -> dict[str, Any]:
    items = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}:{n}: not JSON ({e.msg})") from None
    if not items:
        raise ValueError(f"{path}: no questions")
    fmt = next((f for key, f in FORMATS.items() if key in items[0]), None)
    if fmt is None:
        raise ValueError(
            f"{path}: not a known format (seed: evidence, docs: paths, CKAD: reference_commands, screen: want)"
        )
    score = SCORERS.get(fmt, score_ckad)
    assistant.refresh()
    results: list[tuple[int, dict[str, Any]]] = []
    misses = []
    per_item = []
    for item in items:
        answer: Answer = assistant.ask(item["question"], k=5 if fmt in ("ckad", "screen") else 10)
        data = answer.to_json()
        result = score(item, data)
        results.append((half_of(item), result))
        per_item.append({"id": item.get("id", item["question"]), "half": half_of(item), **result})
        if lost := failed(result):
            misses.append({
                "id": item.get("id"), "question": item["question"], "failed": lost,
                "top_passages": [f"{p['path']}:{p['start_line']}" for p in data["passages"][:3]],
                "top_snippets": [s["code"].splitlines()[0][:70] if s["code"] else "" for s in data["snippets"][:3]],
            })  # fmt: skip
    metrics, counts = _averages([r for _, r in results])
    report = {
        "file": str(path),
        "format": fmt,
        "questions": len(items),
        "metrics": metrics,
        "counted": counts,
        "misses": misses,
        "items": per_item,
    }
    if halves:
        report["halves"] = [
            {"half": h, "questions": sum(1 for x, _ in results if x == h),
             "metrics": _averages([r for x, r in results if x == h])[0]}
            for h in (0, 1)
        ]  # fmt: skip
    return report


def _averages(results: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, int]]:
    totals: dict[str, list[float]] = {}
    for result in results:
        for key, value in result.items():
            totals.setdefault(key.replace("rr@10", "MRR@10"), []).append(float(value))
    return {k: round(sum(v) / len(v), 3) for k, v in totals.items()}, {k: len(v) for k, v in totals.items()}


def render_report(report: dict[str, Any], console: Any) -> None:
    from rich.table import Table
    from rich.text import Text

    # The title on a line of its own: as a table title it would wrap, mid-path, at the narrow table's width.
    title = f"{report['file']} ({report['format']} format, {report['questions']} questions)"
    console.print(Text(title, style="italic"), soft_wrap=True)
    table = Table()
    halves = report.get("halves", [])
    table.add_column("metric")
    table.add_column("value", justify="right")
    for h in halves:
        table.add_column(f"half {h['half']} ({h['questions']})", justify="right")
    table.add_column("questions", justify="right")
    for key, value in report["metrics"].items():
        by_half = [f"{h['metrics'][key]:.3f}" if key in h["metrics"] else "–" for h in halves]
        table.add_row(key, f"{value:.3f}", *by_half, str(report["counted"][key]))
    console.print(table)
    if report["misses"]:
        misses = Table(title="misses")
        for col in ("id", "question", "failed", "top snippets"):
            misses.add_column(col, overflow="fold")
        for m in report["misses"]:
            misses.add_row(str(m["id"]), m["question"], ", ".join(m["failed"]), "\n".join(m["top_snippets"]))
        console.print(misses)

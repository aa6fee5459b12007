"""`kt eval`: score a question set, in either format described in ../shared/eval/README.md.

- seed format (`evidence`, optional `command`): hit@1, hit@3, MRR@10, command-hit@3.
- CKAD format (`reference_commands`, `reference_kinds`): cmd-hit@5, first-ref cmd-hit@5, kind-hit@5.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.commands import kubectl_commands, signature

if TYPE_CHECKING:
    from assistant.answer import Answer
    from assistant.core import Assistant

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


def evaluate(assistant: Assistant, path: Path) -> dict[str, Any]:
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
    seed = "evidence" in items[0]
    if not seed and "reference_commands" not in items[0]:
        raise ValueError(f"{path}: neither the seed format (evidence) nor the CKAD format (reference_commands)")
    assistant.refresh()
    totals: dict[str, list[float]] = {}
    misses = []
    for item in items:
        answer: Answer = assistant.ask(item["question"], k=10 if seed else 5)
        data = answer.to_json()
        result = score_seed(item, data) if seed else score_ckad(item, data)
        for key, value in result.items():
            totals.setdefault(key, []).append(float(value))
        failed = [k for k, v in result.items() if k in ("hit@3", "command-hit@3", "cmd-hit@5", "kind-hit@5") and not v]
        if failed:
            misses.append({
                "id": item.get("id"), "question": item["question"], "failed": failed,
                "top_passages": [f"{p['path']}:{p['start_line']}" for p in data["passages"][:3]],
                "top_snippets": [s["code"].splitlines()[0][:70] if s["code"] else "" for s in data["snippets"][:3]],
            })  # fmt: skip
    metrics = {k.replace("rr@10", "MRR@10"): round(sum(v) / len(v), 3) for k, v in totals.items()}
    counts = {k.replace("rr@10", "MRR@10"): len(v) for k, v in totals.items()}
    return {
        "file": str(path),
        "format": "seed" if seed else "ckad",
        "questions": len(items),
        "metrics": metrics,
        "counted": counts,
        "misses": misses,
    }


def render_report(report: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    table = Table(title=f"{report['file']} ({report['format']} format, {report['questions']} questions)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("questions", justify="right")
    for key, value in report["metrics"].items():
        table.add_row(key, f"{value:.3f}", str(report["counted"][key]))
    console.print(table)
    if report["misses"]:
        misses = Table(title="misses")
        for col in ("id", "question", "failed", "top snippets"):
            misses.add_column(col, overflow="fold")
        for m in report["misses"]:
            misses.add_row(str(m["id"]), m["question"], ", ".join(m["failed"]), "\n".join(m["top_snippets"]))
        console.print(misses)

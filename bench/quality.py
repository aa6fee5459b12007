"""Answer quality on the dev sets, both halves of each, and the `relevant` flag's rates.

    .venv/bin/python bench/quality.py            # bundled notes and the Kubernetes docs (builds their index once)
    .venv/bin/python bench/quality.py --seed     # bundled notes only (seconds)

Each set is also scored in halves split by md5(id) % 2 (`kt eval --halves`): a change that moves one half
alone is a fit, not a gain. The `relevant` rates: in scope = the dev questions over their own corpus, out of
scope = tests/data/out_of_scope.txt (cooking, other software, nonsense, emoji) over the same corpus, near misses
= tests/data/near_miss.txt (other software asked in an operator's words, the hard negatives).
bench/fresh_docs.jsonl: 18 operator questions about the Kubernetes docs written for kt and never tuned on.
First, bench/styles.py: notes of each style (tests/data/vaults: an Obsidian vault, a repo of runbooks; and the
bundled notes): passages shown empty or copies, snippets that are output or prose, notes without a title.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.app.core import Assistant  # noqa: E402
from assistant.app.evaluate import evaluate  # noqa: E402
from assistant.config import BUNDLED_NOTES, resolve  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
CORPORA = ROOT.parent / "shared" / "corpora"
OUT_OF_SCOPE = ROOT / "tests" / "data" / "out_of_scope.txt"
NEAR_MISS = ROOT / "tests" / "data" / "near_miss.txt"  # other software in an operator's words: the hard negatives


# Floors the issues set for a dev set (moved here from the unit tests: a score on a dev set is a figure, not a
# behaviour). A figure below its floor is marked ✗ in the table.
FLOORS = {"seed_dev": {"hit@1": 0.9, "hit@3": 1.0, "command-hit@3": 1.0, "MRR@10": 0.85}}


def set_path(name: str) -> Path:
    return ROOT / name if name.endswith(".jsonl") else EVAL / f"{name}.jsonl"


def questions(path: Path) -> list[str]:
    if path.suffix == ".jsonl":
        return [json.loads(line)["question"] for line in path.read_text().splitlines() if line.strip()]
    return [q.strip() for q in path.read_text().splitlines() if q.strip() and not q.startswith("#")]


def relevant_rate(assistant: Assistant, qs: list[str]) -> float:
    return sum(assistant.ask(q).relevant for q in qs) / len(qs)


def report(name: str, assistant: Assistant, sets: list[str]) -> None:
    print(f"\n## {name}")
    print("| set | all | half 0 | half 1 |\n|---|---|---|---|")
    for s in sets:
        r = evaluate(assistant, set_path(s), halves=True)
        keys = list(r["metrics"])

        def fmt(m: dict[str, float], keys: list[str] = keys) -> str:
            return " / ".join(f"{m[k]:.2f}" if k in m else "–" for k in keys)

        h0, h1 = r["halves"]
        below = [f"{k} {r['metrics'][k]:.2f} < {v}" for k, v in FLOORS.get(s, {}).items() if r["metrics"].get(k, v) < v]
        print(
            f"| {s} ({' / '.join(keys)}) | {fmt(r['metrics'])} | {fmt(h0['metrics'])} ({h0['questions']}) "
            f"| {fmt(h1['metrics'])} ({h1['questions']}) |"
            + (f" ✗ below the floor: {', '.join(below)}" if below else "")
        )
    inside = [q for s in sets for q in questions(set_path(s))]
    outside, near = questions(OUT_OF_SCOPE), questions(NEAR_MISS)
    print(
        f"| relevant | in scope: {relevant_rate(assistant, inside):.0%} true of {len(inside)} "
        f"| out of scope: {1 - relevant_rate(assistant, outside):.0%} false of {len(outside)} "
        f"| near misses: {1 - relevant_rate(assistant, near):.0%} false of {len(near)} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", action="store_true", help="the bundled notes only")
    args = ap.parse_args()
    quiet = lambda message: None  # noqa: E731
    import styles  # bench/styles.py, beside this file

    styles.main()
    report(
        "bundled notes",
        Assistant(resolve([BUNDLED_NOTES]), notice=quiet),
        ["seed_dev", "seed_paraphrase_dev", "screen_seed_dev"],
    )
    if not args.seed:
        k8s = Assistant(resolve([CORPORA / "k8s-docs", CORPORA / "k8s-examples"]), notice=print)
        report("Kubernetes docs + examples", k8s, ["docs_dev", "ckad_dev", "screen_docs_dev", "bench/fresh_docs.jsonl"])


if __name__ == "__main__":
    main()

"""Per-question results of the dev sets, saved and compared: which questions a change wins and loses, by half.

    .venv/bin/python bench/study.py NAME                 # score every set, save $TMPDIR/kt-study/NAME.json
    .venv/bin/python bench/study.py NAME --against BASE  # …and print wins / losses against BASE, by half
    .venv/bin/python bench/study.py NAME --seed          # the bundled notes only
    .venv/bin/python bench/study.py NAME --set gate=task # a RankConfig variant (repeatable)

Halves are md5(id) % 2 (see `kt eval --halves`): choose on one, read the other; a change must help both.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from quality import CORPORA, set_path  # noqa: E402

from assistant.app.core import Assistant  # noqa: E402
from assistant.app.evaluate import NOISE_KEYS, evaluate  # noqa: E402
from assistant.config import BUNDLED_NOTES, resolve  # noqa: E402
from assistant.rank.search import CONFIG  # noqa: E402

OUT = Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "kt-study"
SEED_SETS = ["seed_dev", "seed_paraphrase_dev", "screen_seed_dev"]
K8S_SETS = ["docs_dev", "ckad_dev", "screen_docs_dev", "bench/fresh_docs.jsonl"]


def run(seed_only: bool, overrides: dict[str, Any]) -> dict[str, list[dict]]:
    quiet = lambda message: None  # noqa: E731
    found = {}
    groups = [(resolve([BUNDLED_NOTES]), SEED_SETS)]
    if not seed_only:
        groups.append((resolve([CORPORA / "k8s-docs", CORPORA / "k8s-examples"]), K8S_SETS))
    for settings, sets in groups:
        assistant = Assistant(settings, notice=quiet)
        assistant.rank_config = replace(CONFIG, **overrides)
        for s in sets:
            found[s] = evaluate(assistant, set_path(s))["items"]
    return found


def compare(now: dict[str, list[dict]], base: dict[str, list[dict]]) -> None:
    for name, items in now.items():
        before = {i["id"]: i for i in base.get(name, [])}
        keys = list(dict.fromkeys(k for i in items for k in i if k not in ("id", "half")))
        print(f"\n{name}")
        for key in keys:
            cells = []
            for half in (0, 1, None):
                mine = [i for i in items if key in i and (half is None or i["half"] == half)]
                if not mine:
                    continue
                value = sum(float(i[key]) for i in mine) / len(mine)
                old = [before[i["id"]][key] for i in mine if i["id"] in before and key in before[i["id"]]]
                old_value = sum(map(float, old)) / len(old) if old else float("nan")
                sign = -1 if key in NOISE_KEYS else 1
                wins = sum(sign * (float(i[key]) - float(before[i["id"]][key])) > 0 for i in mine if i["id"] in before)
                losses = sum(
                    sign * (float(i[key]) - float(before[i["id"]][key])) < 0 for i in mine if i["id"] in before
                )
                where = "all" if half is None else f"h{half}"
                cells.append(f"{where} {old_value:.2f}→{value:.2f} +{wins}/-{losses}")
            print(f"  {key:22} " + " | ".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name")
    ap.add_argument("--against")
    ap.add_argument("--seed", action="store_true", help="the bundled notes only")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a RankConfig field")
    args = ap.parse_args()
    overrides: dict[str, Any] = {}
    for pair in args.set:
        key, value = pair.split("=", 1)
        kind = type(getattr(CONFIG, key))
        overrides[key] = kind(value)
    OUT.mkdir(parents=True, exist_ok=True)
    found = run(args.seed, overrides)
    (OUT / f"{args.name}.json").write_text(json.dumps(found, indent=1))
    if args.against:
        compare(found, json.loads((OUT / f"{args.against}.json").read_text()))


def misses(name: str, set_name: str, key: str) -> list[str]:
    """Ids of one saved run's questions that miss on `key` (for reading, not tuning)."""
    items = json.loads((OUT / f"{name}.json").read_text())[set_name]
    sign = key in NOISE_KEYS
    return [i["id"] for i in items if key in i and bool(i[key]) == sign]


if __name__ == "__main__":
    main()

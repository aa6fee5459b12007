"""Why a command set's question gets the wrong command first: the learned model's first snippet against the best
right candidate, and which features (snippet_model.FEATURES × their weights) put one above the other.

    .venv/bin/python bench/misses.py screen_docs_dev     # or screen_seed_dev, ckad_dev
    .venv/bin/python bench/misses.py ckad_dev --half 0   # one half only (choose on half 0, read half 1)

A question is listed when its first snippet is not right; "right" is the set's own label (bench/ltr.is_right).
Each line of contributions is (weight × (right − first)) per feature, most against the right snippet first, with
the two feature values in brackets; "none in the pool" means no candidate is right, so no ordering can help.
This reads the ranking before the answer's last steps (relevance floor, mix, destructive demotion), which move
the first snippet for about 1 question in 40 (measured on the screen sets).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ltr import SETS, assistants, is_right, load  # noqa: E402

from assistant.app.evaluate import half_of  # noqa: E402
from assistant.query.parse import parse_query  # noqa: E402
from assistant.rank.search import CONFIG, rank_passages, snippet_pool  # noqa: E402
from assistant.rank.snippet_model import FEATURES, features  # noqa: E402


def first_line(code: str) -> str:
    return (code.splitlines() or [""])[0][:70]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", choices=sorted(SETS))
    parser.add_argument("--half", type=int, choices=(0, 1))
    args = parser.parse_args()
    corpus = SETS[args.set][0]
    helper = assistants()[corpus]
    reader, embed = helper.reader(), helper.embedder().embed
    weights = np.array([dict(CONFIG.snippet_model).get(name, 0.0) for name in FEATURES])
    listed = 0
    items = [i for i in load(args.set) if args.half is None or half_of(i) == args.half]
    for item in items:
        if "want" in item and not item["want"]:
            continue
        query = parse_query(item["question"])
        qvec = embed([query.text])[0]
        pool = snippet_pool(reader, query, qvec, rank_passages(reader, query, qvec, CONFIG).passages, CONFIG)
        candidates, x = features(pool, query, reader, CONFIG)
        if not candidates:
            continue
        scores = x @ weights
        order = sorted(range(len(candidates)), key=lambda i: (-scores[i], candidates[i]))
        snippets = [reader.snippet(candidates[i]) for i in order]
        right = [n for n, s in enumerate(snippets) if is_right(item, s.code, s.lang)]
        if right and right[0] == 0:
            continue
        listed += 1
        top = order[0]
        print(f"\n{item.get('id', '')} (half {half_of(item)}) {item['question'][:100]!r}")
        print(f"  first  {scores[top]:5.2f}  {first_line(snippets[0].code)!r}")
        if not right:
            print("  right: none in the pool")
            continue
        r = order[right[0]]
        print(f"  right  {scores[r]:5.2f}  {first_line(snippets[right[0]].code)!r}  (#{right[0] + 1})")
        parts = sorted(zip(FEATURES, (x[r] - x[top]) * weights, x[r], x[top], strict=True), key=lambda p: p[1])
        print("  " + "  ".join(f"{n} {d:+.2f} ({a:.2f}/{b:.2f})" for n, d, a, b in parts if abs(d) >= 0.05))
    print(f"\n{listed} of {len(items)} questions without a right snippet first")


if __name__ == "__main__":
    main()

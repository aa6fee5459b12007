"""Fit the snippet ranking (assistant/rank/snippet_model.py) on the dev sets, and check it on the half it did not see.

    python bench/ltr.py            # cross-fitted figures: each half scored with weights fitted on the other
    python bench/ltr.py --write    # and write the weights fitted on both halves to assistant/data/snippet_model.json,
                                   # with the training data (features and labels, no text) to bench/ltr_data.json.gz
    python bench/ltr.py --refit    # refit from bench/ltr_data.json.gz alone (no corpora needed) and print the weights

For each question of the command sets (screen_seed_dev on the bundled notes; screen_docs_dev and ckad_dev on the
Kubernetes docs and examples), every candidate snippet is described by snippet_model.FEATURES and labelled by the
set's own scorer: it holds a wanted string (screen sets), or one of its kubectl commands has a reference
command's signature or it is a manifest of a reference kind (CKAD). A linear model is fitted on pairs (a right
snippet, a wrong one of the same question) with a logistic loss — RankNet's linear case — each question weighing
the same. The candidates, features and labels are written to $TMPDIR/kt-ltr/data.json for inspection.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.app.core import Assistant  # noqa: E402
from assistant.app.evaluate import half_of, score_ckad, score_screen, score_seed  # noqa: E402
from assistant.config import BUNDLED_NOTES, resolve  # noqa: E402
from assistant.knowledge.kubectl import kubectl_commands, signature  # noqa: E402
from assistant.rank import search, snippet_model  # noqa: E402

SHARED = Path(os.environ.get("KT_SHARED", ROOT.parent / "shared"))
SETS = {  # name: (corpus, scorer, answers' k, figures)
    "screen_seed_dev": ("seed", score_screen, 5, ("want@1", "want@3", "noise@3")),
    "screen_docs_dev": ("k8s", score_screen, 5, ("want@1", "want@3", "noise@3")),
    "ckad_dev": ("k8s", score_ckad, 5, ("cmd-hit@5", "first-ref cmd-hit@5", "kind-hit@5")),
    "seed_dev": ("seed", score_seed, 10, ("command-hit@3",)),
    "seed_paraphrase_dev": ("seed", score_seed, 10, ("command-hit@3",)),
}


def load(name: str) -> list[dict]:
    return [json.loads(line) for line in (SHARED / "eval" / f"{name}.jsonl").open() if line.strip()]


def assistants() -> dict[str, Assistant]:
    corpora = SHARED / "corpora"
    out = {
        "seed": Assistant(resolve([BUNDLED_NOTES]), notice=lambda m: None),
        "k8s": Assistant(resolve([corpora / "k8s-docs", corpora / "k8s-examples"]), notice=lambda m: None),
    }
    for a in out.values():
        a.reader()
        a.embedder()
    return out


def is_right(item: dict, code: str, lang: str) -> bool:
    if "want" in item:
        return any(w in code for w in item["want"])
    if "evidence" in item:
        return bool(item.get("command")) and item["command"] in code
    refs = {signature(c) for c in item["reference_commands"]} - {None}
    if refs & {signature(c) for c in kubectl_commands(code)}:
        return True
    kinds = item.get("reference_kinds") or []
    return lang == "yaml" and any(re.search(rf"^kind:\s*{re.escape(k)}\s*$", code, re.M) for k in kinds)


FUSION = replace(search.CONFIG, snippet_model=())  # candidates are collected as fusion ranks them


def collect(helpers: dict[str, Assistant]) -> list[dict]:
    """One record per question: its set, half, and every candidate's features and label."""
    captured: dict = {}
    real_pool = search.snippet_pool

    def capturing(reader, query, qvec, passages, config):  # type: ignore[no-untyped-def]
        pool = real_pool(reader, query, qvec, passages, config)
        captured.update(pool=pool, query=query, reader=reader)
        return pool

    search.snippet_pool = capturing
    for a in helpers.values():
        a.rank_config = FUSION
    records = []
    try:
        for name, (corpus, _, k, _) in SETS.items():
            for item in load(name):
                if "evidence" in item and not item.get("command"):
                    continue
                captured.clear()
                helpers[corpus].ask(item["question"], k=k)
                if "pool" not in captured:
                    continue
                reader = captured["reader"]
                candidates, x = snippet_model.features(captured["pool"], captured["query"], reader, FUSION)
                snippets = [reader.snippet(si) for si in candidates]
                labels = [is_right(item, s.code, s.lang) for s in snippets]
                records.append(
                    {"set": name, "id": item.get("id", item["question"]), "half": half_of(item),
                     "x": x.tolist(), "y": labels,
                     "question": item["question"], "candidates": candidates,
                     "codes": [s.code[:120] for s in snippets]}
                )  # fmt: skip
    finally:
        search.snippet_pool = real_pool
    return records


def fit(records: list[dict], c: float = 1.0) -> tuple[tuple[str, float], ...]:
    from sklearn.linear_model import LogisticRegression

    diffs, weights = [], []
    for r in records:
        x, y = np.array(r["x"]), np.array(r["y"], dtype=bool)
        pos, neg = x[y], x[~y]
        if not len(pos) or not len(neg):
            continue
        d = (pos[:, None, :] - neg[None, :, :]).reshape(-1, x.shape[1])
        diffs.append(d)
        weights.append(np.full(len(d), 1.0 / len(d)))
    d, w = np.vstack(diffs), np.concatenate(weights)
    model = LogisticRegression(fit_intercept=False, C=c, max_iter=2000)
    model.fit(np.vstack([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))], sample_weight=np.r_[w, w])
    return tuple((name, round(float(v), 4)) for name, v in zip(snippet_model.FEATURES, model.coef_[0], strict=True))


PER_QUESTION: dict[tuple[str, str], dict[str, dict]] = {}  # (set, question) → {variant: result}


def figures(
    helpers: dict[str, Assistant], config: search.RankConfig, half: int, sets: dict, variant: str = ""
) -> dict[str, str]:
    out = {}
    for name, (corpus, scorer, k, keys) in sets.items():
        a = helpers[corpus]
        a.rank_config = config
        items = [item for item in load(name) if half_of(item) == half]
        results = [scorer(item, a.ask(item["question"], k=k).to_json()) for item in items]
        for item, result in zip(items, results, strict=True):
            PER_QUESTION.setdefault((name, item["question"]), {})[variant] = result
        out[name] = " ".join(f"{key} {np.mean([float(r[key]) for r in results if key in r]):.2f}" for key in keys)
    return out


DATA = Path(__file__).with_name("ltr_data.json.gz")


def save_data(records: list[dict]) -> None:
    import gzip

    slim = [
        {"set": r["set"], "id": r["id"], "half": r["half"], "y": [int(v) for v in r["y"]],
         "x": [[round(v, 4) for v in row] for row in r["x"]]}
        for r in records
    ]  # fmt: skip
    DATA.write_bytes(gzip.compress(json.dumps(slim, separators=(",", ":")).encode(), mtime=0))


def refit() -> tuple[tuple[str, float], ...]:
    import gzip

    return fit(json.loads(gzip.decompress(DATA.read_bytes())))


def main() -> None:
    if "--refit" in sys.argv:
        print(json.dumps({"weights": dict(refit())}, indent=1))
        return
    helpers = assistants()
    records = collect(helpers)
    scratch = Path(tempfile.gettempdir()) / "kt-ltr"
    scratch.mkdir(exist_ok=True)
    (scratch / "data.json").write_text(json.dumps(records))
    if "--collect" in sys.argv:
        return
    variants = {"fusion": lambda half: replace(search.CONFIG, snippet_model=())}
    for c in (1.0,):
        for div in (True,):
            fitted = {h: fit([r for r in records if r["half"] != h], c) for h in (0, 1)}
            variants[f"learned C={c} diversify={div}"] = lambda half, fitted=fitted, div=div: replace(
                search.CONFIG, snippet_model=fitted[half], diversify=div
            )
    print("weights fitted on both halves:", dict(fit(records)))
    for label, config_of in variants.items():
        print(label)
        for half in (0, 1):
            for name, cells in figures(helpers, config_of(half), half, SETS, label).items():
                print(f"  h{half} {name:16} {cells}")
        sys.stdout.flush()
    if "--changes" in sys.argv:
        first = next(iter(variants))
        for (name, question), by_variant in PER_QUESTION.items():
            for label, result in by_variant.items():
                changed = {k: v for k, v in result.items() if v != by_variant[first].get(k)}
                if changed and label != first:
                    print(f"{name:16} {label[:14]:14} {changed} {question[:90]}")
    if "--write" in sys.argv:
        save_data(records)
        weights = refit()  # from the data as saved: --refit gives these weights again
        snippet_model.MODEL_FILE.write_text(json.dumps({"weights": dict(weights)}, indent=1) + "\n")
        print("wrote", snippet_model.MODEL_FILE, dict(weights))


if __name__ == "__main__":
    main()

"""Retrieval quality on the seed dev set, with the real model (targets from the issues)."""

from __future__ import annotations

import json

import pytest

from assistant.core import Assistant
from assistant.evaluate import evaluate, score_ckad, signature
from tests.conftest import EVAL_DIR

SEED_DEV = EVAL_DIR / "seed_dev.jsonl"


@pytest.mark.skipif(not SEED_DEV.exists(), reason="shared eval set not present")
def test_seed_dev_targets(seed_assistant: Assistant) -> None:
    report = evaluate(seed_assistant, SEED_DEV)
    metrics = report["metrics"]
    assert metrics["hit@1"] >= 0.9, report["misses"]
    assert metrics["hit@3"] == 1.0, report["misses"]
    assert metrics["command-hit@3"] == 1.0, report["misses"]
    assert metrics["MRR@10"] >= 0.85


def test_flannel_vs_calico_shows_the_network_plugin_passages(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("Flannel vs Calico?")
    titles = [h.chunk.headings[-1] for h in answer.passages]
    assert "Network Plugins" in titles
    assert any("Flannel" in t for t in titles) and any("Calico" in t for t in titles)


def test_rollback_command_comes_first(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("how do I roll back a deployment")
    assert "kubectl rollout undo deploy/nginx" in answer.snippets[0].snippet.code


RUNBOOK = """# Web app runbook

## Ingress

An ingress routes outside HTTP traffic to services inside the cluster, by host and path.

### Ingress annotations we use

Our ingress controller reads annotations on each ingress: rewrite targets, timeouts and body size for
the web app.

## Image

```dockerfile
FROM python:3.12-slim
COPY app.py .
CMD ["python", "app.py"]
```

## Web app Dockerfile rules

Keep the web app Dockerfile small: a slim base, no build tools, and the Dockerfile cached layers in order.
The web app Dockerfile is rebuilt by CI on every merge.
"""


def test_eval_signature_rules() -> None:
    assert signature("kubectl create deploy nginx --image=nginx") == ("create", "deployment")
    assert signature("k get po -A") == ("get", "pod")
    assert signature("kubectl rollout undo deploy/nginx") == ("rollout", "undo")
    assert signature("kubectl run nginx --image=nginx") == ("run",)
    assert signature("helm install x") is None


def test_eval_ckad_scoring() -> None:
    item = {
        "reference_commands": ["kubectl create namespace x", "kubectl get ns"],
        "reference_kinds": ["Pod"],
    }
    answer = {"snippets": [
        {"lang": "shell", "code": "kubectl get namespaces\n"},
        {"lang": "yaml", "code": "apiVersion: v1\nkind: Pod\n"},
    ]}  # fmt: skip
    result = score_ckad(item, answer)
    assert result == {"cmd-hit@5": True, "first-ref cmd-hit@5": False, "kind-hit@5": True}


def test_kt_eval_on_a_small_question_file(tmp_path, seed_assistant: Assistant) -> None:  # type: ignore[no-untyped-def]
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "a",
                "question": "how do I roll back a deployment",
                "evidence": ["rollout undo"],
                "command": "kubectl rollout undo deploy/nginx",
            }
        )
        + "\n"
        + json.dumps({"id": "b", "question": "what is etcd", "evidence": ["no such text anywhere"]})
        + "\n"
    )
    report = evaluate(seed_assistant, questions)
    assert report["metrics"]["hit@3"] == 0.5 and report["metrics"]["command-hit@3"] == 1.0
    assert [m["id"] for m in report["misses"]] == ["b"]

"""The commands on the first screen: only code meant to be run is offered, destructive commands only when asked
for and always marked, concept questions lead with the explanation, and the same input gives the same answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.app.core import Assistant
from assistant.app.evaluate import score_screen
from assistant.ingest.chunks import chunk_markdown
from assistant.ingest.snippets import is_command, is_instruction, is_whole_clause
from assistant.knowledge.destructive import asked_for, find
from assistant.query.parse import is_imperative, parse_query
from assistant.rank.search import CONFIG
from assistant.views.plain import markdown, plain_text

ROOT = Path(__file__).resolve().parent.parent


def snippets_of(text: str) -> list:
    return [s for c in chunk_markdown(text, "note.md") for s in c.snippets]


# --- only code meant to be run is offered -------------------------------------------------------------------


def test_inline_code_in_a_sentence_about_it_is_a_mention() -> None:
    text = (
        "# Flow\n\n"
        "1. The operator runs `kubectl apply -f app.yaml` against the API server\n"
        "2. Then run `kubectl get pods -w` to watch them come up\n\n"
        "**Build it:** `docker build -t web:v2 .`\n\n"
        "You can also use `kubectl rollout status deploy/web` for that.\n"
    )
    codes = [s.code for s in snippets_of(text)]
    assert "kubectl apply -f app.yaml" not in codes  # described, not asked for
    assert codes == ["kubectl get pods -w", "docker build -t web:v2 .", "kubectl rollout status deploy/web"]
    (chunk,) = chunk_markdown(text, "note.md")
    assert "kubectl apply -f app.yaml" in chunk.text  # a mention stays searchable as passage text


def test_a_command_must_parse_as_one() -> None:
    assert not is_command("docker run/build")  # two commands named in prose
    assert not is_command("NAME      READY   STATUS")  # program output
    assert not is_command("pod/web created")
    assert not is_command("10.96.0.1")
    assert not is_command("This sets the replicas for every pod in the set.")
    for line in ("kubectl get pods", "$ helm list -A", "sudo kubeadm init", "./install.sh", "KUBECONFIG=x kubectl"):
        assert is_command(line), line
    assert is_command("terraform apply") and not is_command("terraform apply", known_only=True)


def test_instruction_clauses() -> None:
    assert is_instruction("")  # the code opens the paragraph or list item
    assert is_instruction("**Run Container:** ")
    assert is_instruction("To list them, run ")
    assert is_instruction("You can check it with ")
    assert not is_instruction("The scheduler then calls ")
    assert not is_instruction("User runs ")


def test_program_output_in_a_shell_fence_is_not_offered() -> None:
    text = "# Nodes\n\n```shell\nNAME     STATUS   ROLES\nnode-1   Ready    control-plane\n```\n"
    assert snippets_of(text) == []
    text = "# Nodes\n\nList them:\n\n```shell\nkubectl get nodes\n```\n"
    assert [s.code for s in snippets_of(text)] == ["kubectl get nodes\n"]


def test_labels_are_headings_comments_or_whole_clauses() -> None:
    text = (
        "# Scaling\n\n"
        "Use\n\n```shell\nkubectl scale deploy/web --replicas=3\n```\n\n"
        "Change the number of replicas of the web deployment:\n\n"
        "```shell\nkubectl scale deploy/web --replicas=5\n```\n\n"
        "The autoscaler (for example the one from\n\n```shell\nkubectl autoscale deploy/web --max=9\n```\n"
    )
    labels = [s.label for s in snippets_of(text)]
    assert labels == ["Scaling", "Change the number of replicas of the web deployment", "Scaling"]
    assert not is_whole_clause("(example") and not is_whole_clause("You can use") and not is_whole_clause("Use")
    assert is_whole_clause("Create the namespace first")


# --- nothing destructive nobody asked for ---------------------------------------------------------------------


def test_destructive_rules_read_the_parsed_command() -> None:
    assert find("kubectl delete pod web\n", "shell") == ["kubectl-delete"]
    assert find("$ sudo kubeadm reset -f\n", "shell") == ["kubeadm-reset"]
    assert find("kubectl delete pod web --grace-period=0 --force\n", "shell") == [
        "kubectl-delete",
        "kubectl-force-kill",
    ]
    assert find('ETCDCTL_API=3 etcdctl del "" --prefix\n', "shell") == ["etcdctl-del"]  # after an assignment
    assert find("kubectl get pods && kubectl drain node-1 --ignore-daemonsets\n", "shell") == ["kubectl-drain"]
    assert find("echo 'kubectl delete everything' # not run\n", "shell") == []
    assert find("kubectl get pods\nkubectl describe pod web\n", "shell") == []
    assert find("kind: Pod\nmetadata:\n  name: delete\n", "yaml") == []


def test_a_destructive_command_is_asked_for_by_its_effect() -> None:
    assert asked_for(["kubectl-delete"], {"delete", "the", "pod"})
    assert asked_for(["kubectl-delete"], {"removing", "old", "jobs"})
    assert not asked_for(["kubectl-delete"], {"back", "up", "etcd"})
    assert not asked_for(["kubectl-delete"], {"cleanly"})  # an adverb is not the verb
    assert asked_for(["kubectl-drain"], {"reboot", "the", "node"})
    assert not asked_for(["kubectl-delete", "kubectl-force-kill"], {"delete", "pod"})  # every rule must be asked


DANGER_NOTE = """# Node care

## Back up etcd

Save a snapshot of etcd before any upgrade:

```shell
etcdctl snapshot save /backup/etcd.db
```

## Wipe a node

Reset the node so it can join again (this wipes it):

```shell
kubeadm reset -f
```

## Remove pods

Delete a pod that is stuck:

```shell
kubectl delete pod web --grace-period=0 --force
```
"""


@pytest.mark.slow
def test_destructive_commands_only_when_asked_and_marked_everywhere(one_note_assistant) -> None:  # type: ignore[no-untyped-def]
    kt: Assistant = one_note_assistant("care.md", DANGER_NOTE)
    backup = kt.ask("keep a copy of the etcd data somewhere safe before touching the cluster")
    codes = [s.snippet.code for s in backup.snippets]
    assert codes and "etcdctl snapshot save" in codes[0]
    assert not any("reset" in c or "delete" in c for c in codes)  # not offered at all: nobody asked to remove

    wipe = kt.ask("reset a node and wipe it")
    hit = next(s for s in wipe.snippets if "kubeadm reset" in s.snippet.code)
    assert hit.rank == 1
    data = wipe.to_json()
    assert data["snippets"][0]["destructive"] == ["kubeadm-reset"]
    assert any(w["kind"] == "destructive" and w["snippet"] == 1 for w in data["warnings"])
    assert "destructive: wipes this node" in plain_text(wipe)
    assert "⚠ destructive: wipes this node" in markdown(wipe)
    from assistant.views.mcp_results import brief_markdown

    assert "⚠ destructive: wipes this node" in markdown(wipe, once=True)  # kt mcp, full and brief
    assert "⚠ destructive: wipes this node" in brief_markdown(wipe)


def test_an_unasked_destructive_command_is_not_offered_or_comes_last() -> None:
    from assistant.rank.search import demote_unasked_destructive

    ranked = [(0, 3.0), (1, 2.0), (2, 1.0)]
    features = [{}, {"destructive": ["kubeadm-reset"]}, {}]
    backup = parse_query("keep a copy of the etcd data before the upgrade")
    assert demote_unasked_destructive(ranked, features, backup, drop=True) == [(0, 3.0), (2, 1.0)]
    assert demote_unasked_destructive(ranked, features, backup) == [(0, 3.0), (2, 1.0), (1, 2.0)]
    wipe = parse_query("reset this node so it can join again")
    assert demote_unasked_destructive(ranked, features, wipe, drop=True) == ranked


# --- the verb list only for tasks on a named resource ------------------------------------------------------------


def test_verb_matching_is_for_tasks_on_a_named_resource() -> None:
    assert is_imperative("Create a deployment named web with 3 replicas", {"deployment"})
    assert is_imperative("In namespace dev, list every pod", {"pod"})
    assert is_imperative("Now scale the deployment to 5", {"deployment"})
    assert not is_imperative("save a copy of the etcd data before an upgrade", set())
    assert not is_imperative("the node is full of old images, free up disk space", {"node"})
    assert not is_imperative("my pods keep restarting, what do I check", {"pod"})
    assert parse_query("how can I roll a deployment back").asks_how
    assert not parse_query("how do I get all the pods off this node").asks_how  # a light verb names no action


# --- concepts lead with the explanation; no commands when the notes do not answer ----------------------------


@pytest.mark.slow
def test_concept_questions_lead_with_the_explanation(seed_assistant: Assistant) -> None:
    concept = seed_assistant.ask("what is the job of the kubelet on a worker node")
    assert concept.lead == "explanation" and concept.to_json()["lead"] == "explanation"
    assert all(s.passage is not None and s.passage <= 2 for s in concept.snippets)
    text = plain_text(concept)
    if concept.snippets:
        assert text.index("Passages") < text.index("[1]")
    howto = seed_assistant.ask("roll my deployment back to the previous version")
    assert howto.lead == "commands"
    text = plain_text(howto)
    assert text.index("[1]") < text.index("Passages")


@pytest.mark.slow
def test_no_view_offers_commands_when_the_notes_do_not_answer(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("bake sourdough bread with a rye starter")
    assert not answer.relevant
    assert answer.snippets == [] and answer.to_json()["snippets"] == []
    assert "[1]" not in plain_text(answer)


# --- the screen format and determinism ---------------------------------------------------------------------------


def test_screen_scoring() -> None:
    item = {"id": "x", "question": "q", "want": ["kubectl drain"], "avoid": ["kubectl delete node"]}
    answer = {
        "snippets": [{"code": "kubectl cordon n1"}, {"code": "kubectl drain n1"}, {"code": "kubectl delete node n1"}]
    }
    assert score_screen(item, answer) == {"want@1": False, "want@3": True, "noise@3": True}
    assert score_screen({**item, "want": []}, {"snippets": []}) == {"noise@3": False}


@pytest.mark.slow
def test_the_same_answers_whatever_the_hash_seed(tmp_path: Path, onnx_model: Path) -> None:
    questions = tmp_path / "questions.jsonl"
    asked = [
        "create a deployment named web and expose it on port 80",
        "list the pods in every namespace and delete the failed ones",
        "scale a statefulset, then check its rollout",
        "show me the yaml for a storage class and a claim",
    ]
    questions.write_text("".join(json.dumps({"id": str(n), "question": q, "want": ["kubectl"]}) + "\n"
                                 for n, q in enumerate(asked)))  # fmt: skip
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from assistant.config import BUNDLED_NOTES, Settings\n"
        "from assistant.app.core import Assistant\n"
        "kt = Assistant(Settings((BUNDLED_NOTES,), Path(sys.argv[1])), notice=lambda m: None)\n"
        "for line in open(sys.argv[2]):\n"
        "    print(json.dumps(kt.ask(json.loads(line)['question']).to_json(), sort_keys=True))\n"
    )
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "index"), str(questions)],
            capture_output=True, text=True, env=env, cwd=ROOT, check=True,
        )  # fmt: skip
        outputs.append(done.stdout)
    assert outputs[0] and outputs[0] == outputs[1]


# --- honest follow-ups and comparisons ---------------------------------------------------------------------------


def test_comparisons_in_other_words() -> None:
    from assistant.query.compare import detect_comparison

    def parts(q: str) -> tuple[tuple[str, ...], str] | None:
        c = detect_comparison(q)
        return (c.sides, c.aspect) if c else None

    assert parts("is weave quicker than cilium?") == (("weave", "cilium"), "quicker")
    assert parts("should we pick ingress-nginx or traefik") == (("ingress-nginx", "traefik"), "")
    assert parts("RWO or RWX for a shared upload folder") == (("RWO", "RWX"), "for a shared upload folder")
    assert parts("hostPath vs local volumes on bare metal") == (("hostPath", "local volumes"), "on bare metal")
    assert parts("is there a pod or a deployment") is None


@pytest.mark.slow
def test_follow_ups_say_what_the_notes_lack(seed_assistant: Assistant) -> None:
    from assistant.query.followup import Conversation

    conversation = Conversation()
    seed_assistant.ask("Flannel vs Calico?", conversation=conversation)
    yaml = seed_assistant.ask("give me the manifest", conversation=conversation)
    assert yaml.snippets == [] and yaml.notice and "Flannel or Calico" in yaml.notice
    assert yaml.to_json()["notice"] == yaml.notice and yaml.notice in plain_text(yaml)

    conversation = Conversation()
    seed_assistant.ask("undo the last rollout of my deployment", conversation=conversation)
    other = seed_assistant.ask("what about daemonsets?", conversation=conversation)
    assert other.notice and "only for deployment" in other.notice


def test_a_permission_or_a_ruled_out_removal_asks_for_nothing_destructive() -> None:
    from assistant.knowledge.destructive import request_words

    assert not asked_for(["kubectl-delete"], request_words("is the bot able to delete secrets in prod?"))
    assert not asked_for(["kubectl-delete"], request_words("rotate the certs without deleting the old ones"))
    assert asked_for(["kubectl-delete"], request_words("delete the secrets the bot created"))


# --- snippets ranked by a learned linear model over their evidence ---------------------------------------------------

TOOLS_NOTE = """# Node tools

## Containers on a node
Inspect the runtime directly on the node.

```bash
sudo crictl ps -a
```

## Pods in the cluster
```bash
kubectl get pods -o wide
```

## Images
```dockerfile
FROM alpine:3.20
RUN apk add curl
```
"""


def test_the_shipped_model_covers_every_feature_and_only_those() -> None:
    from assistant.rank import snippet_model

    weights = json.loads(snippet_model.MODEL_FILE.read_text())["weights"]
    assert list(weights) == list(snippet_model.FEATURES)
    assert [name for name, _ in snippet_model.shipped()] == list(snippet_model.FEATURES)
    assert CONFIG.snippet_model == snippet_model.shipped()


def test_snippets_rank_by_the_weighted_evidence(one_note_assistant) -> None:  # type: ignore[no-untyped-def]
    kt: Assistant = one_note_assistant("tools.md", TOOLS_NOTE)
    question = "which crictl command lists the containers running on this node"

    def first(**weights: float) -> str:
        kt.rank_config = replace(CONFIG, snippet_model=tuple(weights.items()))
        return kt.ask(question).snippets[0].snippet.code

    assert "crictl ps" in first(names_program=1.0)  # the question names the program
    assert "FROM alpine" in first(other_lang=1.0)  # a weight that favours Dockerfiles puts one first
    kt.rank_config = replace(CONFIG, snippet_model=())  # no weights: the ranks fuse (search.fused_snippets)
    fused = [s.snippet.code for s in kt.ask(question).snippets]
    kt.rank_config = CONFIG
    learned = [s.snippet.code for s in kt.ask(question).snippets]
    assert sorted(fused) == sorted(learned)  # the same candidates pass the same floors; only the order is learned
    assert "crictl ps" in learned[0]


def test_learned_ranking_is_deterministic_and_ties_break_by_position(one_note_assistant) -> None:  # type: ignore[no-untyped-def]
    kt: Assistant = one_note_assistant("tools.md", TOOLS_NOTE)
    kt.rank_config = replace(CONFIG, snippet_model=(("yaml", 1.0),))  # every shell snippet ties at 0
    ids = [s.index for s in kt.ask("list containers").snippets]
    assert ids == sorted(ids)


def test_the_shipped_weights_refit_from_the_committed_training_data() -> None:
    """bench/ltr.py --refit fits bench/ltr_data.json.gz again: the weights in the package are that fit."""
    from assistant.rank import snippet_model

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, str(root / "bench" / "ltr.py"), "--refit"], capture_output=True, text=True, check=True
    ).stdout
    refit, shipped = json.loads(out)["weights"], json.loads(snippet_model.MODEL_FILE.read_text())["weights"]
    assert refit.keys() == shipped.keys()
    assert all(abs(refit[k] - shipped[k]) <= 1e-3 for k in shipped), (refit, shipped)  # (BLAS rounding)

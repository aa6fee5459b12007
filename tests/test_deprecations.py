"""Outdated-command and removed-API rules: each fires on the old form and stays quiet on the modern one."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from assistant.config import BUNDLED_NOTES
from assistant.knowledge.deprecations import RULES_FILE, check, load_rules

SEED = BUNDLED_NOTES / "kubernetes-therapy.md"


def sh(code: str, label: str = "") -> tuple[str, str, str]:
    return "shell", code + "\n", label


def manifest(api_version: str, kind: str) -> tuple[str, str, str]:
    return "yaml", f"apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: demo\n", ""


# rule id -> (lang, code, label): an outdated snippet, as notes really write it, that must fire the rule
OUTDATED: dict[str, tuple[str, str, str]] = {
    "kubectl-get-export": sh("kubectl get deploy busybox --export -o yaml > exported.yaml"),
    "kubectl-run-replicas": sh("kubectl run nginx --image=nginx  --replicas=3"),
    "kubectl-run-generator": sh("kubectl run nginx --image=nginx --generator=run-pod/v1"),
    "kubectl-rolling-update": sh("kubectl rolling-update frontend --image=image:v2"),
    "kubectl-dry-run-bare": sh("kubectl create deployment web --image=nginx --dry-run -o yaml"),
    "kubectl-top-heapster": sh("kubectl top pod -n my-namespace", label="Observability (Needs Heapster)"),
    "kubectl-exec-without-dashes": sh("kubectl exec -it nginx /bin/bash"),
    "apps-v1beta-workloads": manifest("apps/v1beta2", "StatefulSet"),
    "extensions-v1beta1-workloads": manifest("extensions/v1beta1", "Deployment"),
    "extensions-v1beta1-networkpolicy": manifest("extensions/v1beta1", "NetworkPolicy"),
    "ingress-v1beta1": manifest("networking.k8s.io/v1beta1", "Ingress"),
    "rbac-v1beta1": manifest("rbac.authorization.k8s.io/v1beta1", "ClusterRole"),
    "crd-v1beta1": manifest("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"),
    "cronjob-batch-v1beta1": manifest("batch/v1beta1", "CronJob"),
    "pdb-policy-v1beta1": manifest("policy/v1beta1", "PodDisruptionBudget"),
    "podsecuritypolicy": manifest("policy/v1beta1", "PodSecurityPolicy"),
    "hpa-autoscaling-v2beta1": manifest("autoscaling/v2beta1", "HorizontalPodAutoscaler"),
    "hpa-autoscaling-v2beta2": manifest("autoscaling/v2beta2", "HorizontalPodAutoscaler"),
}

# rule id -> the modern form of the same snippet, which must not fire anything
MODERN: dict[str, tuple[str, str, str]] = {
    "kubectl-get-export": sh("kubectl get deploy busybox -o yaml > exported.yaml"),
    "kubectl-run-replicas": sh("kubectl create deployment nginx --image=nginx --replicas=3"),
    "kubectl-run-generator": sh("kubectl run nginx --image=nginx --restart=Never"),
    "kubectl-rolling-update": sh("kubectl rollout status deploy/frontend"),
    "kubectl-dry-run-bare": sh("kubectl create deployment web --image=nginx --dry-run=client -o yaml"),
    "kubectl-top-heapster": sh("kubectl top pod -n my-namespace", label="Observability (metrics-server)"),
    "kubectl-exec-without-dashes": sh("kubectl exec -it nginx -- /bin/bash"),
    "apps-v1beta-workloads": manifest("apps/v1", "StatefulSet"),
    "extensions-v1beta1-workloads": manifest("apps/v1", "Deployment"),
    "extensions-v1beta1-networkpolicy": manifest("networking.k8s.io/v1", "NetworkPolicy"),
    "ingress-v1beta1": manifest("networking.k8s.io/v1", "Ingress"),
    "rbac-v1beta1": manifest("rbac.authorization.k8s.io/v1", "ClusterRole"),
    "crd-v1beta1": manifest("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    "cronjob-batch-v1beta1": manifest("batch/v1", "CronJob"),
    "pdb-policy-v1beta1": manifest("policy/v1", "PodDisruptionBudget"),
    "podsecuritypolicy": (
        "yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n  labels:\n"
        "    pod-security.kubernetes.io/enforce: restricted\n",
        "",
    ),
    "hpa-autoscaling-v2beta1": manifest("autoscaling/v2", "HorizontalPodAutoscaler"),
    "hpa-autoscaling-v2beta2": manifest("autoscaling/v2", "HorizontalPodAutoscaler"),
}


def rule_ids(code: str, lang: str = "shell", label: str = "") -> list[str]:
    return [f.rule for f in check(code, lang, label)]


def seed_line(start: str) -> str:
    """The line of the seed notes that starts with `start`, exactly as written there."""
    line = next(ln for ln in SEED.read_text().splitlines() if ln.strip().startswith(start))
    return line + "\n"


# --- the rules as data ----------------------------------------------------------------------------------


def test_every_rule_has_a_source_a_version_and_a_compiling_pattern() -> None:
    raw = json.loads(RULES_FILE.read_text())
    assert raw and len({r["id"] for r in raw}) == len(raw)
    for rule in raw:
        assert rule["source"].strip() and re.fullmatch(r"1\.\d+", rule["since"]), rule["id"]
        assert rule["message"].strip() and rule["replacement"].strip(), rule["id"]
        assert rule["applies_to"] in ("shell", "yaml"), rule["id"]
        pattern = rule["pattern"]
        re.compile("".join(pattern) if isinstance(pattern, list) else pattern)
    assert [r.id for r in load_rules()] == [r["id"] for r in raw]


def test_corpus_sources_name_files_that_exist_in_the_k8s_docs_corpus() -> None:
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "shared" / "corpora"
    if not docs.is_dir():
        pytest.skip("the shared corpora are not on this machine")
    for rule in load_rules():
        if rule.source.startswith("k8s-docs/"):
            assert (docs / rule.source.split("#")[0]).is_file(), rule.id


def test_every_rule_has_an_outdated_and_a_modern_example() -> None:
    ids = {r.id for r in load_rules()}
    assert set(OUTDATED) == ids
    assert set(MODERN) == ids


@pytest.mark.parametrize("rule_id", sorted(OUTDATED))
def test_rule_fires_on_the_outdated_form(rule_id: str) -> None:
    lang, code, label = OUTDATED[rule_id]
    assert rule_ids(code, lang, label) == [rule_id]


@pytest.mark.parametrize("rule_id", sorted(MODERN))
def test_modern_form_fires_nothing(rule_id: str) -> None:
    lang, code, label = MODERN[rule_id]
    assert rule_ids(code, lang, label) == []


# --- the seed notes -------------------------------------------------------------------------------------


def test_seed_dry_run_without_a_value_warns() -> None:
    line = seed_line("kubectl run <podName> --image=nginx --restart=Never --dry-run -o yaml > output.yaml")
    assert rule_ids(line) == ["kubectl-dry-run-bare"]


def test_seed_dry_run_client_does_not_warn() -> None:
    line = seed_line("kubectl expose pod redis --port=6379 --name redis-service --dry-run=client -o yaml")
    assert rule_ids(line) == []


def test_seed_export_warns() -> None:
    line = seed_line("kubectl get deploy busybox --export -o yaml > exported.yaml")
    assert rule_ids(line) == ["kubectl-get-export"]


def test_seed_exec_without_dashes_warns_for_a_shell_and_for_a_command_with_arguments() -> None:
    assert rule_ids(seed_line("kubectl exec -it nginx /bin/bash")) == ["kubectl-exec-without-dashes"]
    assert rule_ids(seed_line("kubectl exec -it nginx ls /path/found/when/running/describe/pod")) == [
        "kubectl-exec-without-dashes"
    ]


def test_seed_annotation_after_a_command_is_not_read_as_arguments() -> None:
    line = seed_line("kubectl logs -f podName containerName")
    assert "<- stream logs live" in line
    assert rule_ids(line) == []


def test_seed_observability_group_warns_about_heapster_on_each_top_line() -> None:
    from assistant.ingest.chunks import chunk_file

    chunks = chunk_file(SEED.read_text(), SEED.name)
    snippets = [s for c in chunks for s in c.snippets if "kubectl top" in s.code]
    assert snippets, "the seed notes have a kubectl top group"
    findings = check(snippets[0].code, snippets[0].lang, snippets[0].label)
    assert [(f.rule, f.line) for f in findings] == [("kubectl-top-heapster", 1), ("kubectl-top-heapster", 2)]


# --- how commands are read ------------------------------------------------------------------------------


def test_findings_carry_the_line_within_the_snippet_and_the_rule_details() -> None:
    code = "# Deployments\nkubectl create deployment a --image=nginx\nkubectl run b --image=x --replicas=3\n"
    (finding,) = check(code, "shell")
    assert finding.line == 3
    assert finding.since == "1.18" and "create deployment" in finding.replacement and finding.source


def test_prompt_k_alias_and_sudo_are_understood() -> None:
    assert rule_ids("$ kubectl get cm app --export -o yaml\n") == ["kubectl-get-export"]
    assert rule_ids("k run web --image=nginx --replicas=2\n") == ["kubectl-run-replicas"]
    assert rule_ids("sudo kubectl exec web date\n") == ["kubectl-exec-without-dashes"]


def test_other_programs_flags_are_not_judged() -> None:
    assert rule_ids("helm install web ./chart --dry-run\nkubectx prod\ngrep --export file\n") == []


def test_dry_run_with_true_or_a_space_separated_value_warns() -> None:
    assert rule_ids("kubectl apply -f app.yaml --dry-run=true\n") == ["kubectl-dry-run-bare"]
    assert rule_ids("kubectl apply -f app.yaml --dry-run client\n") == ["kubectl-dry-run-bare"]
    assert rule_ids("kubectl apply -f app.yaml --dry-run=server\n") == []


def test_exec_forms_with_flags_containers_and_substitutions() -> None:
    old = rule_ids
    assert old("kubectl -n kube-system exec -c web pod/api ls /tmp\n") == ["kubectl-exec-without-dashes"]
    assert old("kubectl exec api -it sh\n") == ["kubectl-exec-without-dashes"]
    assert old("kubectl exec -it --container web api -- sh\n") == []
    assert old("kubectl exec -n prod api -c web -- cat /etc/hosts | grep db\n") == []
    assert old('kubectl exec -it $(kubectl get po -l app=x -o name | head -1) -- sh -c "ls; pwd"\n') == []
    assert old("kubectl exec -it nginx\n") == []  # no command at all: nothing to move after --


def test_continued_command_is_judged_whole_and_reported_at_its_first_line() -> None:
    findings = check("kubectl run web \\\n  --image=nginx \\\n  --replicas=3\n", "shell")
    assert [(f.rule, f.line) for f in findings] == [("kubectl-run-replicas", 1)]


def test_chained_commands_are_judged_separately() -> None:
    assert rule_ids("kubectl get ns && kubectl get deploy web --export -o yaml\n") == ["kubectl-get-export"]


def test_kubectl_top_without_heapster_is_not_outdated() -> None:
    assert rule_ids("kubectl top node\n", "shell", "Resource usage") == []
    assert rule_ids("# needs heapster\nkubectl top node\n") == ["kubectl-top-heapster"]


def test_yaml_api_version_is_judged_with_the_kind_of_its_own_document() -> None:
    code = (
        "kind: Ingress\napiVersion: extensions/v1beta1\n---\n"  # kind before apiVersion
        "apiVersion: extensions/v1beta1\nkind: Deployment\n---\n"
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec:\n  scaleTargetRef:\n"
        "    apiVersion: extensions/v1beta1\n    kind: Deployment\n"  # nested reference: not a manifest
    )
    assert [(f.rule, f.line) for f in check(code, "yaml")] == [
        ("ingress-v1beta1", 2),
        ("extensions-v1beta1-workloads", 4),
    ]


def test_yaml_without_a_kind_only_fires_kind_independent_rules() -> None:
    assert rule_ids("apiVersion: extensions/v1beta1\n", "yaml") == []
    assert rule_ids("apiVersion: apps/v1beta1\n", "yaml") == ["apps-v1beta-workloads"]


def test_other_languages_are_not_checked() -> None:
    assert check("kubectl exec -it nginx /bin/bash\n", "python") == []
    assert check("apiVersion: batch/v1beta1\nkind: CronJob\n", "json") == []
    assert check("kubectl get deploy x --export\n", "") == []


def test_importing_the_rules_pulls_in_nothing_heavy() -> None:
    code = (
        "import sys, assistant.knowledge.deprecations as d; d.check('kubectl top node', 'shell');"
        "print(sorted(m for m in ('numpy', 'torch', 'faiss', 'yaml', 'markdown_it') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

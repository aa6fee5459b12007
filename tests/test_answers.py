"""Unit tests for the parts of an answer: comparisons, follow-ups, placeholders, key points, snippet ranking."""

from __future__ import annotations

from assistant.answer.placeholders import fill, find_placeholders
from assistant.app.core import Assistant
from assistant.query.compare import detect_comparison
from assistant.query.followup import Conversation, is_followup, rewrite
from assistant.query.parse import intent_of, parse_query


def sides(q: str) -> tuple[str, ...] | None:
    c = detect_comparison(q)
    return c.sides if c else None


def test_comparison_detection_and_splitting() -> None:
    assert sides("Flannel vs Calico?") == ("Flannel", "Calico")
    assert sides("difference between a Deployment and a StatefulSet") == ("Deployment", "StatefulSet")
    assert sides("What is the difference between PV and PVC?") == ("PV", "PVC")
    assert sides("PV or PVC?") == ("PV", "PVC")
    assert sides("compare RWO and RWX") == ("RWO", "RWX")
    assert sides("kube-proxy versus CoreDNS") == ("kube-proxy", "CoreDNS")
    assert sides("how can I roll a deployment back to its previous version") is None
    assert sides("what is a tunnelling network") is None
    assert detect_comparison("Flannel vs Calico: which one is faster?").aspect == "which one is faster"  # type: ignore[union-attr]


def test_follow_up_rewriting() -> None:
    conv = Conversation()
    assert rewrite("Flannel vs Calico?", conv)[0] == "Flannel vs Calico?"
    conv.add("Flannel vs Calico?", "Flannel vs Calico?", detect_comparison("Flannel vs Calico?"))
    question, comparison = rewrite("which one is faster?", conv)
    assert question == "Flannel vs Calico: which one is faster" and comparison and comparison.aspect
    assert rewrite("show me the yaml", conv) == ("Flannel Calico show me the yaml", None)
    conv.add(
        "how can I roll a deployment back to its previous version",
        "how can I roll a deployment back to its previous version",
        None,
    )
    assert rewrite("and for StatefulSets?", conv)[0] == "how can I roll a StatefulSets back to its previous version"
    assert rewrite("what about pods", conv)[0] == "how can I roll a pods back to its previous version"
    assert rewrite("what is etcd", conv)[0] == "what is etcd"  # self-contained: left alone
    assert not is_followup("make a cronjob that runs on a schedule") and is_followup("show me the yaml")


def test_placeholder_detection_and_fill() -> None:
    code = "kubectl run <podName> --image=<your-image-name> -n $NAMESPACE\nimage: {{ .Values.image }}\n"
    assert find_placeholders(code) == ["<podName>", "<your-image-name>", "$NAMESPACE", "{{ .Values.image }}"]
    assert find_placeholders("kubectl logs -f podName containerName") == ["podName", "containerName"]
    assert find_placeholders("<html>\n<head><title>x</title></head>", "html") == []
    assert find_placeholders("kubectl get secret SecretName -o yaml    <- view secret") == ["SecretName"]
    assert find_placeholders("echo ${HOME} and ${MY_VAR}") == ["${HOME}", "${MY_VAR}"]
    assert fill("kubectl run <podName> -n $NS", {"<podName>": "web", "$NS": ""}) == "kubectl run web -n $NS"


def test_query_intent() -> None:
    assert intent_of("what is a DaemonSet") == "concept"
    assert parse_query("Weave vs Cilium?").intent == "concept"
    assert intent_of("how can I undo a bad rollout") == "howto"
    assert intent_of("claim yaml for 5Gi of storage") == "howto"
    assert intent_of("kube-proxy iptables mode") == ""


def test_a_question_is_parsed_once_into_what_every_stage_needs() -> None:
    q = parse_query("How do I scale my deployment to 4 replicas?")
    assert q.text == q.question and not q.rewritten and q.comparison is None
    assert "scale" in q.verbs and q.resources == {"deployment"}
    assert "how" not in q.terms and "my" not in q.terms and "replica" in q.terms
    assert parse_query("the dockerfile for the api").snippet_kind == "dockerfile"
    assert parse_query("Weave or Cilium?").comparison.sides == ("Weave", "Cilium")  # type: ignore[union-attr]


def test_snippets_are_ranked_by_their_own_relevance(seed_assistant: Assistant) -> None:
    # All these commands sit in one passage; a task on a named resource brings its own group first.
    for question, expected in [
        ("how can I roll a deployment back to its previous version", "kubectl rollout undo deploy/nginx"),
        ("taint a node", "kubectl taint nodes NodeA"),
        ("expose a pod as a service", "kubectl expose pod redis"),
    ]:
        answer = seed_assistant.ask(question)
        assert expected in answer.snippets[0].snippet.code, (question, answer.snippets[0].snippet.code)
    # A goal in other words ("switch" is no kubectl verb) gets no verb matching, yet its command is on the
    # first screen.
    answer = seed_assistant.ask("switch my deployment to a newer container image")
    assert any("kubectl set image deploy/nginx" in s.snippet.code for s in answer.snippets[:3])


def test_irrelevant_snippets_are_not_offered(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("Flannel vs Calico?")
    assert all(s.snippet.lang != "yaml" for s in answer.snippets)


def test_key_points_come_from_the_notes_and_cite_passages(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("what are DaemonSets used for")
    assert 1 <= len(answer.key_points) <= 3
    for point in answer.key_points:
        assert point.text in answer.passages[point.passage - 1].chunk.text
    assert any("every node" in p.text for p in answer.key_points)


def test_comparison_sides_in_json(seed_assistant: Assistant) -> None:
    data = seed_assistant.ask("Flannel vs Calico?").to_json()
    sides = data["comparison"]["sides"]
    assert [s["term"] for s in sides] == ["Flannel", "Calico"]
    flannel_text = " ".join(p["text"] for p in sides[0]["points"])
    assert "overlay" in flannel_text or "encapsulation" in flannel_text or "flannel" in flannel_text.lower()
    for side in sides:
        for point in side["points"]:
            assert point["text"] in side["passages"][point["passage"] - 1]["text"]


def test_outdated_commands_are_flagged_in_answers(seed_assistant: Assistant) -> None:
    data = seed_assistant.ask("export a deployment as yaml").to_json()
    rules = {w["rule"] for w in data["warnings"]}
    assert rules, data["snippets"]
    for w in data["warnings"]:
        assert w["since"] and w["source"] and w["replacement"]


def test_a_new_self_contained_question_is_not_merged_into_the_last_one() -> None:
    conv = Conversation()
    conv.add("how do I undo a rollout", "how do I undo a rollout", None)
    for fresh in ("create a pod that runs nginx", "list the services that this namespace has"):
        assert not is_followup(fresh) and rewrite(fresh, conv) == (fresh, None)
    for follow in ("how do I check it worked", "and what about daemonsets", "show the yaml"):
        assert is_followup(follow) and rewrite(follow, conv)[0] != follow


def test_a_comparison_follow_up_reaches_the_bullet_that_answers(seed_assistant: Assistant) -> None:
    conv = Conversation()
    first = seed_assistant.ask("Calico or Flannel?", conversation=conv)
    calico = next(side for side in first.comparison if side.term == "Calico")
    # Each side's points come from its own labelled list, not from the traffic-flow steps.
    assert any("does not use a overlay network" in p.text for p in calico.points), calico.points
    assert not any("169.254.1.1" in p.text for side in first.comparison for p in side.points)
    follow = seed_assistant.ask("so which is quicker?", conversation=conv)
    assert follow.rewritten and follow.comparison
    calico = next(side for side in follow.comparison if side.term == "Calico")
    assert any("improves performance" in p.text for p in calico.points), calico.points


def test_a_sentence_that_leads_into_code_is_no_key_point() -> None:
    from assistant.answer.keypoints import candidate_lines

    text = (
        "Draining moves every pod off the machine before maintenance starts.\n\n"
        "You can list the machines of your cluster with\n\n"
        "```shell\nkubectl get nodes\n```\n\n"
        "**Steps:**\n"
    )
    lines = [line for line, _ in candidate_lines(text)]
    assert lines == ["Draining moves every pod off the machine before maintenance starts."]


def test_a_line_that_only_sends_the_reader_elsewhere_is_no_key_point() -> None:
    from assistant.answer.keypoints import candidate_lines, link_density

    text = (
        "- Read about the [scheduler and its extension points](/docs/scheduling/framework/)\n"
        "- See https://example.org/runbooks/storage/how-we-resize-volumes.html for our runbook\n"
        "- A [taint](/docs/taints/) keeps pods off a node unless they tolerate it.\n"
        "- Cordon the node first, then drain it with `kubectl drain`.\n"
    )
    lines = [line for line, _ in candidate_lines(text)]
    assert lines == [
        "A [taint](/docs/taints/) keeps pods off a node unless they tolerate it.",
        "Cordon the node first, then drain it with `kubectl drain`.",
    ]
    assert link_density("no links here at all") == 0.0
    assert link_density("[all of it is a link](/x)") == 1.0


def test_a_key_point_does_not_repeat_an_offered_command(seed_assistant: Assistant) -> None:
    from assistant.answer.compose import offered_lines
    from assistant.answer.keypoints import key_points

    question = "how do I expose redis inside the cluster"
    answer = seed_assistant.ask(question)
    offered = offered_lines(answer.snippets)
    assert answer.snippets and "kubectl expose pod redis" in answer.snippets[0].snippet.code
    assert not any(p.text.strip() in offered for p in answer.key_points)
    # The rule is what keeps it out: the command group's line would otherwise be the best point.
    assert any(p.text.strip() in offered for p in key_points(parse_query(question), answer.passages))

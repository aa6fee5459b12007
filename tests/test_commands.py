"""What kubectl commands do and what questions ask for."""

from __future__ import annotations

from assistant.knowledge.kubectl import (
    action,
    kubectl_commands,
    main_request,
    requests,
    snippet_features,
    verb_form,
    wanted,
)
from assistant.rank.search import action_score


def test_actions_of_kubectl_commands() -> None:
    assert action("kubectl create deploy web --image=nginx") == ("create", "", "deployment")
    assert action("kubectl set image deploy/web web=nginx:1.25") == ("set", "image", "deployment")
    assert action("kubectl rollout undo deployment/web") == ("rollout", "undo", "deployment")
    assert action("kubectl run web --image=nginx") == ("run", "", "pod")
    assert action("k get po -A") == ("get", "", "pod")
    assert action("helm install x") is None


def test_commands_are_found_after_prompts() -> None:
    assert kubectl_commands("$ kubectl get pods\nNAME READY\n  kubectl top node\n") == [
        "kubectl get pods",
        "kubectl top node",
    ]


def test_snippet_features() -> None:
    assert snippet_features("kubectl create cronjob x --image=busybox --schedule='*/1 * * * *'\n", "shell") == {
        "lang": "shell",
        "actions": [["create", "", "cronjob"]],
        "inline": False,
        "lines": 2,
        "programs": ["create", "kubectl"],
    }
    assert snippet_features("apiVersion: batch/v1\nkind: Job\n", "yaml")["kinds"] == ["Job"]
    assert snippet_features("sudo crictl ps -a", "shell", "inline")["programs"] == ["crictl", "ps"]
    assert snippet_features("sudo crictl ps -a", "shell", "inline")["inline"] is True


def test_what_a_question_asks_for() -> None:
    verbs, resources = wanted("Create a cron job that runs every minute")
    assert "create" in verbs and resources == {"cronjob"}
    verbs, resources = wanted("Scale the web deployment up to 7 replicas")
    assert verbs == {"scale"} and resources == {"deployment"}
    verbs, resources = wanted("how can I roll a deployment back to its previous version")
    assert "rollout" in verbs and resources == {"deployment"}
    assert wanted("what is a tunnelling network") == (set(), set())


def test_inflected_verbs_are_understood() -> None:
    assert [verb_form(w) for w in "exposes listed creating running deleted patches modifying".split()] == [
        "expose", "list", "create", "run", "delete", "patch", "modify",
    ]  # fmt: skip
    assert verb_form("process") == "process" and verb_form("pods") == "pods"  # not verbs: unchanged
    assert "expose" in wanted("Create a service that exposes the deployment")[0]


def test_the_main_request_is_the_first_verb_and_the_resource_after_it() -> None:
    assert main_request("Create a service that exposes the deployment on port 6262") == (
        {"create", "run", "apply"}, "service",
    )  # fmt: skip
    assert main_request("Please list the pods") == ({"get"}, "pod")
    assert main_request("Describe the pod called web") == ({"describe"}, "pod")
    assert main_request("What is a pod?") == (set(), "")


def test_kubectl_short_names_count_only_in_commands() -> None:
    assert wanted("there are no pods on this node")[1] == {"pod", "node"}  # "no" is English here
    assert wanted("set limits on the api container")[1] == set()  # not a LimitRange
    assert wanted("why does kubectl get no hang")[1] == {"node"}  # inside a command it is the node
    assert wanted("list all ns")[1] == {"namespace"}  # short names that are not English words still count


def test_a_kind_in_an_object_name_counts_when_no_kind_is_named() -> None:
    assert wanted("print what is stored in secret-7") == ({"get"}, {"secret"})
    assert wanted("scale nginx-deployment to 3 replicas")[1] == {"deployment"}
    assert wanted("create a pod named web-service")[1] == {"pod"}  # a named kind wins over the name
    assert wanted("restart kube-proxy")[1] == set()


def test_each_listed_task_has_its_main_request() -> None:
    question = "Pod question\n* Create a namespace called x.\n* Create a pod called y.\n- Delete the pod when done"
    assert [resource for _, resource in requests(question)] == ["namespace", "pod", "pod"]
    assert requests(question)[2][0] == {"delete"}
    assert requests("Create a deployment called web") == [main_request("Create a deployment called web")]


def test_what_a_question_asks_not_to_do_is_dropped() -> None:
    verbs, resources = wanted("Create a deployment exposing port 80 (don't create a service for it)")
    assert resources == {"deployment"}
    verbs, resources = wanted("Show the yaml of a namespace without creating it")
    assert "create" not in verbs and resources == {"namespace"}


def test_the_main_request_breaks_ties() -> None:
    words = {"create", "service", "exposes", "deployment"}
    resources = {"service", "deployment"}
    main = requests("Create a service that exposes the deployment")
    expose = action_score("expose", "", "deployment", words, resources, main)
    create_service = action_score("create", "", "service", words, resources, main)
    create_deployment = action_score("create", "", "deployment", words, resources, main)
    assert expose > create_service > create_deployment


def test_command_matching_finds_the_command_that_does_the_job(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seed_assistant.ask("make a cronjob that runs on a schedule")
    assert "kubectl create cronjob nginx" in answer.snippets[0].snippet.code


ACTIONS_NOTE = """# Pod chores

## Start pods

```bash
kubectl run web --image=nginx
```

```bash
kubectl run api --image=python:3.12 --port=8000
```

```bash
kubectl run job-runner --image=busybox --restart=Never -- sleep 60
```

```bash
kubectl run debug --image=busybox -it --rm -- sh
```

## Look at a pod

```bash
kubectl describe pod web
```

## Clean up

```bash
kubectl delete pod web
```
"""


def test_each_action_asked_for_gets_a_command_before_repeats(one_note_assistant) -> None:  # type: ignore[no-untyped-def]
    assistant = one_note_assistant("pods.md", ACTIONS_NOTE)
    answer = assistant.ask("Run a pod with nginx, check the pod, then delete the pod", k=3)
    verbs = [action(kubectl_commands(s.snippet.code)[0])[0] for s in answer.snippets[:3]]  # type: ignore[index]
    assert sorted(verbs) == ["delete", "describe", "run"], verbs


def test_diversify_keeps_a_mix_spreads_actions_and_keeps_the_main_request() -> None:
    from assistant.query.parse import parse_query
    from assistant.rank.search import diversify

    # 0-2: get/describe/delete commands, 3-5: manifests, 6: a repeat delete, 7: `create job` (the main request)
    langs = ["shell"] * 3 + ["yaml"] * 3 + ["shell", "shell"]
    ranked = [(i, 1.0 - i / 10) for i in (0, 6, 3, 1, 4, 5, 2, 7)]
    matches = {0: 2.0, 1: 2.0, 2: 2.0, 3: 2.0, 4: 2.0, 5: 2.0, 6: 2.0, 7: 3.0}
    actions = {0: "get", 1: "describe", 2: "delete", 6: "get", 7: "create"}
    query = parse_query("create a job, check it, delete it")
    order = [si for si, _ in diversify(ranked, langs, matches, query, actions)]
    head = order[:5]
    assert 7 in head  # the main request's command, though ranked last
    assert 6 not in head  # a second `get job` waits while other actions have none
    assert sum(langs[si] == "yaml" for si in head) <= 2  # a matching command waits: at most 2 manifests
    assert sorted(order) == sorted(si for si, _ in ranked)  # nothing lost

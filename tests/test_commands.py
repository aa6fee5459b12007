"""What kubectl commands do and what questions ask for."""

from __future__ import annotations

from assistant.commands import action, kubectl_commands, snippet_features, wanted


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
    }
    assert snippet_features("apiVersion: batch/v1\nkind: Job\n", "yaml") == {"lang": "yaml", "kinds": ["Job"]}


def test_what_a_question_asks_for() -> None:
    verbs, resources = wanted("Create a cron job that runs every minute")
    assert "create" in verbs and resources == {"cronjob"}
    verbs, resources = wanted("Scale the deployment to 5 replicas")
    assert verbs == {"scale"} and resources == {"deployment"}
    verbs, resources = wanted("how do I roll back a deployment")
    assert "rollout" in verbs and resources == {"deployment"}
    assert wanted("what is an overlay network") == (set(), set())


def test_command_matching_finds_the_command_that_does_the_job(seed_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seed_assistant.ask("create a cronjob")
    assert "kubectl create cronjob nginx" in answer.snippets[0].snippet.code

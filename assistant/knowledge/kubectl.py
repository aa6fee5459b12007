"""What a kubectl command does, and what a question asks to do.

`kubectl create deploy web --image=nginx` has the signature ('create', 'deployment'); "Create a deployment
called web" asks for the verbs {create, apply} on the resource deployment. Matching the two finds the command
that does the job even when its section is about something broader.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from assistant.knowledge.words import word_map, word_pairs, word_set, word_sets

RUNNERS = word_set("command_runners")  # `sudo`, `time`, `watch`…: the command is the rest of the line
# What stands before a command's program: runners with their options (`watch -n 2`, `sudo -E`) and `VAR=value`
# assignments. (is_command reads past runners alone: for chunking, a `VAR=value` line is a command of its own.)
PREFIX = re.compile(
    rf"^(?:(?:(?:{'|'.join(sorted(RUNNERS))})(?:\s+-\w+(?:\s+[\d.]+)?)*|[A-Za-z_][A-Za-z0-9_]*=\S*)\s+)*"
)

SECOND_WORD_VERBS = word_set("kubectl_second_word_verbs")  # `kubectl create deploy web`: the resource comes next
ALIASES = word_map("kubectl_aliases")  # po → pod, deploy → deployment
IMPLIED_RESOURCE = word_map("kubectl_implied_resources")  # `kubectl run` makes a Pod, `kubectl logs` reads one
KINDS = word_map("kubernetes_kinds")  # deployment → Deployment
KINDLESS = word_set("kindless_resources")  # resources a question may name that no manifest kind names
VERBS = word_sets("kubectl_verbs")  # English → the kubectl verbs that do it
_TWO_WORDS = word_pairs("two_word_resources")  # "config map" → configmap, longer names first
_KIND_LINE = re.compile(r"^kind:\s*([A-Za-z]+)\s*$", re.M)


def fold(word: str) -> str:
    """A resource name as kubectl knows it: aliases and plurals folded, `deploy/nginx` → deployment."""
    word = word.lower().split("/")[0].split(".")[0]
    word = ALIASES.get(word, word)
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ses") and len(word) > 4:
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 2:
        word = word[:-1]
    return ALIASES.get(word, word)


# kubectl short names that are also English words: in a question they are English ("no pods", "set limits",
# "deploy nginx"); only inside a command do they name a resource.
ENGLISH_ALIASES = word_set("kubectl_english_aliases")


def fold_prose(word: str) -> str:
    """A resource named in a question's prose: plurals folded and the unambiguous short names (pvc, svc, sts),
    not the ones that are English words."""
    word = word.lower()
    if word in ENGLISH_ALIASES or word.rstrip("s") in ENGLISH_ALIASES:
        return word
    return fold(word)


def signature(command: str) -> tuple[str, ...] | None:
    """('create', 'deployment') for `kubectl create deploy x …`; None when it is not a kubectl command."""
    words = _words(command)
    if not words or words[0] not in ("kubectl", "k"):
        return None
    rest = [w for w in words[1:] if not w.startswith("-")]
    if not rest:
        return None
    verb = rest[0]
    if verb in SECOND_WORD_VERBS and len(rest) > 1:
        return verb, fold(rest[1])
    return (verb,)


def kubectl_commands(code: str) -> list[str]:
    """The kubectl command lines of a snippet (after any `$ ` prompt)."""
    lines = []
    for line in code.splitlines():
        line = line.strip()
        if line.startswith(("$ ", "> ")):
            line = line[2:].strip()
        if re.match(r"^(kubectl|k)\s", line):
            lines.append(line)
    return lines


# Words that ask for a subcommand: "roll back" is `rollout undo`, "requests and limits" is `set resources`.
SUBCOMMAND_WORDS = word_sets("kubectl_subcommand_words")
# Verbs whose next word is a subcommand, not a resource: `kubectl set image deploy/web …` acts on a deployment.
SUBCOMMAND_VERBS = word_set("kubectl_subcommand_verbs")


def _words(command: str) -> list[str]:
    if not any(q in command for q in "'\"\\"):
        return command.split()  # shlex is slow, and without quotes it splits the same way
    try:
        return shlex.split(command, comments=False)
    except ValueError:
        return command.split()


def action(command: str) -> tuple[str, str, str] | None:
    """(verb, subcommand, resource) of a kubectl command: `kubectl set image deploy/web` →
    ('set', 'image', 'deployment'); `kubectl run web` → ('run', '', 'pod')."""
    words = _words(command)
    rest = [w for w in words[1:] if not w.startswith("-")] if words and words[0] in ("kubectl", "k") else []
    if not rest:
        return None
    verb = rest[0]
    if verb in SUBCOMMAND_VERBS:
        return verb, rest[1] if len(rest) > 1 else "", fold(rest[2]) if len(rest) > 2 else ""
    if verb in SECOND_WORD_VERBS and len(rest) > 1:
        return verb, "", fold(rest[1])
    return verb, "", IMPLIED_RESOURCE.get(verb, "")


def snippet_features(code: str, lang: str, kind: str = "block") -> dict[str, object]:
    """What a snippet does, stored in the index: the actions of its kubectl commands, or its YAML kinds, the
    destructive rules its commands match, and its shape (snippet_shape)."""
    from assistant.knowledge.destructive import find

    if lang == "yaml":
        return {"lang": lang, "kinds": sorted(set(_KIND_LINE.findall(code))), **snippet_shape(code, kind)}
    actions = {a for c in kubectl_commands(code) if (a := action(c))}
    features: dict[str, object] = {"lang": lang, "actions": sorted(list(a) for a in actions)}
    if found := find(code, lang):
        features["destructive"] = found
    return features | snippet_shape(code, kind)


def snippet_shape(code: str, kind: str) -> dict[str, Any]:
    """What snippet ranking reads of a snippet's form: quoted inline in a sentence, its number of lines, and
    the program and subcommand of each line (`crictl ps`, `kubectl drain`, `etcdctl snapshot`)."""
    programs: set[str] = set()
    for line in code.splitlines():
        words = line.strip().lstrip("$").split()
        while words and ("=" in words[0] or words[0] == "sudo"):
            words = words[1:]
        programs.update(w.lower() for w in words[:2] if w[:1].isalpha())
    return {"inline": kind == "inline", "lines": code.count("\n") + 1, "programs": sorted(programs)}


def verb_form(word: str) -> str:
    """The base form VERBS knows of an inflected verb: exposes → expose, listed → list, creating → create,
    running → run. Unknown words come back unchanged."""
    if word in VERBS or len(word) < 5:
        return word
    candidates = []
    if word.endswith("s"):
        candidates += [word[:-1], word[:-2]]  # exposes, patches
    if word.endswith("ed"):
        candidates += [word[:-1], word[:-2], word[:-3]]  # deleted, listed, scaled→scale via [:-1]
    if word.endswith("ing"):
        candidates += [word[:-3], word[:-3] + "e", word[:-4]]  # listing, creating, running
    return next((c for c in candidates if c in VERBS), word)


def main_request(question: str) -> tuple[set[str], str]:
    """The kubectl verbs of the question's first verb, and the first resource after it: "Create a deployment
    … that exposes port 80 (don't create a service)" mainly asks to create a deployment."""
    words = _WORD.findall(_joined(question.lower()))
    for i, word in enumerate(words):
        if verbs := VERBS.get(verb_form(word)):
            resource = next((f for w in words[i + 1 :] if (f := fold(w)) in KINDS), "")
            return set(verbs), resource
    return set(), ""


# A question's lines and bullets, one task each ("* Create a namespace …", "* Create a pod …"), on one line too.
TASKS = re.compile(r"\n\s*(?:[*+-]\s+|\d+[.)]\s+)?|\s\*\s")


def requests(question: str) -> list[tuple[set[str], str]]:
    """The main request of each task a question lists (TASKS); a one-line question has one."""
    parts = [p for p in TASKS.split(question) if p.strip()]
    found = [r for p in parts if (r := main_request(p))[0]]
    return found or [main_request(question)]


def _joined(text: str) -> str:
    """Lower-case question text with two-word names joined ("config map" → configmap) and what it asks
    not to do dropped ("… (don't create a service)", "without creating it")."""
    text = _NEGATED.sub(" ", text)
    for phrase, word in _TWO_WORDS:
        text = text.replace(phrase, word)
    return text


_WORD = re.compile(r"[a-z][a-z-]*")
NEGATIONS = word_set("negation_words")


def negated(also: frozenset[str] = frozenset(), ends: str = ".,;:()") -> str:
    """The pattern of what a question rules out: a negation word (or one of `also`) and the rest of its clause,
    up to one of `ends` ("… (don't create a service)", "without creating it")."""
    words = "|".join(re.escape(w) for w in sorted(NEGATIONS | also))
    return rf"\b(?:{words})\b[^{re.escape(ends)}]*"


_NEGATED = re.compile(negated())


def wanted(question: str) -> tuple[set[str], set[str]]:
    """(kubectl verbs, resources) a question asks for: "Create a cron job …" → ({create, run, apply}, {cronjob}).
    Its other words count too, for subcommands ("image" → `kubectl set image`)."""
    text = _joined(question.lower())
    verbs: set[str] = set()
    resources: set[str] = set()
    for word in _WORD.findall(text):
        verbs |= VERBS.get(verb_form(word), set())
        folded = fold_prose(word)
        if folded in KINDS or folded in KINDLESS:
            resources.add(folded)
    for command in re.findall(r"\b(?:kubectl|k) [^\n.,;:?()]+", text):  # a command quoted in the question
        if found := action(command):
            verbs.add(found[0])
            if found[2]:
                resources.add(found[2])
    if not resources:  # "Get the value of secret2", "scale nginx-deployment": the kind is in the name
        resources = {kind for w in re.findall(r"[a-z0-9-]+", text) if (kind := _kind_in_name(w))}
    return verbs, resources


def _kind_in_name(name: str) -> str:
    for part in re.split(r"[-0-9]+", name):
        if len(part) > 2 and fold_prose(part) in KINDS and part != name:
            return fold_prose(part)
    return ""

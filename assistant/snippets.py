"""Snippets: the commands and manifests inside notes, byte-exact. A shell block becomes one snippet per
group of commands under a comment line, a YAML block one per document, inline `commands` in prose one each;
a docs page that references an example manifest gets it linked as a snippet of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from assistant.markup import clean_markup
from assistant.model import Chunk, Snippet

SHELL_LANGS = {"bash", "sh", "shell", "console", "zsh", "terminal", "shell-session", "powershell", "cmd"}
YAML_LANGS = {"yaml", "yml"}
NO_LANG = {"none", "text", "plaintext", "plain", "output", "txt", "log"}
COMMAND_WORDS = {
    "kubectl", "k", "docker", "helm", "kubeadm", "minikube", "kind", "crictl", "etcdctl", "systemctl",
    "journalctl", "curl", "wget", "git", "pip", "apt", "apt-get", "yum", "dnf", "openssl", "ssh", "sudo",
    "kustomize", "istioctl", "calicoctl", "velero", "podman", "nerdctl", "ctr", "cfssl", "kubelet", "export",
    "echo", "cat", "mkdir", "cd", "ls", "chmod", "tar", "make", "python", "python3", "uvicorn", "nslookup",
}  # fmt: skip
DOCKERFILE_WORDS = ("FROM ", "RUN ", "COPY ", "CMD ", "WORKDIR ", "EXPOSE ", "ENTRYPOINT ", "ADD ", "ENV ")

# A usage synopsis (`kubectl top pod [NAME | -l label]`, `kubectl apply [flags]`) describes a command's shape;
# it is not a command to run.
_USAGE = re.compile(
    r"\[(?:flags|options|NAME|TYPE|-)[^\]]*\]|\[[^\]]*\|[^\]]*\]|\$ \w+ \["
    r"|^\s*kubectl(?: [a-z][\w-]*)* [A-Z][A-Z_]{2,}\b"  # `kubectl drain NODE`: an upper-case slot, not a value
)
# Markdown ends lines at \n, \r\n and \r only; str.splitlines() also splits at \f, \v, \x1c-\x1e, \x85, \u2028
# and \u2029, which would shift every line number after one of them away from markdown-it's token maps.
SOURCE_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def inline_text(token: Any) -> str:
    """Visible text of an inline token: `<a name>` tags and other inline HTML are not part of it."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return clean_markup("".join(parts)).strip()


def _normalise_lang(info: str, code: str) -> str:
    word = info.strip().split()[0].lower() if info.strip() else ""
    word = word.strip("{}.")
    if word in NO_LANG:
        word = ""  # ```none / ```text mark program output in the Kubernetes docs
    if word in SHELL_LANGS:
        lang = "shell"
    elif word in YAML_LANGS:
        lang = "yaml"
    elif word:
        return word
    else:
        lang = _infer_lang(code)
    body = [ln for ln in code.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if (
        lang == "shell"
        and body
        and body[0].startswith("FROM ")
        and all(ln.startswith(DOCKERFILE_WORDS) or ln[:1].isspace() for ln in body)
    ):
        return "dockerfile"
    return lang


def _infer_lang(code: str) -> str:
    stripped = [ln.strip() for ln in code.splitlines() if ln.strip()]
    if any(
        ln.lstrip("$ ").split(" ")[0] in ("kubectl", "helm", "kubeadm", "docker", "kind", "minikube") for ln in stripped
    ):
        return "shell"
    if re.search(r"^kind:\s*\w+", code, re.M) and re.search(r"^apiVersion:", code, re.M):
        return "yaml"
    return ""


def _comment_text(line: str) -> str:
    return line.strip().lstrip("#").strip()


def fence_snippets(tok: Any, path: str, headings: tuple[str, ...], context: str) -> list[Snippet]:
    code: str = tok.content
    if not code.strip():
        return []
    lang = _normalise_lang(tok.info, code)
    if lang == "shell" and all(_USAGE.search(ln) for ln in code.splitlines() if ln.strip()):
        return []  # a usage synopsis: shown in its passage, not offered as a command
    first = tok.map[0] + (2 if tok.type == "fence" else 1)  # 1-based line of the first code line
    label = _label(context, headings)
    if lang == "shell":
        groups = list(_shell_groups(code))
        if len(groups) > 1:
            return [
                Snippet(c, lang, g_label or label, path, first + a, first + b - 1, headings, "group", context)
                for a, b, c, g_label in groups
            ]
    if lang == "yaml":
        return list(yaml_docs(code, first, path, headings, context, label))
    if not lang:
        return []  # program output and other unlabelled text: shown in passages, not offered as snippets
    n = code.count("\n") or 1
    return [
        Snippet(
            code,
            lang,
            label,
            path,
            first,
            first + n - 1,
            headings,
            lang == "dockerfile" and "dockerfile" or "block",
            context,
        )
    ]


def _label(context: str, headings: tuple[str, ...]) -> str:
    text = re.sub(r"\S*https?://\S+", " ", context)  # a bare link (an image's address) names nothing
    text = " ".join(text.split()).rstrip(":").strip()
    if text and len(text) <= 100:
        return text
    if text:
        return text[:97].rsplit(" ", 1)[0] + "…"
    return headings[-1] if headings else ""


def _shell_groups(code: str) -> Iterator[tuple[int, int, str, str]]:
    """(first line, end line, code, label) per group of commands: a comment line opens a group, and a blank
    line ends one (the commands after it keep the last comment as their label)."""
    lines = SOURCE_LINE.findall(code)
    label = ""
    start: int | None = None
    pending_comment: list[str] = []

    def emit(end: int) -> Iterator[tuple[int, int, str, str]]:
        if start is not None:
            body = "".join(lines[start:end]).rstrip("\n") + "\n"
            yield start, end, body, label

    for idx, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("#") and not stripped.startswith("#!"):
            if start is not None:
                yield from emit(idx)
                start = None
            pending_comment.append(_comment_text(line))
            continue
        if not stripped:
            if start is not None:
                yield from emit(idx)
                start = None
            continue
        if pending_comment:
            label = " ".join(c for c in pending_comment if c)
            pending_comment = []
        if start is None:
            start = idx
    yield from emit(len(lines))


def yaml_docs(
    code: str,
    first: int,
    path: str,
    headings: tuple[str, ...],
    context: str,
    label: str,
    kind: str = "yaml-doc",
) -> Iterator[Snippet]:
    lines = SOURCE_LINE.findall(code)
    bounds = [-1] + [i for i, ln in enumerate(lines) if re.match(r"^---\s*(#.*)?$", ln)] + [len(lines)]
    docs = [(bounds[k] + 1, bounds[k + 1]) for k in range(len(bounds) - 1)]
    for a, b in docs:
        while a < b and not lines[a].strip():
            a += 1
        while b > a and not lines[b - 1].strip():
            b -= 1
        content = [ln for ln in lines[a:b] if ln.strip() and not ln.lstrip().startswith("#")]
        if not content:
            continue
        body = "".join(lines[a:b])
        yield Snippet(
            body,
            "yaml",
            _yaml_label(lines[a:b]) or label,
            path,
            first + a,
            first + b - 1,
            headings,
            kind if len(docs) > 1 or kind != "yaml-doc" else "yaml-doc",
            context,
        )


def _yaml_label(lines: list[str]) -> str:
    comments = []
    for ln in lines:
        if ln.lstrip().startswith("#"):
            comments.append(_comment_text(ln))
        else:
            break
    kind = next((m.group(1) for ln in lines if (m := re.match(r"^kind:\s*(\S+)", ln))), "")
    name = next((m.group(1) for ln in lines if (m := re.match(r"^  name:\s*(\S+)", ln))), "")
    what = " ".join(x for x in (kind, name) if x)
    label = " ".join(c for c in comments if c)
    return f"{label} ({what})" if label and what else label or what


def inline_snippets(tok: Any, path: str, headings: tuple[str, ...]) -> list[Snippet]:
    """Commands written as inline code in prose, e.g. **Run Container:** `docker run …`."""
    snippets = []
    line = tok.map[0] + 1
    before = ""
    for child in tok.children or []:
        if child.type in ("softbreak", "hardbreak"):
            line += 1
            before = ""
        elif child.type == "text":
            before += child.content
        elif child.type == "code_inline":
            code = child.content.strip()
            words = code.split()
            if len(words) >= 2 and words[0].lstrip("$") in COMMAND_WORDS:
                label = before.strip().strip("*_").strip().rstrip(":").strip() or (headings[-1] if headings else "")
                snippets.append(Snippet(code, "shell", label, path, line, line, headings, "inline", inline_text(tok)))
            before += code
    return snippets


_EXAMPLE_REF = re.compile(r"\(example: ([^)\s]+)\)")


def link_examples(chunks: list[Chunk]) -> list[Chunk]:
    """A docs page that shows an example manifest by reference (`{{% code_sample file="pods/pod.yaml" %}}`)
    gets that manifest as a snippet of its own, when the examples are among the notes: the page explains
    what the manifest is for. The copy keeps the manifest's own location; links are made anew each time."""
    by_suffix: dict[str, list[Snippet]] = {}
    for chunk in chunks:
        for s in chunk.snippets:
            if s.kind == "yaml-file":
                parts = s.path.split("/")
                for i in range(len(parts)):
                    by_suffix.setdefault("/".join(parts[i:]), []).append(s)
    out = []
    for chunk in chunks:
        own = tuple(s for s in chunk.snippets if s.kind != "example")
        linked = []
        for ref in _EXAMPLE_REF.findall(chunk.text) if by_suffix else ():
            for s in by_suffix.get(ref, ()):
                before = [ln for ln in chunk.text[: chunk.text.find(ref)].splitlines() if ln.strip()]
                context = before[-1].strip() if before else ""
                linked.append(
                    replace(
                        s,
                        headings=chunk.headings,
                        kind="example",
                        context=context,
                        label=_label(context, chunk.headings) or s.label,
                    )
                )
        if linked or len(own) != len(chunk.snippets):
            chunk = replace(chunk, snippets=own + tuple(linked))
        out.append(chunk)
    return out

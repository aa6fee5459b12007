"""Notes → chunks: one chunk per heading section, snippets (commands, YAML documents) as first-class values.

Markdown is parsed with markdown-it-py; only Hugo shortcodes and HTML comments, which are not Markdown,
are cleaned with regular expressions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from assistant.model import Chunk, Snippet

CHUNKER_VERSION = "6"
MAX_CHUNK_CHARS = 1500
MAX_HEADINGS = 2000  # beyond this a file is chunked by size alone (pathological inputs)

SHELL_LANGS = {"bash", "sh", "shell", "console", "zsh", "terminal", "shell-session", "powershell", "cmd"}
YAML_LANGS = {"yaml", "yml"}
COMMAND_WORDS = {
    "kubectl", "k", "docker", "helm", "kubeadm", "minikube", "kind", "crictl", "etcdctl", "systemctl",
    "journalctl", "curl", "wget", "git", "pip", "apt", "apt-get", "yum", "dnf", "openssl", "ssh", "sudo",
    "kustomize", "istioctl", "calicoctl", "velero", "podman", "nerdctl", "ctr", "cfssl", "kubelet", "export",
    "echo", "cat", "mkdir", "cd", "ls", "chmod", "tar", "make", "python", "python3", "uvicorn", "nslookup",
}  # fmt: skip
DOCKERFILE_WORDS = ("FROM ", "RUN ", "COPY ", "CMD ", "WORKDIR ", "EXPOSE ", "ENTRYPOINT ", "ADD ", "ENV ")

_SHORTCODE = re.compile(r"\{\{[<%]\s*(/?)\s*([\w.-]+)(.*?)\s*/?[>%]\}\}", re.S)
_SHORTCODE_ARG = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
# Layout HTML (the generated reference pages' option tables); `<podName>`-style slots are not tags.
_HTML_TAG = re.compile(
    r"</?(?:table|thead|tbody|tr|td|th|colgroup|col|p|br|div|span|em|strong|b|i|ul|ol|li|pre|sup|sub|a)\b[^>]*>",
    re.I,
)
_ENTITIES = {"&nbsp;": " ", "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&#39;": "'"}
# A usage synopsis (`kubectl top pod [NAME | -l label]`, `kubectl apply [flags]`) describes a command's shape;
# it is not a command to run.
_USAGE = re.compile(r"\[(?:flags|options|NAME|TYPE|-)[^\]]*\]|\[[^\]]*\|[^\]]*\]|\$ \w+ \[")
# Markdown ends lines at \n, \r\n and \r only; str.splitlines() also splits at \f, \v, \x1c-\x1e, \x85, \u2028
# and \u2029, which would shift every line number after one of them away from markdown-it's token maps.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_HEADING_WORDS = {
    "prerequisites": "Before you begin",
    "objectives": "Objectives",
    "whatsnext": "What's next",
    "cleanup": "Cleaning up",
    "synopsis": "Synopsis",
    "options": "Options",
    "seealso": "See also",
    "parent_options": "Options inherited from parent commands",
    "examples": "Examples",
}


def clean_markup(text: str) -> str:
    """Hugo shortcodes and HTML comments are markup, not content: keep only what a reader would see."""

    def shortcode(m: re.Match[str]) -> str:
        closing, name, rest = m.group(1), m.group(2), m.group(3)
        if closing:
            return ""
        args = dict(_SHORTCODE_ARG.findall(rest))
        if name == "heading":
            word = rest.strip().strip('"')
            return _HEADING_WORDS.get(word, word.capitalize())
        if "text" in args:
            return args["text"]
        if name in ("glossary_tooltip", "glossary_definition") and "term_id" in args:
            return args["term_id"].replace("-", " ")
        if name in ("code_sample", "codenew", "code") and "file" in args:
            return f"(example: {args['file']})"
        return ""

    text = _SHORTCODE.sub(shortcode, _HTML_COMMENT.sub("", text))
    if "<" in text or "&" in text:
        text = _HTML_TAG.sub("", text)
        for entity, char in _ENTITIES.items():
            text = text.replace(entity, char)
    return text


@cache
def _parser() -> Any:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.front_matter import front_matter_plugin

    return MarkdownIt("commonmark").enable("table").use(front_matter_plugin)


@dataclass
class _Section:
    headings: tuple[str, ...]
    heading_line: int | None  # 0-based line of the heading, None before the first heading
    blocks: list[tuple[int, int]] = field(default_factory=list)  # top-level block line ranges, 0-based [a, b)
    snippets: list[Snippet] = field(default_factory=list)


def _inline_text(token: Any) -> str:
    """Visible text of an inline token: `<a name>` tags and other inline HTML are not part of it."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return clean_markup("".join(parts)).strip()


def _front_matter(content: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(content)
    except (yaml.YAMLError, ValueError):  # ValueError: a date that does not exist (`date: 2024-13-45`)
        return {}
    return data if isinstance(data, dict) else {}


def chunk_markdown(text: str, path: str) -> list[Chunk]:
    """Split one Markdown note into heading-section chunks with their snippets."""
    lines = _LINE.findall(text)
    tokens = _parser().parse(text)
    title = ""
    generated = False
    if tokens and tokens[0].type == "front_matter":
        meta = _front_matter(tokens[0].content)
        raw_title = meta.get("title")
        title = clean_markup(str(raw_title)).strip() if raw_title else ""
        generated = bool(meta.get("auto_generated"))
    base: tuple[str, ...] = (title,) if title else ()

    n_headings = sum(1 for t in tokens if t.type == "heading_open" and t.level == 0)
    use_headings = n_headings <= MAX_HEADINGS
    sections = [_Section(base, None)]
    stack: list[tuple[int, str]] = []
    fence_lines: set[int] = set()
    last_prose = ""
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open" and tok.level == 0 and use_headings:
            level = int(tok.tag[1])
            heading = _inline_text(tokens[i + 1]) or "(untitled)"
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            sections.append(_Section(base + tuple(h for _, h in stack), tok.map[0]))
            last_prose = ""
            i += 3
            continue
        section = sections[-1]
        if tok.type == "html_block" and tok.content.lstrip().startswith("<!--") and \
                tok.content.rstrip().endswith("-->"):
            i += 1
            continue  # an HTML comment is not content
        if tok.level == 0 and tok.map and tok.nesting >= 0 and tok.type != "front_matter":
            section.blocks.append((tok.map[0], tok.map[1]))
        if tok.type in ("fence", "code_block") and tok.map:
            fence_lines.update(range(tok.map[0], tok.map[1]))
            section.snippets.extend(_fence_snippets(tok, path, section.headings, last_prose))
        elif tok.type == "inline" and tok.map:
            section.snippets.extend(_inline_snippets(tok, path, section.headings))
            prose = _inline_text(tok)
            if prose:
                last_prose = prose
        i += 1

    chunks: list[Chunk] = []
    for section in sections:
        chunks.extend(_section_chunks(section, lines, fence_lines, path, generated))
    return chunks


def _section_chunks(
    section: _Section, lines: list[str], fence_lines: set[int], path: str, generated: bool
) -> Iterator[Chunk]:
    """One chunk per section; long sections split at block boundaries (a fence is one block)."""
    if not section.blocks:
        return
    pieces: list[list[tuple[int, int]]] = [[]]
    size = 0
    for a, b in section.blocks:
        block_size = sum(len(line) for line in lines[a:b])
        if pieces[-1] and size + block_size > MAX_CHUNK_CHARS:
            pieces.append([])
            size = 0
        pieces[-1].append((a, b))
        size += block_size
    for n, piece in enumerate(pieces):
        a, b = piece[0][0], piece[-1][1]
        body = _body(lines, a, b, fence_lines, piece)
        if not body.strip():
            continue
        start = section.heading_line if n == 0 and section.heading_line is not None else a
        last = pieces[n + 1][0][0] if n + 1 < len(pieces) else b
        snippets = tuple(s for s in section.snippets if a <= s.start_line - 1 < last)
        yield Chunk(path, start + 1, b, section.headings, body, snippets, generated)


def _body(lines: list[str], a: int, b: int, fence_lines: set[int], blocks: list[tuple[int, int]]) -> str:
    """Source lines of the blocks, fences byte-exact, markup cleaned elsewhere, no runs of blank lines."""
    out: list[str] = []
    for start, end in blocks:
        if out and out[-1].strip():
            out.append("\n")
        for idx in range(start, end):
            line = lines[idx] if idx in fence_lines else clean_markup(lines[idx])
            if idx not in fence_lines and not line.strip():
                if out and not out[-1].strip():
                    continue
                line = "\n"
            out.append(line)
    return "".join(out).strip("\n")


# --- snippets -----------------------------------------------------------------------------------------


def _normalise_lang(info: str, code: str) -> str:
    word = info.strip().split()[0].lower() if info.strip() else ""
    word = word.strip("{}.")
    if word in SHELL_LANGS:
        lang = "shell"
    elif word in YAML_LANGS:
        lang = "yaml"
    elif word:
        return word
    else:
        lang = _infer_lang(code)
    body = [ln for ln in code.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if lang == "shell" and body and body[0].startswith("FROM ") and \
            all(ln.startswith(DOCKERFILE_WORDS) or ln[:1].isspace() for ln in body):
        return "dockerfile"
    return lang


def _infer_lang(code: str) -> str:
    stripped = [ln.strip() for ln in code.splitlines() if ln.strip()]
    if any(ln.lstrip("$ ").split(" ")[0] in ("kubectl", "helm", "kubeadm", "docker", "kind", "minikube")
           for ln in stripped):
        return "shell"
    if re.search(r"^kind:\s*\w+", code, re.M) and re.search(r"^apiVersion:", code, re.M):
        return "yaml"
    return ""


def _comment_text(line: str) -> str:
    return line.strip().lstrip("#").strip()


def _fence_snippets(tok: Any, path: str, headings: tuple[str, ...], context: str) -> list[Snippet]:
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
        return list(_yaml_docs(code, first, path, headings, context, label))
    if not lang:
        return []  # program output and other unlabelled text: shown in passages, not offered as snippets
    n = code.count("\n") or 1
    return [Snippet(code, lang, label, path, first, first + n - 1, headings, lang == "dockerfile" and "dockerfile"
                    or "block", context)]


def _label(context: str, headings: tuple[str, ...]) -> str:
    text = context.strip().rstrip(":").strip()
    if text and len(text) <= 100:
        return text
    if text:
        return text[:97].rsplit(" ", 1)[0] + "…"
    return headings[-1] if headings else ""


def _shell_groups(code: str) -> Iterator[tuple[int, int, str, str]]:
    """(first line, end line, code, label) per group of commands: a comment line opens a group, and a blank
    line ends one (the commands after it keep the last comment as their label)."""
    lines = _LINE.findall(code)
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


def _yaml_docs(
    code: str, first: int, path: str, headings: tuple[str, ...], context: str, label: str, kind: str = "yaml-doc"
) -> Iterator[Snippet]:
    lines = _LINE.findall(code)
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
        yield Snippet(body, "yaml", _yaml_label(lines[a:b]) or label, path, first + a, first + b - 1, headings,
                      kind if len(docs) > 1 or kind != "yaml-doc" else "yaml-doc", context)


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


def _inline_snippets(tok: Any, path: str, headings: tuple[str, ...]) -> list[Snippet]:
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
                snippets.append(
                    Snippet(code, "shell", label, path, line, line, headings, "inline", _inline_text(tok))
                )
            before += code
    return snippets


def chunk_yaml(text: str, path: str) -> list[Chunk]:
    """A YAML file in the notes: one chunk and one snippet per document."""
    name = path.rsplit("/", 1)[-1]
    snippets = list(_yaml_docs(text, 1, path, (name,), "", name, kind="yaml-file"))
    return [
        Chunk(path, s.start_line, s.end_line, (name,), s.code.rstrip("\n"), (s,))
        for s in snippets
    ]


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
                linked.append(replace(s, headings=chunk.headings, kind="example", context=context,
                                      label=_label(context, chunk.headings) or s.label))
        if linked or len(own) != len(chunk.snippets):
            chunk = replace(chunk, snippets=own + tuple(linked))
        out.append(chunk)
    return out


def chunk_file(text: str, path: str) -> list[Chunk]:
    if path.lower().endswith((".yaml", ".yml")):
        return chunk_yaml(text, path)
    return chunk_markdown(text, path)

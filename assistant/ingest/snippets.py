"""Snippets: the commands and manifests inside notes, byte-exact. A shell block becomes one snippet per
group of commands under a comment line, a YAML block one per document, inline `commands` in prose one each;
a docs page that references an example manifest gets it linked as a snippet of its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from assistant.ingest.markup import clean_markup
from assistant.knowledge.kubectl import RUNNERS
from assistant.knowledge.words import word_set
from assistant.records import Chunk, Snippet

SHELL_LANGS = word_set("shell_langs")
YAML_LANGS = word_set("yaml_langs")
NO_LANG = word_set("output_langs")
DIAGRAM_LANGS = word_set("diagram_langs")
COMMAND_WORDS = word_set("command_programs")
# Inline code in a clause that opens with an instruction verb ("Run `…`", "To scale it, use `…`") is offered as a
# command; in any other clause ("User runs `kubectl create pod` …") it is a mention.
INSTRUCTION_VERBS = word_set("instruction_verbs")
_LEADING = word_set("instruction_lead_words")
_MODAL = re.compile(
    r"\b(?:you|we|one|i)\s+(?:can|could|may|might|should|must|need to|have to|will|would)\b"
    r"|\b(?:can|could|may|might|should|must) (?:also )?(?:be|use|run)\b|\bfor example\b|\be\.g\.|\blike\b|\bsuch as\b",
    re.I,
)
_CLAUSE_BREAK = re.compile(r"[.;:!?()\[\]]|,|\s[-–—]\s|\*\*")
DOCKERFILE_WORDS = tuple(sorted(f"{word} " for word in word_set("dockerfile_instructions")))

# A usage synopsis (`kubectl top pod [NAME | -l label]`, `kubectl apply [flags]`) describes a command's shape;
# it is not a command to run.
_USAGE = re.compile(
    r"\[(?:flags|options|NAME|TYPE|-)[^\]]*\]|\[[^\]]*\|[^\]]*\]|\$ \w+ \["
    r"|^\s*kubectl(?: [a-z][\w-]*)* [A-Z][A-Z_]{2,}\b"  # `kubectl drain NODE`: an upper-case slot, not a value
)
# Markdown ends lines at \n, \r\n and \r only; str.splitlines() also splits at \f, \v, \x1c-\x1e, \x85, \u2028
# and \u2029, which would shift every line number after one of them away from markdown-it's token maps.
SOURCE_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def is_instruction(before: str) -> bool:
    """Whether inline code that follows this text (its paragraph up to the code) is meant to be run: its clause
    is empty ("**Run Container:** `docker run …`", a list item that is the command), holds a modal ("you can
    …", "for example"), or opens with an instruction verb ("To see them, run `…`")."""
    clause = _CLAUSE_BREAK.split(before)[-1]
    if _MODAL.search(clause):
        return True
    words = re.findall(r"[a-z][a-z'-]*", clause.lower())
    while words and words[0] in _LEADING:
        words = words[1:]
    return not words or words[0] in INSTRUCTION_VERBS


_PROGRAM = re.compile(r"[a-z][\w.+-]*")
_TABULAR = re.compile(r"\S {2,}\S|\t|(?:^|\s)\d+/\d+(?:\s|$)")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def is_command(line: str, known_only: bool = False) -> bool:
    """Whether one line reads as a shell command: a known CLI, a path (`./run.sh`, `/usr/bin/x`), a variable
    assignment, or (unless `known_only`) a lower-case program name; not program output (`NAME  READY`,
    `pod/web created`, `192.168.49.2`), and not prose with a slash in a subcommand's slot (`docker run/build`)."""
    text = line.strip()
    if text.startswith("$ "):
        text = text[2:].strip()
    words = text.split()
    while words and words[0] in RUNNERS and len(words) > 1:
        words = words[1:]
    if not words:
        return False
    first = words[0]
    if _ASSIGNMENT.match(first) or first.startswith(("./", "../", "/", "~/")):
        return True
    if len(words) > 1 and re.fullmatch(r"[a-z]+/[a-z]+", words[1]) and first in COMMAND_WORDS:
        return False  # `docker run/build`: two commands named in prose
    if first in COMMAND_WORDS:
        return True
    if known_only or not _PROGRAM.fullmatch(first):
        return False
    if _TABULAR.search(text):
        return False  # columns (`web   1/1   Running`): a program's output
    return not (text.endswith(".") and len(words) > 3 and not any(w.startswith("-") for w in words))


# What kubectl prints after it acted: `deployment.apps/web created`, `deployment "web" successfully rolled out`.
_RESULT = re.compile(
    r"^[a-z][\w.-]*(?:/[\w.-]+)?(?: \"[^\"]*\")? (?:created|configured|deleted|unchanged|patched|labeled|annotated"
    r"|scaled|restarted|exposed|cordoned|uncordoned|drained|evicted|autoscaled|paused|resumed|rolled back"
    r"|successfully rolled out|image updated|env updated)\b"
)


def is_output(line: str) -> bool:
    """Whether a line of a shell block (or of a comment) reads as a program's output: columns (`NAME   READY`,
    `web   1/1`) that are no known command, or kubectl's report of what it did (`pod/web created`)."""
    text = line.strip()
    return bool(_RESULT.match(text)) or (bool(_TABULAR.search(text)) and not is_command(text, known_only=True))


def _first_command(code: str) -> int:
    """Index of the first source line of a shell snippet that reads as a command (comments and blanks skipped
    before it count as not), -1 when none does. 0 also when the snippet opens with comments then a command."""
    lines = SOURCE_LINE.findall(code)
    for k, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if is_command(line):
            return 0 if all(not x.strip() or x.lstrip().startswith("#") for x in lines[:k]) else k
    return -1


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


SHELL_PROGRAMS = word_set("shell_programs")  # a fence with no language holding their commands is shell


def _infer_lang(code: str) -> str:
    stripped = [ln.strip() for ln in code.splitlines() if ln.strip()]
    if any(ln.lstrip("$ ").split(" ")[0] in SHELL_PROGRAMS for ln in stripped):
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
    if lang in DIAGRAM_LANGS:
        return []  # a diagram's source: shown in its passage, never offered to run
    if lang == "shell" and all(_USAGE.search(ln) for ln in code.splitlines() if ln.strip()):
        return []  # a usage synopsis: shown in its passage, not offered as a command
    first = tok.map[0] + (2 if tok.type == "fence" else 1)  # 1-based line of the first code line
    label = _label(context, headings)
    if lang == "shell":
        # Program output or prose in a shell fence is shown in its passage, not offered to run: each group starts
        # at its first command line, and a group with none is not offered.
        groups = [(a + k, b, c, g_label) for a, b, c, g_label in _shell_groups(code) if (k := _first_command(c)) >= 0
                  for c in ["".join(SOURCE_LINE.findall(c)[k:])]]  # fmt: skip
        if len(groups) > 1 or (groups and (_first_command(code) != 0 or groups[0][2].strip() != code.strip())):
            return [
                Snippet(c, lang, g_label or label, path, first + a, first + b - 1, headings, "group", context)
                for a, b, c, g_label in groups
            ]
        if not groups:
            return []
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


LABEL_CHARS = 100
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\d])")
_DANGLING = word_set("dangling_words")  # a clause does not end on these: "… by using", "… for the"


def _label(context: str, headings: tuple[str, ...]) -> str:
    """A code block's label: the last sentence of the prose right before it when that is a whole clause that
    fits a line ("Create a Deployment based on the YAML file:"), else the section's heading. Never a fragment
    ("(example", "Use", "hardware (e.g.") and never cut mid-sentence."""
    text = re.sub(r"\S*https?://\S+", " ", context)  # a bare link (an image's address) names nothing
    text = " ".join(text.split())
    last = _SENTENCE_END.split(text)[-1].rstrip(":").strip() if text else ""
    if is_whole_clause(last):
        return last
    return headings[-1] if headings else ""


def is_whole_clause(text: str) -> bool:
    """A label that reads on its own: a line long at most, two words or more, opening like a sentence, brackets
    closed, not ending on a word that needs more after it."""
    words = text.split()
    return (
        0 < len(text) <= LABEL_CHARS
        and len(words) >= 2
        and (text[0].isupper() or text[0] in "`*_\"'" or text[0].isdigit())
        and text.count("(") == text.count(")")
        and text.count("`") % 2 == 0
        and words[-1].lower().rstrip(".,;") not in _DANGLING
    )


_PROMPT_LINE = re.compile(r"\s*\$ ")


def _comment_label(comments: list[str]) -> str:
    """A group's label from the comment lines above it: the first sentence of the nearest comment that reads as
    a label, at most a line. A run of comments may hold commented-out output or commands, which are no label,
    and a paragraph wrapped over several lines (a line that opens in lower case goes on from the one above)."""
    paragraphs: list[str] = []
    for text in comments:
        if not text or is_output(text) or is_command(text, known_only=True):
            paragraphs.append("")
        elif paragraphs and paragraphs[-1] and text[0].islower() and not paragraphs[-1].endswith((".", "!", "?", ":")):
            paragraphs[-1] += " " + text
        else:
            paragraphs.append(text)
    for text in reversed([p for p in paragraphs if p]):
        first = _SENTENCE_END.split(text)[0].strip()
        if len(first) <= LABEL_CHARS and re.search(r"[A-Za-z]{2}", first):
            return first.rstrip(":.")
    return ""


def _shell_groups(code: str) -> Iterator[tuple[int, int, str, str]]:
    """(first line, end line, code, label) per group of commands: a comment line opens a group, and a blank
    line ends one (the commands after it keep the last comment as their label). In a block that marks its
    commands with a `$ ` prompt, the lines after a command (but its `\\` continuations) are its output: they
    end the group and are not offered."""
    lines = SOURCE_LINE.findall(code)
    prompted = any(_PROMPT_LINE.match(line) for line in lines)
    heredoc = "<<" in code  # a here-document's lines are input, whatever they look like
    label = ""
    start: int | None = None
    pending_comment: list[str] = []
    output = False  # in a block without prompts: after a command, lines of its output until a blank line

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
            output = False
            continue
        continued = idx > 0 and start is not None and lines[idx - 1].rstrip().endswith("\\")
        if prompted and not _PROMPT_LINE.match(line) and not continued:
            if start is not None:  # output of the command above
                yield from emit(idx)
                start = None
            continue
        if not prompted and not heredoc and not continued and (start is not None or output):
            if is_output(line) or (output and not is_command(line, known_only=True)):
                if start is not None:  # the output of the command above
                    yield from emit(idx)
                    start = None
                output = True
                continue
            output = False
        if pending_comment:
            label = _comment_label(pending_comment)
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
    label = _comment_label(comments)
    return f"{label} ({what})" if label and what else label or what


def inline_snippets(tok: Any, path: str, headings: tuple[str, ...]) -> list[Snippet]:
    """Commands written as inline code in prose, e.g. **Run Container:** `docker run …`."""
    snippets = []
    line = tok.map[0] + 1
    before = ""
    children = tok.children or []
    for n, child in enumerate(children):
        if child.type in ("softbreak", "hardbreak"):
            line += 1
            before += " "  # a hard-wrapped sentence goes on
        elif child.type == "text":
            before += child.content
        elif child.type == "code_inline":
            code = child.content.strip()
            after = children[n + 1].content if n + 1 < len(children) and children[n + 1].type == "text" else ""
            if (
                len(code.split()) >= 2
                and is_command(code, known_only=True)
                and is_instruction(before)
                and not _names_a_command(code, after)
            ):
                snippets.append(
                    Snippet(code, "shell", _inline_label(before, headings), path, line, line, headings, "inline",
                            inline_text(tok))
                )  # fmt: skip
            before += code
    return snippets


def _names_a_command(code: str, after: str) -> bool:
    """`kubectl drain` in "use `kubectl drain` to evict the pods": a program and a subcommand, no arguments, with
    the sentence going on after it, names a command; it is not one to run as it stands."""
    words = code.split()
    return len(words) == 2 and not words[1].startswith("-") and bool(re.match(r"\s*[\w(]", after))


def _inline_label(before: str, headings: tuple[str, ...]) -> str:
    """An inline command's label: the text before it when that is a whole label ("**Run Container:**"), else
    the section's heading: never a fragment of the sentence around it."""
    label = before.strip().strip("*_").strip()
    if label.endswith(":") and "`" not in label:
        label = label.rstrip(":").strip().strip("*_").strip()
        if label and len(label) <= 80 and not _CLAUSE_BREAK.search(label.replace("**", "")):
            return label
    return headings[-1] if headings else ""


_EXAMPLE_REF = re.compile(r"\(example: ([^)\s]+)\)")
_EXAMPLE_OPEN = re.compile(r"\s*\(example:\s*$")


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
                head = _EXAMPLE_OPEN.sub("", chunk.text[: chunk.text.find(ref)])  # the marker's own "(example: "
                before = [ln for ln in head.splitlines() if ln.strip()]
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

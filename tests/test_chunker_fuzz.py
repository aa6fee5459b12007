"""The chunker on thousands of generated Markdown notes: it never raises, it loses no visible text, and every
fenced code block reaches the index byte-exact (in a passage, and as snippets when it names a language).

Documents are assembled from pieces whose Markdown meaning is unambiguous (blocks separated by blank lines,
prose lines starting with a letter), so the generator knows, independently of the chunker, which text a reader
sees: what is legitimately dropped is heading lines (they become `Chunk.headings`), front matter (its title
becomes the first heading), HTML comments and tags, Hugo shortcodes without a text and link reference
definitions; entities are decoded (`&gt;` is shown as `>`). Code is never cleaned.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.ingest.chunks import chunk_file, chunk_markdown, note_title
from assistant.ingest.snippets import NO_LANG, is_command
from assistant.records import Chunk

FUZZ = settings(
    max_examples=400,
    derandomize=True,  # the same documents on every run: CI failures reproduce
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Characters that are ordinary text to Markdown but not to str.splitlines(): they must not cut a line in two.
ODD = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
WORD_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éüß日本кд_-*`#.,:;!?()[]<>/\\%=+|~'\"\t"
LANGS = ["bash", "sh", "shell", "console", "zsh", "Bash", "{.bash}", "yaml", "yml", "YAML", "python", "json",
         "go", "text", "dockerfile", "rust", "k8s-manifest"]  # fmt: skip
SHELL = {"bash", "sh", "shell", "console", "zsh"}
YAML = {"yaml", "yml"}


@dataclass
class Fence:
    first_line: int  # 1-based line of the first code line
    code_lines: list[str]
    lang: str  # as the chunker normalises it ("" when the info string names none)


@dataclass
class Doc:
    lines: list[str] = field(default_factory=list)
    eol: str = "\n"
    visible: list[str] = field(default_factory=list)  # text a reader sees, which some chunk must contain
    fences: list[Fence] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    title: str = ""

    @property
    def text(self) -> str:
        return self.eol.join(self.lines) + self.eol


# Words never form markup by accident: shortcodes, comments, HTML tags and entities are cleaned away.
words = st.text(st.sampled_from(WORD_CHARS + ODD), min_size=1, max_size=10).filter(
    lambda w: not any(m in w for m in ("{{", "}}", "<!--", "-->", "--", "]:")) and not re.search(r"</?[A-Za-z]", w)
)
plain_words = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"), min_size=1, max_size=10)
letters = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéЖ")


@st.composite
def prose_line(draw: st.DrawFn) -> tuple[str, list[str]]:
    """(line, visible fragments): starts with a letter so that it can only be paragraph text."""
    first = draw(letters) + draw(st.text(st.sampled_from("abcdefghij"), max_size=5))
    rest = draw(st.lists(words, max_size=12))
    visible = [first, *rest]
    inline = draw(st.sampled_from(["", "", "", "comment", "tooltip", "note"]))
    at = draw(st.integers(0, len(rest)))
    if inline == "comment":
        rest.insert(at, f"<!-- {' '.join(draw(st.lists(plain_words, max_size=3)))} -->")
    elif inline == "tooltip":
        term = draw(plain_words)
        rest.insert(at, f'{{{{< glossary_tooltip text="{term}" term_id="{term}" >}}}}')
        visible.append(term)
    elif inline == "note":
        rest.insert(at, "{{< note >}}")
    return " ".join([first, *rest]), visible


@st.composite
def heading(draw: st.DrawFn) -> tuple[list[str], list[str], str]:
    text = " ".join(draw(st.lists(plain_words, min_size=1, max_size=5)))
    closing = draw(st.sampled_from(["", "", " #", " ###"]))
    return [f"{'#' * draw(st.integers(1, 6))} {text}{closing}"], [], text


@st.composite
def paragraph(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    lines = draw(st.lists(prose_line(), min_size=1, max_size=4))
    trailing = draw(st.sampled_from(["", "", "  ", "\\"]))  # hard breaks
    return [ln + trailing for ln, _ in lines], [v for _, vis in lines for v in vis]


@st.composite
def long_paragraph(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """~600-1800 characters, so that sections are split into several chunks (cheap for hypothesis to draw)."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    lines = [
        f"Long{n} "
        + " ".join(
            f"{rng.choice(['pod', 'node', 'svc', 'etcd', 'x' + ODD[n % len(ODD)]])}{i}"
            for i in range(rng.randint(10, 30))
        )
        for n in range(rng.randint(4, 9))
    ]
    return lines, [w for ln in lines for w in ln.split(" ")]


@st.composite
def bullet_list(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    marker = draw(st.sampled_from(["-", "*", "+", "1.", "1)"]))
    items = draw(st.lists(prose_line(), min_size=1, max_size=5))
    return [f"{marker} {ln}" for ln, _ in items], [v for _, vis in items for v in vis]


@st.composite
def quote(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    line, visible = draw(prose_line())
    return [f"> {line}"], visible


@st.composite
def table(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    cols = draw(st.integers(1, 3))
    rows = draw(st.lists(st.lists(plain_words, min_size=cols, max_size=cols), min_size=2, max_size=4))
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * cols]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return lines, [w for r in rows for w in r]


@st.composite
def indented_code(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    lines = [
        " ".join(ws) for ws in draw(st.lists(st.lists(plain_words, min_size=1, max_size=5), min_size=1, max_size=4))
    ]
    return ["    " + ln for ln in lines], lines


def _closes(line: str, char: str, length: int) -> bool:
    stripped = line.lstrip(" ")
    return len(line) - len(stripped) <= 3 and stripped.startswith(char * length)


code_line = st.one_of(
    st.text(st.sampled_from(WORD_CHARS + ODD + " {}$&"), max_size=30),
    st.sampled_from([
        "", "# a comment", "#!/bin/bash", "## not a heading", "kubectl get pods -A", "k get svc", "---",
        "--- # doc", "apiVersion: v1", "kind: Pod", "metadata:", "  name: web", "FROM alpine:3", "RUN make",
        "<!-- not a comment in code -->", '{{< glossary_tooltip text="x" term_id="x" >}}', "```", "~~~",
        "    indented", "\tkubectl apply -f x.yaml", "echo 'a  b'  ", "[ref]: http://example.com",
        "make && echo &lt;done&gt; <b>bold</b>",
    ]),
)  # fmt: skip


@st.composite
def fence(draw: st.DrawFn) -> tuple[list[str], str, list[str]]:
    char = draw(st.sampled_from("`~"))
    length = draw(st.integers(3, 5))
    lang = draw(st.sampled_from(["", "", *LANGS]))
    info = lang + draw(st.sampled_from(["", "", " title=x", " {linenos=true}"])) if lang else ""
    if char == "~":
        info += draw(st.sampled_from(["", "", " `quoted`"]))  # backticks are allowed in ~~~ info strings
    code = [ln for ln in draw(st.lists(code_line, max_size=12)) if not _closes(ln, char, length)]
    return [char * length + info, *code, char * length], info.split()[0] if info.strip() else "", code


comment = st.one_of(
    st.lists(plain_words, max_size=4).map(lambda ws: [f"<!-- {' '.join(ws)} -->"]),
    st.lists(plain_words, max_size=4).map(lambda ws: ["<!--", *ws, "-->"]),
)
shortcode = st.sampled_from([
    ["{{< note >}}"], ["{{< /note >}}"], ['{{% heading "prerequisites" %}}'], ['{{< tabs name="x" >}}'],
    ['{{< codenew file="pods/pod.yaml" >}}'],
])  # fmt: skip
markup = st.one_of(st.just(["***"]), st.just(["___"]), st.just(["[ref]: http://example.com/x"]))


def _normalise(lang: str) -> str:
    return lang.lower().strip("{}.")


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    doc = Doc(eol=draw(st.sampled_from(["\n", "\n", "\r\n"])))
    if draw(st.booleans()):
        doc.title = " ".join(draw(st.lists(plain_words, min_size=1, max_size=3)))
        doc.lines += ["---", f'title: "{doc.title}"', f"weight: {draw(st.integers(0, 99))}", "---"]
    kinds = st.sampled_from(["heading", "heading", "paragraph", "paragraph", "long", "list", "quote", "table",
                             "indented", "fence", "fence", "comment", "shortcode", "markup"])  # fmt: skip
    for kind in draw(st.lists(kinds, max_size=30)):
        if doc.lines or kind == "indented":  # indented code needs a blank line before it
            doc.lines += [""] * draw(st.integers(1, 2))
        if kind == "heading":
            lines, visible, text = draw(heading())
            doc.headings.append(text)
        elif kind == "fence":
            lines, lang, code = draw(fence())
            doc.fences.append(Fence(len(doc.lines) + 2, code, _normalise(lang)))
            visible = []
        elif kind in ("comment", "shortcode", "markup"):
            lines, visible = draw({"comment": comment, "shortcode": shortcode, "markup": markup}[kind]), []
        else:
            strategy = {"paragraph": paragraph(), "long": long_paragraph(), "list": bullet_list(),
                        "quote": quote(), "table": table(), "indented": indented_code()}[kind]  # fmt: skip
            lines, visible = draw(strategy)
        doc.lines += lines
        doc.visible += [v for v in visible if v.strip()]
    return doc


def _snippet_lines(chunks: list[Chunk], f: Fence) -> list[str]:
    last = f.first_line + len(f.code_lines) - 1
    return [
        line for c in chunks for s in c.snippets if f.first_line <= s.start_line <= last for line in s.code.split("\n")
    ]


@pytest.mark.slow
@FUZZ
@given(documents())
def test_no_visible_text_is_lost(doc: Doc) -> None:
    chunks = chunk_markdown(doc.text, "note.md")
    texts = [c.text for c in chunks]
    for fragment in doc.visible:
        assert any(fragment.strip() in t for t in texts), f"{fragment!r} is in no chunk"
    for c in chunks:
        assert c.text.strip() and 1 <= c.start_line <= c.end_line <= len(doc.lines)
        assert all(h in doc.headings or h in (doc.title, "(untitled)", note_title("note.md")) for h in c.headings)
        if doc.title:
            assert c.headings[0] == doc.title


@pytest.mark.slow
@FUZZ
@given(documents())
def test_fenced_code_is_kept_byte_exact(doc: Doc) -> None:
    chunks = chunk_markdown(doc.text, "note.md")
    for f in doc.fences:
        if not f.code_lines:
            continue
        content = doc.eol.join(f.code_lines)
        assert any(content in c.text for c in chunks), f"fence at line {f.first_line} is in no chunk"
        if not f.lang or f.lang in NO_LANG or not "".join(f.code_lines).strip():
            continue  # no language, or marked as output: shown in passages only (or typed by inference)
        found = _snippet_lines(chunks, f)
        if f.lang in SHELL:
            # Commands are grouped; the comment lines that label a group are not part of its code, and what does
            # not read as a command (program output, prose) is not offered: every command line is.
            wanted = [ln for ln in f.code_lines if is_command(ln) and not re.match(r"\s*#(?!!)", ln)]
        elif f.lang in YAML:
            wanted = [ln for ln in f.code_lines if ln.strip() and not ln.lstrip().startswith("#")
                      and not re.match(r"---\s*(#.*)?$", ln)]  # fmt: skip
        else:
            code = "\n".join(f.code_lines) + "\n"
            assert any(s.code == code for c in chunks for s in c.snippets), f"{f.lang} fence is no snippet"
            continue
        for line in wanted:
            assert line in found, f"{line!r} of a {f.lang} fence is in no snippet"


# --- anything at all: no exception, and sane line numbers ------------------------------------------------

MARKDOWNISH = "#`~-*_>[]()!<>{}%/|=+:. \t\n\r\\\"'0123456789abcxyzé日" + ODD + "\x00"
fragments = st.one_of(
    st.text(st.sampled_from(MARKDOWNISH), max_size=40),
    st.sampled_from(
        [
            "```",
            "~~~~",
            "```bash",
            "```yaml",
            "---",
            "---\n",
            "# ",
            "####### x",
            "<!--",
            "-->",
            "{{<",
            ">}}",
            '{{% heading "x" %}}',
            "    ",
            "> > > >",
            "- - -",
            "1. ",
            "\n\n",
            "|---|",
            "\r\n",
            "\ufeff",
            "[x]: y",
            "<div>",
            "</div>",
            "title: [",
            "- [ ] task",
            "&amp;",
            "&#",
        ]
    ),  # fmt: skip
)


@pytest.mark.slow
@settings(FUZZ, max_examples=600)
@given(st.lists(fragments, max_size=60).map("".join))
def test_arbitrary_text_never_raises(text: str) -> None:
    n_lines = len(re.split(r"\r\n|\r|\n", text))
    for chunk in chunk_markdown(text, "note.md"):
        assert chunk.text.strip() and 1 <= chunk.start_line <= chunk.end_line <= n_lines
        for s in chunk.snippets:
            assert 1 <= s.start_line <= s.end_line <= n_lines and s.code.strip()
    chunk_file(text, "note.yaml")


@pytest.mark.slow
@FUZZ
@given(st.lists(documents(), min_size=1, max_size=3), st.data())
def test_documents_cut_anywhere_never_raise(docs: list[Doc], data: st.DataObject) -> None:
    """Real-looking notes cut mid-block and glued together: unclosed fences, front matter without its end."""
    text = "".join(d.text for d in docs)
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    chunk_markdown(text[:a] + text[b:], "note.md")


yaml_values = st.sampled_from([
    "2024-13-45", "2024-02-30", "2001-12-14t21:59:43.10-25:00", "!!timestamp 2024-99-99", "[", "{a: [}",
    "[[[[[[[[", "!!binary zz", "&a [*a]", "*undefined", "!!python/object:os.system x", "'unterminated",
    '"\\x"', "? [a]: b", "1e400", "!!int 0x", "null", "~", "yes", "[a, b]", "{a: 1}", "Plain title", "- a",
    "|\n  block", "\t",
])  # fmt: skip
front_keys = st.sampled_from(["title", "date", "weight", "tags", "auto_generated", ""])


@settings(FUZZ, max_examples=200)
@given(st.lists(st.tuples(front_keys, yaml_values), max_size=5))
def test_any_front_matter_never_raises(pairs: list[tuple[str, str]]) -> None:
    """Front matter is YAML a user wrote: broken YAML, impossible dates, odd types are ignored, not fatal."""
    front = "\n".join(f"{key}: {value}" if key else value for key, value in pairs)
    chunks = chunk_markdown(f"---\n{front}\n---\n\n# Heading\n\nBody text.\n", "note.md")
    assert any("Body text." in c.text for c in chunks)

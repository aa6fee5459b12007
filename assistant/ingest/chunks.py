"""Notes → chunks: one chunk per heading section, snippets (commands, YAML documents) as first-class values.

Markdown is parsed with markdown-it-py; only Hugo shortcodes and HTML comments, which are not Markdown,
are cleaned with regular expressions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from typing import Any

from assistant.ingest.markup import CALLOUT, WIKILINK, clean_markup, heading_title
from assistant.ingest.snippets import SOURCE_LINE, fence_snippets, inline_snippets, inline_text, yaml_docs
from assistant.records import Chunk, Snippet

CHUNKER_VERSION = "23"
MAX_CHUNK_CHARS = 1500
MAX_HEADINGS = 2000  # beyond this a file is chunked by size alone (pathological inputs)
LABEL_CHARS = 80  # a one-line paragraph this short, right before a list, is that list's label ("Calico")
GROUP_PASSAGE_LINES = 12  # a shell fence longer than this offers its comment-labelled groups as passages


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
    labels: set[int] = field(default_factory=set)  # blocks (by index) that are short one-line paragraphs
    heads: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)  # table rows → their header lines
    groups: list[Snippet] = field(default_factory=list)  # command groups of long shell fences
    snippets: list[Snippet] = field(default_factory=list)


def _front_matter(content: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(content)
    except (yaml.YAMLError, ValueError):  # ValueError: a date that does not exist (`date: 2024-13-45`)
        return {}
    return data if isinstance(data, dict) else {}


def chunk_markdown(text: str, path: str) -> list[Chunk]:
    """Split one Markdown note into heading-section chunks with their snippets."""
    lines = SOURCE_LINE.findall(text)
    tokens = _parser().parse(text)
    base, generated = _title(tokens, path)

    n_headings = sum(1 for t in tokens if t.type == "heading_open" and t.level == 0)
    use_headings = n_headings <= MAX_HEADINGS
    sections = [_Section(base, None)]
    stack: list[tuple[int, str]] = []
    fence_lines: set[int] = set()
    diagram_lines = _diagram_lines(lines)
    last_prose = ""
    aside = False  # inside a callout: an aside, not the prose that introduces the code after it
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "blockquote_open" and tok.level == 0 and tok.map:
            aside = bool(CALLOUT.match(lines[tok.map[0]]))
            last_prose = "" if aside else last_prose  # the prose before a callout does not introduce what follows
        elif tok.type == "blockquote_close" and tok.level == 0:
            aside = False
        if tok.map and all(n in diagram_lines for n in range(tok.map[0], tok.map[1])):
            i += 1
            continue  # a diagram's source (`{{< mermaid >}}`): a reader sees a picture, not this text
        if tok.type == "heading_open" and tok.level == 0 and use_headings:
            level = int(tok.tag[1])
            heading = heading_title(inline_text(tokens[i + 1])) or "(untitled)"
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            sections.append(_Section(base + tuple(h for _, h in stack), tok.map[0]))
            last_prose = ""
            i += 3
            continue
        if not (
            tok.type == "html_block"
            and tok.content.lstrip().startswith("<!--")
            and tok.content.rstrip().endswith("-->")
        ):  # an HTML comment is not content
            prose = None if aside else last_prose
            last_prose = _content(sections[-1], tokens, i, lines, path, fence_lines, prose)
        i += 1

    chunks: list[Chunk] = []
    for section in sections:
        chunks.extend(_section_chunks(section, lines, fence_lines, path, generated, diagram_lines))
        chunks.extend(_group_chunks(section, lines, generated))
    return chunks


def _title(tokens: list[Any], path: str) -> tuple[tuple[str, ...], bool]:
    """The heading path every chunk of the note starts with (its title: the front matter's, else, with no `#`
    heading either, its file name, as Obsidian shows it), and whether the page says it was generated."""
    title = ""
    generated = False
    if tokens and tokens[0].type == "front_matter":
        meta = _front_matter(tokens[0].content)
        raw_title = meta.get("title")
        title = clean_markup(str(raw_title)).strip() if raw_title else ""
        generated = bool(meta.get("auto_generated"))
    if not title and not any(t.type == "heading_open" and t.tag == "h1" for t in tokens):
        title = note_title(path)  # an Obsidian note's title is its file name
    return ((title,) if title else ()), generated


def _content(
    section: _Section, tokens: list[Any], i: int, lines: list[str], path: str, fence_lines: set[int], prose: str | None
) -> str:
    """Token i into its section: a top-level block, the snippets of a fence or of inline code. `prose`: the last
    prose before it (None inside a callout, which is an aside: its prose introduces no code). Returns the last
    prose after it."""
    tok = tokens[i]
    if tok.level == 0 and tok.map and tok.nesting >= 0 and tok.type != "front_matter":
        if tok.type == "paragraph_open" and tok.map[1] - tok.map[0] == 1:
            if len(lines[tok.map[0]].strip()) <= LABEL_CHARS:
                section.labels.add(len(section.blocks))
        _block(section, tokens, i, lines)
    if tok.type in ("fence", "code_block") and tok.map:
        fence_lines.update(range(tok.map[0], tok.map[1]))
        found = fence_snippets(tok, path, section.headings, prose or "")
        section.snippets.extend(found)
        if tok.map[1] - tok.map[0] - 2 > GROUP_PASSAGE_LINES:
            section.groups.extend(s for s in found if s.kind == "group" and s.label)
    elif tok.type == "inline" and tok.map:
        section.snippets.extend(inline_snippets(tok, path, section.headings))
        text = inline_text(tok)
        if text and prose is not None:
            return text
    return prose or ""


_DIAGRAM_OPEN = re.compile(r"^\s*\{\{[<%]\s*mermaid\b[^}]*[>%]\}\}\s*$")
_DIAGRAM_CLOSE = re.compile(r"^\s*\{\{[<%]\s*/\s*mermaid\s*[>%]\}\}\s*$")


def _diagram_lines(lines: list[str]) -> set[int]:
    """Lines of Hugo `{{< mermaid >}}` … `{{< /mermaid >}}` diagrams, their shortcodes included."""
    found: set[int] = set()
    start = None
    for n, line in enumerate(lines):
        if start is None and "mermaid" in line and _DIAGRAM_OPEN.match(line):
            start = n
        elif start is not None and _DIAGRAM_CLOSE.match(line):
            found.update(range(start, n + 1))
            start = None
    return found


_HTML_ROW = re.compile(r"\s*(?:<tr\b|<li\b|<dt\b|<div\b|</div>\s*<div\b)", re.I)


def _block(section: _Section, tokens: list[Any], i: int, lines: list[str]) -> None:
    """A top-level block into the section: whole when it fits a passage, else split where it may be cut into
    pieces that each fit. A table by rows, every piece after the first carrying the header row and separator
    (section.heads) so it reads alone; a list by its items; HTML (the reference pages' tables) by rows, items
    or divisions; a paragraph by lines. A fence is never cut: its code stays byte-exact."""
    tok = tokens[i]
    a, b = tok.map
    if tok.type in ("fence", "code_block") or sum(len(ln) for ln in lines[a:b]) <= MAX_CHUNK_CHARS:
        section.blocks.append((a, b))
        return
    head = (a, a)
    cuts: list[int] = []
    if tok.type == "table_open":
        body = next((t for t in islice(tokens, i + 1, None) if t.type in ("tbody_open", "table_close")), None)
        if body is not None and body.type == "tbody_open" and body.map:
            head = (a, body.map[0])
            cuts = list(range(body.map[0] + 1, b))  # a table row is one source line
    elif tok.type in ("bullet_list_open", "ordered_list_open"):
        level = tok.level + 1
        for t in islice(tokens, i + 1, None):
            if t.level < level:
                break
            if t.type == "list_item_open" and t.level == level and t.map and t.map[0] > a:
                cuts.append(t.map[0])
    elif tok.type == "html_block":
        cuts = [n for n in range(a + 1, b) if _HTML_ROW.match(lines[n])] or list(range(a + 1, b))
    elif tok.type == "paragraph_open":
        cuts = list(range(a + 1, b))
    if not cuts:
        section.blocks.append((a, b))
        return
    head_size = sum(len(ln) for ln in lines[head[0] : head[1]])
    start, size = a, sum(len(ln) for ln in lines[a : cuts[0]])
    for cut, nxt in zip(cuts, [*cuts[1:], b], strict=True):
        part = sum(len(ln) for ln in lines[cut:nxt])
        if size + part > MAX_CHUNK_CHARS:
            _add(section, start, cut, a, head)
            start, size = cut, head_size
        size += part
    _add(section, start, b, a, head)


def _add(section: _Section, start: int, end: int, first: int, head: tuple[int, int]) -> None:
    section.blocks.append((start, end))
    if start != first and head[1] > head[0]:
        section.heads[(start, end)] = head


def note_title(path: str) -> str:
    """A note's title from its file name, for notes with no title of their own: `team/Node Drain.md` → "Node
    Drain", `etcd-backup_howto.md` → "etcd backup howto", `runbooks/etcd/README.md` → "etcd"."""
    parts = path.split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    if stem.lower() in ("readme", "index", "_index") and len(parts) > 1:
        stem = parts[-2]  # a folder's README or index page is named by its folder
    return " ".join(stem.replace("_", " ").replace("-", " ").split())


# What is no passage on its own: thematic breaks, image embeds (Markdown and Obsidian's ![[…]]), bare links.
_NOT_CONTENT = re.compile(r"^\s*(?:[-*_]\s*){3,}$|!\[[^\]]*\]\([^)]*\)|!\[\[[^\]]*\]\]|<[^>]+>", re.M)


def has_content(body: str) -> bool:
    """Whether a passage says anything: more than thematic breaks, image embeds and tags."""
    return bool(re.search(r"\w", _NOT_CONTENT.sub("", body)))


def is_group_passage(chunk: Chunk) -> bool:
    """A comment-labelled command group offered as a passage of its own (see _group_chunks)."""
    return (
        len(chunk.snippets) == 1
        and chunk.snippets[0].kind == "group"
        and bool(chunk.headings)
        and chunk.snippets[0].label == chunk.headings[-1]
    )


def _group_chunks(section: _Section, lines: list[str], generated: bool) -> Iterator[Chunk]:
    """Each comment-labelled command group of a long shell fence as a passage of its own: its heading path is
    the section's plus the comment, its text the comment and the commands, byte-exact. A question about one
    task ("roll back") then finds the three lines that do it rather than a fence of thirty."""
    for s in section.groups:
        first = s.start_line - 1
        while first > 0 and lines[first - 1].lstrip().startswith("#") and not lines[first - 1].startswith("#!"):
            first -= 1
        text = "".join(lines[first : s.end_line]).strip("\n")
        yield Chunk(s.path, first + 1, s.end_line, (*section.headings, s.label), text, (s,), generated)


def _section_chunks(
    section: _Section,
    lines: list[str],
    fence_lines: set[int],
    path: str,
    generated: bool,
    diagram_lines: set[int] = frozenset(),  # type: ignore[assignment]
) -> Iterator[Chunk]:
    """One chunk per section; long sections split at block boundaries (a fence is one block, and so is a short
    label line with the list it introduces). Command groups that are passages of their own stay out."""
    if not section.blocks:
        return
    pieces: list[list[tuple[int, int]]] = [[]]
    size = 0
    for a, b in _labelled_blocks(section):
        head = section.heads.get((a, b), (a, a))
        block_size = sum(len(line) for line in lines[a:b]) + sum(len(line) for line in lines[head[0] : head[1]])
        if pieces[-1] and size + block_size > MAX_CHUNK_CHARS:
            pieces.append([])
            size = 0
        pieces[-1].append((a, b))
        size += block_size
    for n, piece in enumerate(pieces):
        a, b = piece[0][0], piece[-1][1]
        body = _body(lines, fence_lines, piece, section.heads, diagram_lines)
        if not has_content(body):
            continue
        start = section.heading_line if n == 0 and section.heading_line is not None else a
        last = pieces[n + 1][0][0] if n + 1 < len(pieces) else b
        grouped = set(map(id, section.groups))
        snippets = tuple(s for s in section.snippets if a <= s.start_line - 1 < last and id(s) not in grouped)
        yield Chunk(path, start + 1, b, section.headings, body, snippets, generated, _links(lines, piece, fence_lines))


def _links(lines: list[str], blocks: list[tuple[int, int]], fence_lines: set[int]) -> tuple[str, ...]:
    """The notes the blocks' wikilinks point at, each once, in order (code is not searched)."""
    found: dict[str, None] = {}
    for a, b in blocks:
        for idx in range(a, b):
            if idx not in fence_lines and "[[" in lines[idx]:
                found.update((m.group(1).strip(), None) for m in WIKILINK.finditer(lines[idx]) if m.group(1).strip())
    return tuple(found)


def _labelled_blocks(section: _Section) -> list[tuple[int, int]]:
    """The section's blocks, each short label paragraph joined to the block right after it."""
    out: list[tuple[int, int]] = []
    for n, (a, b) in enumerate(section.blocks):
        if n - 1 in section.labels and out and out[-1] == section.blocks[n - 1]:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _body(
    lines: list[str],
    fence_lines: set[int],
    blocks: list[tuple[int, int]],
    heads: dict[tuple[int, int], tuple[int, int]],
    left_out: set[int] = frozenset(),  # type: ignore[assignment]
) -> str:
    """Source lines of the blocks, fences byte-exact, markup cleaned elsewhere, no runs of blank lines, the lines
    `left_out` (diagram sources) left out; the rows of a split table after their header."""
    out: list[str] = []
    for start, end in blocks:
        if out and out[-1].strip():
            out.append("\n")
        head = heads.get((start, end))
        for idx in [*range(*head), *range(start, end)] if head else range(start, end):
            if idx in left_out:
                continue
            line = lines[idx] if idx in fence_lines else clean_markup(lines[idx])
            if idx not in fence_lines and not line.strip():
                if out and not out[-1].strip():
                    continue
                line = "\n"
            out.append(line)
    return "".join(out).strip("\n")


def chunk_yaml(text: str, path: str) -> list[Chunk]:
    """A YAML file in the notes: one chunk and one snippet per document."""
    name = path.rsplit("/", 1)[-1]
    snippets = list(yaml_docs(text, 1, path, (name,), "", name, kind="yaml-file"))
    return [Chunk(path, s.start_line, s.end_line, (name,), s.code.rstrip("\n"), (s,)) for s in snippets]


def chunk_file(text: str, path: str) -> list[Chunk]:
    if path.lower().endswith((".yaml", ".yml")):
        return chunk_yaml(text, path)
    return chunk_markdown(text, path)

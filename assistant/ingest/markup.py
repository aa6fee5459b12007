"""Markup that is not Markdown: Hugo shortcodes, HTML comments, layout HTML and entities, Obsidian's callout
markers and wikilink brackets. A reader sees none of it, so neither do the index and the terminal view.

(markdown-it-py 4.1+ parses GitHub's alerts, five types with no title; Obsidian's callouts take any type, a
title and a fold sign, and no plugin parses wikilinks: both are read here, a line at a time.)"""

from __future__ import annotations

import re

_SHORTCODE = re.compile(r"\{\{[<%]\s*(/?)\s*([\w.-]+)(.*?)\s*/?[>%]\}\}", re.S)
_SHORTCODE_ARG = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
# Layout HTML (the generated reference pages' option tables); `<podName>`-style slots are not tags.
_HTML_TAG = re.compile(
    r"</?(?:table|thead|tbody|tr|td|th|colgroup|col|p|br|div|span|em|strong|b|i|ul|ol|li|pre|sup|sub|a)\b[^>]*>",
    re.I,
)
# `> [!TIP]- Title`: a callout, shown as a titled note; its marker is markup.
CALLOUT = re.compile(r"^([ \t]*(?:>[ \t]?)*)\[!([A-Za-z][\w-]*)\][+-]?[ \t]*(.*)$", re.M)
# `[[target]]`, `[[target#heading]]`, `[[target|alias]]`; `![[…]]` embeds a file and is left for has_content.
WIKILINK = re.compile(r"(?<!!)\[\[([^\[\]|#\n]*)(?:#([^\[\]|\n]*))?(?:\|([^\[\]\n]*))?\]\]")
# `## Examining pod logs {#examine-pod-logs}`: a heading's attributes (a custom id or class, as Hugo, kramdown
# and Pandoc write them) name its anchor; a reader sees the title alone.
_HEADING_ATTRIBUTES = re.compile(r"\s*\{\s*[#.][^{}]*\}\s*$")
_ENTITIES = {"&nbsp;": " ", "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&#39;": "'"}
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
    if "[" in text:
        text = CALLOUT.sub(_callout, text)
        text = WIKILINK.sub(_wikilink, text)
    if "<" in text or "&" in text:
        text = _HTML_TAG.sub("", text)
        for entity, char in _ENTITIES.items():
            text = text.replace(entity, char)
    return text


def heading_title(text: str) -> str:
    """A heading's visible title: its trailing attributes (`{#custom-id}`, `{.class}`) left out."""
    return _HEADING_ATTRIBUTES.sub("", text)


def _callout(m: re.Match[str]) -> str:
    """`> [!TIP] Title` → `> Title`; a callout with no title is named by its type (`> [!WARNING]` → `> Warning`).
    The title ends in a hard line break (two spaces): a line of its own, as Obsidian shows it, never joined to
    the body's first sentence."""
    prefix, kind, title = m.groups()
    return prefix + (title.rstrip() or kind.capitalize()) + "  "


def _wikilink(m: re.Match[str]) -> str:
    """What a wikilink reads as: its alias, else its target (and heading)."""
    target, heading, alias = (g.strip() if g else "" for g in m.groups())
    if alias:
        return alias
    return " > ".join(x for x in (target, heading) if x)

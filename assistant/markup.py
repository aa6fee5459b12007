"""Markup that is not Markdown: Hugo shortcodes, HTML comments, layout HTML and entities. A reader sees
none of it, so neither do the index and the terminal view."""

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
    if "<" in text or "&" in text:
        text = _HTML_TAG.sub("", text)
        for entity, char in _ENTITIES.items():
            text = text.replace(entity, char)
    return text

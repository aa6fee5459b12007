"""What the index sees of a chunk or a snippet: the texts embedded by the model and the texts BM25 counts."""

from __future__ import annotations

import re

from assistant.knowledge.words import word_map, word_set
from assistant.records import Chunk, Snippet

# How much of a snippet its descriptor for the model holds.
HEAD_LINES = 6  # its first lines…
HEAD_CHARS = 400  # …at most this long
KEYS_CHARS = 300  # a manifest's key summary


def snippet_embed_text(s: Snippet) -> str:
    """Short descriptor of a snippet for the model: where it lives, what it is called, how it starts."""
    head = "\n".join(s.code.splitlines()[:HEAD_LINES])[:HEAD_CHARS]
    if s.lang == "yaml":
        head += "\n" + yaml_keys(s.code)
    return "\n".join(
        x for x in (" > ".join(s.headings[-2:]), f"{s.label} ({KIND_WORDS.get(s.lang, s.lang)})", head) if x
    )


def yaml_keys(code: str) -> str:
    """The distinct keys of a manifest, camelCase split ("persistent Volume Claim claim Name"): a summary of
    what it sets that reaches past the first lines."""
    keys: list[str] = []
    for m in re.finditer(r"^\s*(?:- )?([A-Za-z][\w.-]*):", code, re.M):
        key = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", m.group(1))
        if key not in keys and key not in PLAIN_KEYS:
            keys.append(key)
    return " ".join(keys)[:KEYS_CHARS]


def snippet_lexical_text(s: Snippet) -> str:
    return "\n".join((" ".join(s.headings), s.label, s.label, KIND_WORDS.get(s.lang, s.lang), s.context, s.code))


# What a user calls each kind of snippet ("show me the yaml", "the dockerfile", "which command").
KIND_WORDS = word_map("snippet_kind_names")
PLAIN_KEYS = word_set("yaml_plain_keys")  # keys every manifest has: no summary of what it sets


def chunk_lexical_text(c: Chunk) -> str:
    # The section's own title counts twice: a title match says more than a passing mention (BM25F-lite).
    return " ".join(c.headings) + "\n" + (c.headings[-1] if c.headings else "") + "\n" + c.text

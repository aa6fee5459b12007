"""The word lists (data/words.json): each says what it is for, each is read, a list of words holds no word twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import assistant
from assistant.knowledge import words

PACKAGE = Path(assistant.__file__).parent
LISTS = json.loads(words.WORDS_FILE.read_text(encoding="utf-8"))["lists"]


def test_every_list_says_what_it_is_for_and_is_read() -> None:
    sources = "\n".join(p.read_text() for p in sorted(PACKAGE.rglob("*.py")))
    for name, entry in LISTS.items():
        assert sorted(entry) == ["for", "words"], name
        assert entry["for"].strip() and entry["words"], name
        assert f'"{name}"' in sources, f"{name} is read by no module"


def test_a_list_of_words_is_sorted_and_holds_each_word_once() -> None:
    for name, entry in LISTS.items():
        value = entry["words"]
        if isinstance(value, list) and all(isinstance(w, str) for w in value):
            assert value == sorted(set(value)), name


def test_the_accessors_check_the_shape() -> None:
    assert "rollout" in words.word_sets("kubectl_verbs")["roll"]
    assert words.word_map("kubectl_aliases")["deploy"] == "deployment"
    pairs = [a for a, _ in words.word_pairs("two_word_resources")]
    assert pairs.index("persistent volume claim") < pairs.index("persistent volume")  # the longer name first
    with pytest.raises(TypeError):
        words.word_set("kubectl_aliases")  # a mapping, not a list

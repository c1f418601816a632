"""The message splitter: no part over the limit, nothing lost, no tag cut in half."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.botapi.text_split import TELEGRAM_TEXT_LIMIT, split_message

words = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="<>&\n "), max_size=30)
tags = st.sampled_from(["<b>", "</b>", "<i>", "</i>", '<a href="https://x.org/a?b=1">', "</a>"])
pieces = st.one_of(words, tags, st.sampled_from([" ", "\n", "\n\n", "&amp;", "&lt;"]))
texts = st.lists(pieces, max_size=600).map("".join)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@settings(max_examples=300, deadline=None)
@given(texts, st.integers(min_value=40, max_value=400))
def test_parts_fit_lose_nothing_and_keep_tags_whole(text: str, limit: int) -> None:
    parts = split_message(text, limit)
    assert all(0 < len(part) <= limit for part in parts)
    assert squash("".join(parts)) == squash(text)
    for part in parts:
        assert part.count("<") == part.count(">"), part
        assert not re.search(r"&[a-z]*$", part) or part.endswith(";")


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    paragraphs = [f"Paragraph {n} " + "word " * 150 for n in range(20)]
    parts = split_message("\n\n".join(paragraphs))
    assert len(parts) > 1
    assert all(len(part) <= TELEGRAM_TEXT_LIMIT for part in parts)
    for part in parts:
        assert part.startswith("Paragraph")


def test_short_text_is_one_message() -> None:
    assert split_message("  Hello\n\nWorld  ") == ["Hello\n\nWorld"]

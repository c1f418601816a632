"""The splitter and the length Telegram counts, checked against the fake Bot API's HTML parser."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.botapi.text_split import (
    TELEGRAM_CAPTION_LIMIT,
    TELEGRAM_TEXT_LIMIT,
    split_message,
    telegram_length,
)
from tests.fakes.telegram.entities import parse_html, text_content, u16

words = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="<>&\n "), max_size=30)
marks = st.sampled_from(
    [" ", "\n", "\n\n", "&amp;", "&lt;", "&quot;", "&#128512;", "&#x41;", "😀", "&copy;"]
)
tag_pairs = st.sampled_from([
    ("<b>", "</b>"), ("<i>", "</i>"), ("<u>", "</u>"), ('<span class="tg-spoiler">', "</span>"),
    ('<a href="https://x.org/a?b=1&amp;c=2">', "</a>"),
    ("<a href='https://x.org/?q=a>b c'>", "</a>"),
    ("<blockquote expandable>", "</blockquote>"), ("<code>", "</code>"),
])  # fmt: skip


def _wrapped(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(tag_pairs, st.lists(children, max_size=8)).map(
        lambda pair_and_body: pair_and_body[0][0] + "".join(pair_and_body[1])
        + pair_and_body[0][1]
    )


# Well-formed HTML, as Telegram accepts it: tags nested and closed, text escaped.
html_texts = st.recursive(
    st.one_of(words, marks),
    lambda children: st.one_of(_wrapped(children), st.lists(children, max_size=8).map("".join)),
    max_leaves=400,
)
# Long ones, built by repeating a fragment, so the real limits are crossed cheaply.
long_html_texts = st.tuples(st.lists(html_texts, min_size=1, max_size=4), st.integers(20, 80)).map(
    lambda fragments_and_times: "\n\n".join(fragments_and_times[0] * fragments_and_times[1])
)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def shown(html: str) -> str:
    return parse_html(html)[0]


@settings(max_examples=150, deadline=None)
@given(html_texts)
def test_length_is_what_the_fake_bot_api_counts_in_utf16(text: str) -> None:
    assert telegram_length(text) == u16(shown(text))


@settings(max_examples=200, deadline=None)
@given(html_texts, st.integers(min_value=16, max_value=400))
def test_every_part_parses_fits_and_together_they_show_everything(text: str, limit: int) -> None:
    parts = split_message(text, limit)
    for part in parts:
        plain = shown(part)
        assert plain.strip(), part
        assert u16(plain) <= limit, part
        assert telegram_length(part) == u16(plain)
    assert squash("".join(shown(part) for part in parts)) == squash(shown(text))


@settings(max_examples=25, deadline=None)
@given(long_html_texts)
def test_the_fake_bot_api_accepts_every_part_as_a_message_and_as_a_caption(text: str) -> None:
    for part in split_message(text):
        text_content({"text": part, "parse_mode": "HTML"}, caption=False)
    for part in split_message(text, TELEGRAM_CAPTION_LIMIT):
        text_content({"caption": part, "parse_mode": "HTML"}, caption=True)


unbalanced_tags = st.sampled_from(
    ["<b>", "</b>", "<i>", "</i>", '<a href="https://x.org/a?b=1">', "</a>"]
)
malformed_texts = st.lists(st.one_of(words, unbalanced_tags, marks), max_size=600).map("".join)


@settings(max_examples=200, deadline=None)
@given(malformed_texts, st.integers(min_value=40, max_value=400))
def test_broken_markup_is_still_cut_within_the_limit_and_nothing_lost(
    text: str, limit: int
) -> None:
    # Telegram will refuse such a text; the splitter must still not loop, crash or drop words.
    parts = split_message(text, limit)
    assert all(0 < telegram_length(part) <= limit for part in parts)
    for part in parts:
        assert part.count("<") == part.count(">"), part

    def letters(html: str) -> str:
        return squash(re.sub(r"<[^>]*>", "", html))

    assert "".join(letters(part) for part in parts) == letters(text)


def test_tags_and_entities_do_not_count_but_emoji_count_twice() -> None:
    assert telegram_length('<b>Tom &amp; Jerry</b> <a href="https://x.org">go</a>') == 14
    assert telegram_length("😀&#128512;") == 4
    assert telegram_length("&copy; &amp") == len("&copy; &amp")


def test_emoji_are_counted_as_telegram_counts_them() -> None:
    assert split_message("😀" * 2048) == ["😀" * 2048]
    parts = split_message("😀" * 2049)
    assert [len(part) for part in parts] == [2048, 1]


def test_markup_does_not_use_up_the_limit() -> None:
    text = "<b>x</b>" * 4000
    assert split_message(text) == [text]


def test_a_tag_open_across_a_cut_is_closed_and_reopened() -> None:
    text = '<a href="https://x.org/a b">' + "word " * 2000 + "</a> end"
    parts = split_message(text)
    assert len(parts) == 3
    assert all(part.startswith('<a href="https://x.org/a b">word') for part in parts[:2])
    assert all(part.endswith("</a>") for part in parts[:2])
    assert parts[2].startswith('<a href="https://x.org/a b">word')
    assert parts[2].endswith("</a> end")


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    paragraphs = [f"Paragraph {n} " + "<b>word</b> " * 150 for n in range(20)]
    parts = split_message("\n\n".join(paragraphs))
    assert len(parts) > 1
    assert all(telegram_length(part) <= TELEGRAM_TEXT_LIMIT for part in parts)
    for part in parts:
        assert part.startswith("Paragraph")
    assert sum(part.count("Paragraph") for part in parts) == 20


def test_short_text_is_one_message() -> None:
    assert split_message("  Hello\n\nWorld  ") == ["Hello\n\nWorld"]

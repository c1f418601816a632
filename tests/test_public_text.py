"""Public words and names reduced to what a reader sees: invisible and direction controls go."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.donations.public_text import visible_text
from tests.conftest import Harness
from tests.donation_steps import normalise, pay, pledge, wait_for_thanks
from tests.fakes.telegram import ApiCall, FakeUser

# The controls the /progress page must never carry.
BIDI_AND_ZERO_WIDTH = (
    [chr(c) for c in range(0x200B, 0x2010)] + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2060, 0x2065)] + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\ufeff", "\u061c", "\u00ad", "\u180e"]
)


@pytest.mark.parametrize(
    "typed",
    [
        "".join(BIDI_AND_ZERO_WIDTH),
        "\u200b", "\ufeff \u200b\u00a0\u3000", "\u3164\u115f\u034f", "\u2800\u2800",
        "\u200d\ufe0f", "\U000e0067\U000e007f", "\x00\x07", " \t\n ", "",
    ],
)
def test_nothing_visible_leaves_nothing(typed: str) -> None:
    assert visible_text(typed) == ""


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("\u202eevol\u202c with courage", "evol with courage"),
        ("Cou\u200brage\ufeff à \u2066tous\u2069", "Courage à tous"),
        ("  many   spaces\u00a0\u00a0here ", "many spaces here"),
        ("\u200d👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),
        ("❤\ufe0f\u200d🔥", "❤\ufe0f\u200d🔥"),
        ("می\u200cخواهم", "می\u200cخواهم"),
        ("\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
         "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"),
        ("a\U000e0041\U000e0042b", "ab"),
        ("\u0600\u0661\u0662", "\u0600\u0661\u0662"),
        ("⠓⠑⠇⠇⠕\u2800⠺⠕⠗⠇⠙", "⠓⠑⠇⠇⠕ ⠺⠕⠗⠇⠙"),
    ],
)
def test_visible_text_keeps_what_shows(typed: str, shown: str) -> None:
    assert visible_text(typed) == shown


@given(st.text())
def test_no_bidi_control_or_lone_format_character_survives(typed: str) -> None:
    shown = visible_text(typed)
    assert not set(shown) & set(BIDI_AND_ZERO_WIDTH) - {"\u200c", "\u200d"}
    assert shown == shown.strip()
    assert "  " not in shown
    assert [char for char in shown if unicodedata.category(char) in ("Cc", "Cs", "Zs")
            and char != " "] == []
    assert visible_text(shown) == shown


async def thanked(harness: Harness, user: FakeUser, amount: str) -> ApiCall:
    """A donor pays and gets the thank-you with its buttons."""
    _, session_id = await pledge(harness, user, amount)
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    return await wait_for_thanks(harness, user, mark)


async def words_prompt(harness: Harness, user: FakeUser, amount: str) -> ApiCall:
    """A donor pays, then taps "word of support" and gets the prompt."""
    thanks = await thanked(harness, user, amount)
    mark = harness.telegram.mark()
    user.tap(thanks, "support" if amount.startswith("€") else "soutien")
    return await harness.telegram.wait_for_message(user.id, after=mark)


async def progress_text(harness: Harness, reader_id: int) -> str:
    """What /progress shows an English reader now."""
    mark = harness.telegram.mark()
    harness.user(reader_id, "en").send("/progress")
    progress = await harness.telegram.wait_for_message(reader_id, after=mark)
    return normalise(progress.rendered_text)


@pytest.mark.parametrize(
    ("language", "amount", "expected"),
    [("en", "€5", "do not show on screen"), ("fr", "5\xa0€", "ne s'affichent pas")],
)
async def test_invisible_words_are_refused_with_what_to_send_instead(
    harness: Harness, language: str, amount: str, expected: str
) -> None:
    user = harness.user(13_010 if language == "en" else 13_011, language)
    await words_prompt(harness, user, amount)
    for invisible in ["\u200b\u200c\u200d", "\u202e\u2066\u2069 \ufeff", "\u2060\u3164\u00ad"]:
        mark = harness.telegram.mark()
        user.send(invisible)
        refusal = await harness.telegram.wait_for_message(user.id, after=mark)
        assert expected in (refusal.rendered_text or ""), refusal.rendered_text
    assert "Words of support" not in await progress_text(harness, 13_012)


async def test_words_mixed_with_bidi_controls_are_published_without_them(
    harness: Harness,
) -> None:
    user = harness.user(13_013, "en")
    await words_prompt(harness, user, "€5")
    mark = harness.telegram.mark()
    user.send("\u202eevol\u202c with \u200bcourage\ufeff 👨\u200d👩\u200d👧 \u2066x\u2069")
    saved = await harness.telegram.wait_for_message(13_013, after=mark)
    assert "Thank you for your words" in (saved.rendered_text or "")
    shown = await progress_text(harness, 13_014)
    assert "“evol with courage 👨\u200d👩\u200d👧 x” — anonymous" in shown, shown


async def test_a_first_name_that_does_not_show_is_not_published(harness: Harness) -> None:
    user = harness.telegram.user(13_015, language_code="en", first_name="\u202e\u200b\u2066")
    thanks = await thanked(harness, user, "€5")
    mark = harness.telegram.mark()
    user.tap(thanks, "Show my first name")
    answer = await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery", after=mark
    )
    assert "do not show on screen" in str(answer.params.get("text"))

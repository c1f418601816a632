"""What each update reads once when it arrives: the pace a person may go at, the totals the
welcome shows, and the subscriber who comes back."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.broadcast_steps import compose, send_now
from tests.conftest import ADMIN_ID, Harness
from tests.donation_steps import normalise, open_donate_menu, pay, pledge, wait_for_thanks
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI, FakeUser
from tests.test_checkout_cap import capped_bot

PAUSED = {
    "en": "You are going a bit fast for me. Please wait a minute and try again.",
    "fr": "Vous allez un peu vite pour moi. Merci d'attendre une minute avant de réessayer.",
}
# Long enough for an answer that was coming to have come.
SILENCE_SECONDS = 1.0


async def within_one_minute_window(count: int) -> None:
    """Start at the beginning of a rate-limit window when `count` messages might not fit in
    what is left of this one (about 0.1 s each here)."""
    left = -time.time() % 60
    if left < count * 0.1 + 5:
        await asyncio.sleep(left + 0.1)


async def help_answer(harness: Harness, user: FakeUser) -> str:
    mark = harness.telegram.mark()
    user.send("/help")
    reply = await harness.telegram.wait_for_message(user.id, after=mark)
    return reply.rendered_text or ""


async def test_past_twenty_messages_a_minute_one_polite_pause_then_silence(
    harness: Harness,
) -> None:
    user = harness.user(16_001, "fr")
    await within_one_minute_window(22)
    for _ in range(20):
        assert "ce que je sais faire" in await help_answer(harness, user)
    assert await help_answer(harness, user) == PAUSED["fr"]
    mark = harness.telegram.mark()
    user.send("/help")
    await asyncio.sleep(SILENCE_SECONDS)
    assert [call for call in harness.telegram.calls[mark:] if call.chat_id == 16_001] == []


async def test_a_tap_past_the_limit_gets_the_pause_as_an_alert(harness: Harness) -> None:
    user = harness.user(16_002, "en")
    await within_one_minute_window(22)
    mark = harness.telegram.mark()
    user.send("/donate")
    menu = await harness.telegram.wait_for_message(16_002, after=mark)
    for _ in range(19):
        assert "what I can do" in await help_answer(harness, user)
    mark = harness.telegram.mark()
    user.tap(menu, "€10")
    alert = await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery", after=mark
    )
    assert alert.params["text"] == PAUSED["en"]
    assert alert.params["show_alert"] in (True, "true")
    assert harness.stripe.sessions == {}


async def test_taps_past_the_limit_spend_none_of_the_sessions_everyone_shares(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    async with capped_bot(bot_env, telegram, stripe_server, 3) as (harness, _):
        flooder = harness.user(16_008, "en")
        await within_one_minute_window(26)
        menu = await open_donate_menu(harness, flooder)
        for _ in range(19):
            await help_answer(harness, flooder)
        mark = telegram.mark()
        for _ in range(5):
            flooder.tap(menu, "€10")
        alert = await telegram.wait_for(
            lambda call: call.method == "answerCallbackQuery", after=mark
        )
        assert alert.params["text"] == PAUSED["en"]
        # The four taps after the alert go unanswered.
        await asyncio.sleep(SILENCE_SECONDS)
        assert stripe_server.sessions == {}
        link, _ = await pledge(harness, harness.user(16_009, "en"), "€10")
        assert "Give €10" in normalise(link.buttons[0][0].text)


async def test_organizers_are_never_paused(harness: Harness) -> None:
    organizer = harness.user(ADMIN_ID, "en")
    await within_one_minute_window(25)
    answers = [await help_answer(harness, organizer) for _ in range(25)]
    assert PAUSED["en"] not in answers


async def test_the_welcome_after_a_gift_shows_the_new_totals(harness: Harness) -> None:
    donor = harness.user(16_004, "en")
    _, session_id = await pledge(harness, donor, "€10")
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    await wait_for_thanks(harness, donor, mark)
    mark = harness.telegram.mark()
    harness.user(16_005, "en").send("/start")
    welcome = await harness.telegram.wait_for_message(16_005, after=mark)
    assert "€10 raised of €10,000 (0%) · 1 donor" in normalise(welcome.rendered_text)


# Two broadcasts composed in quick succession: the organizer's chat goes at one message a second.
@pytest.mark.slow
async def test_a_subscriber_marked_blocked_gets_the_news_again_after_start(
    harness: Harness,
) -> None:
    reader, returner = harness.user(16_006, "en"), harness.user(16_007, "fr")
    for user in (reader, returner):
        mark = harness.telegram.mark()
        user.send("/subscribe")
        await harness.telegram.wait_for_message(user.id, after=mark)
    # Blocked with no word from Telegram: only the broadcast's refused send tells the bot.
    harness.telegram.blocked.add(16_007)
    report = await send_now(harness, await compose(harness, "First news", "Premières nouvelles"))
    assert "Sent: 1" in (report.rendered_text or "")
    summary = await compose(harness, "Second news", "Deuxièmes nouvelles")
    assert "Ready to send to 1 subscriber" in (summary.rendered_text or "")

    harness.telegram.blocked.discard(16_007)
    mark = harness.telegram.mark()
    returner.send("/start")
    await harness.telegram.wait_for_message(16_007, after=mark)
    summary = await compose(harness, "Third news", "Troisièmes nouvelles")
    assert "Ready to send to 2 subscribers (1 in English, 1 in French)" in (
        summary.rendered_text or ""
    )

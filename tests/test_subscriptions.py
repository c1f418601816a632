"""Following the news: subscribe, unsubscribe, block and come back, and the archive."""

from __future__ import annotations

import pytest

from tests.broadcast_steps import compose, send_now
from tests.conftest import Harness


async def test_subscribe_twice_is_harmless_and_says_so(harness: Harness) -> None:
    user = harness.user(5001, "fr")
    mark = harness.telegram.mark()
    user.send("/subscribe")
    first = await harness.telegram.wait_for_message(5001, after=mark)
    assert "Vous êtes abonné" in (first.rendered_text or "")
    user.send("/subscribe")
    second = await harness.telegram.wait_for_message(5001, after=first.index + 1)
    assert "déjà abonné" in (second.rendered_text or "")
    user.send("/unsubscribe")
    third = await harness.telegram.wait_for_message(5001, after=second.index + 1)
    assert "ne recevrez plus" in (third.rendered_text or "")
    user.send("/unsubscribe")
    fourth = await harness.telegram.wait_for_message(5001, after=third.index + 1)
    assert "n'étiez pas abonné" in (fourth.rendered_text or "")


async def test_follow_button_on_the_welcome_subscribes(harness: Harness) -> None:
    user = harness.user(5002, "en")
    mark = harness.telegram.mark()
    user.send("/start")
    welcome = await harness.telegram.wait_for_message(5002, after=mark)
    user.tap(welcome, "Follow updates")
    reply = await harness.telegram.wait_for_message(5002, after=welcome.index + 1)
    assert "You are subscribed" in (reply.rendered_text or "")


# Two broadcasts composed in quick succession: the organizer's chat goes at one message a second.
@pytest.mark.slow
async def test_blocked_subscriber_gets_nothing_until_they_come_back(harness: Harness) -> None:
    reader, blocker = harness.user(5003, "en"), harness.user(5004, "en")
    for user in (reader, blocker):
        mark = harness.telegram.mark()
        user.send("/subscribe")
        await harness.telegram.wait_for_message(user.id, after=mark)
    blocker.block_bot()
    summary = await compose(harness, "First news from Calais")
    assert "Ready to send to 1 subscriber" in (summary.rendered_text or "")
    report = await send_now(harness, summary)
    assert "Sent: 1" in (report.rendered_text or "")

    blocker.unblock_bot()
    mark = harness.telegram.mark()
    blocker.send("/start")
    await harness.telegram.wait_for_message(5004, after=mark)
    summary = await compose(harness, "Second news")
    assert "Ready to send to 2 subscribers" in (summary.rendered_text or "")


async def test_language_change_moves_the_subscriber(harness: Harness) -> None:
    user = harness.user(5005, "en")
    mark = harness.telegram.mark()
    user.send("/subscribe")
    await harness.telegram.wait_for_message(5005, after=mark)
    mark = harness.telegram.mark()
    user.send("/language")
    prompt = await harness.telegram.wait_for_message(5005, after=mark)
    user.tap(prompt, "Français")
    await harness.telegram.wait_for(lambda call: call.method == "editMessageText", after=mark)
    summary = await compose(harness, "In English", "En français")
    assert "(0 in English, 1 in French)" in (summary.rendered_text or "")


@pytest.mark.slow
async def test_updates_archive_pages_newest_first_in_the_readers_language(
    harness: Harness,
) -> None:
    for english, french in (("Old news EN", "Vieille nouvelle FR"), ("New news EN", None)):
        summary = await compose(harness, english, french)
        await send_now(harness, summary)
    reader = harness.user(5006, "fr")
    mark = harness.telegram.mark()
    reader.send("/updates")
    page = await harness.telegram.wait_for_message(5006, after=mark)
    assert "Nouvelle 1 sur 2" in (page.rendered_text or "")
    assert "New news EN" in (page.rendered_text or "")
    reader.tap(page, "Plus ancienne")
    older = await harness.telegram.wait_for_edit(5006, after=page.index + 1)
    assert "Vieille nouvelle FR" in (older.rendered_text or "")
    assert older.button("Plus récente").callback_data == "upd:0"

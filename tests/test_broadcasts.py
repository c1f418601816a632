"""Organizer broadcasts through the fake Bot API: languages, errors, limits, authorization."""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis.asyncio import Redis

from bot.broadcasts.store import now_ms
from bot.storage import keys
from bot.storage.connection import text_of
from tests.broadcast_steps import add_subscribers, compose, deliveries, send_now
from tests.conftest import ADMIN_ID, Harness
from tests.fakes.telegram import ApiCall


@pytest.mark.slow
# The pauses checked here (2 s after the 429, 3 s of backoff) do not depend on the pace; at the
# default 25/s the 200 sends alone took 8 s.
@pytest.mark.parametrize("paced_harness", [100], indirect=True)
async def test_two_hundred_subscribers_each_get_one_message_in_their_language(
    paced_harness: Harness,
) -> None:
    harness = paced_harness
    audience = {10_000 + n: ("fr" if n % 3 == 0 else "en") for n in range(200)}
    blocked = [10_001, 10_002, 10_004]
    missing = 10_005
    await add_subscribers(harness.env["REDIS_URL"], audience)
    for chat_id in blocked:
        harness.telegram.blocked.add(chat_id)
    harness.telegram.fail_next("sendMessage", status=400, chat_id=missing,
                               description="Bad Request: chat not found")
    harness.telegram.fail_next("sendMessage", status=429, retry_after=2, chat_id=10_050,
                               description="Too Many Requests: retry after 2")
    harness.telegram.fail_next("sendMessage", status=502, count=2, chat_id=10_060,
                               description="Bad Gateway")
    summary = await compose(harness, "<b>News</b> from Calais #1", "<b>Nouvelles</b> de Calais #1")
    assert "Ready to send to 200 subscribers (133 in English, 67 in French)" in (
        summary.rendered_text or ""
    )
    start = harness.telegram.mark()
    report = await send_now(harness, summary)

    english = deliveries(harness.telegram, "News from Calais #1", start)
    french = deliveries(harness.telegram, "Nouvelles de Calais #1", start)
    expected = {chat for chat in audience if chat not in (*blocked, missing)}
    assert set(english) | set(french) == expected
    assert all(count == 1 for count in (english + french).values())
    assert all(audience[chat] == "fr" for chat in french)
    assert all(audience[chat] == "en" for chat in english)
    text = report.rendered_text or ""
    assert "Sent: 196" in text
    assert "Blocked (now inactive): 4" in text
    assert "Failed: 0" in text

    rate_limited = [c for c in harness.telegram.calls[start:] if c.chat_id == 10_050]
    assert [c.ok for c in rate_limited] == [False, True]
    server_errors = [c for c in harness.telegram.calls[start:] if c.chat_id == 10_060]
    assert [c.ok for c in server_errors] == [False, False, True], "5xx retried with backoff"
    assert server_errors[2].at - server_errors[0].at >= 2.9
    # Sends already on the wire when the 429 came back may land just after it; nothing later.
    others_after_429 = [
        c.at for c in harness.telegram.calls[start:]
        if c.method == "sendMessage" and c.at > rate_limited[0].at + 0.1
        and c.chat_id != ADMIN_ID
    ]
    assert min(others_after_429) - rate_limited[0].at >= 1.9, "every sender paused"

    redis = Redis.from_url(harness.env["REDIS_URL"])
    try:
        assert await redis.scard(keys.blocked_subscribers()) == 4
    finally:
        await redis.aclose()
    summary = await compose(harness, "News #2")
    assert "Ready to send to 196 subscribers" in (summary.rendered_text or "")


async def test_photo_broadcast_is_previewed_and_sent_as_a_captioned_photo(
    harness: Harness,
) -> None:
    await add_subscribers(harness.env["REDIS_URL"], {6001: "en", 6002: "fr"})
    mark = harness.telegram.mark()
    summary = await compose(harness, "Tents arrived today", "Les tentes sont arrivées", photo=True)
    previews = [c for c in harness.telegram.calls[mark:]
                if c.method == "sendPhoto" and c.chat_id == ADMIN_ID]
    assert [p.text for p in previews] == ["Tents arrived today", "Les tentes sont arrivées"]
    start = harness.telegram.mark()
    await send_now(harness, summary)
    sent = {c.chat_id: c for c in harness.telegram.calls[start:] if c.method == "sendPhoto"}
    assert sent[6001].text == "Tents arrived today"
    assert sent[6002].text == "Les tentes sont arrivées"
    assert sent[6001].params["photo"] == previews[0].params["photo"]


async def test_invalid_markup_is_caught_at_preview_time(harness: Harness) -> None:
    admin = harness.user(ADMIN_ID, "en")
    mark = harness.telegram.mark()
    admin.send("/broadcast")
    await harness.telegram.wait_for_message(ADMIN_ID, after=mark)
    admin.send("Broken <b>bold")
    ask_french = await harness.telegram.wait_for(
        lambda call: "French" in (call.rendered_text or ""), after=mark
    )
    mark = harness.telegram.mark()
    admin.tap(ask_french, "Same text")
    refusal = await harness.telegram.wait_for(
        lambda call: call.ok and "Telegram refused the English text" in (call.rendered_text or ""),
        after=mark,
    )
    assert "parse entities" in (refusal.rendered_text or "")
    mark = harness.telegram.mark()
    admin.send("Fixed <b>bold</b>")
    summary = await harness.telegram.wait_for(
        lambda call: "Ready to send" in (call.rendered_text or ""), after=mark
    )
    assert (summary.button("Send now").callback_data or "").startswith("bc:ok:")


@pytest.mark.slow
async def test_progress_message_can_cancel_a_running_broadcast(harness: Harness) -> None:
    # At the default BROADCAST_RATE of 25 per second, 300 messages take 12 s: time to cancel.
    await add_subscribers(harness.env["REDIS_URL"], {20_000 + n: "en" for n in range(300)})
    summary = await compose(harness, "Long broadcast")
    mark = harness.telegram.mark()
    admin = harness.user(ADMIN_ID, "en")
    admin.tap(summary, "Send now")
    progress = await harness.telegram.wait_for(
        lambda call: call.method == "editMessageText" and "sending…" in (call.rendered_text or ""),
        after=mark, timeout=10,
    )
    # Supporters are still answered promptly while the broadcast runs.
    asking = harness.telegram.mark()
    harness.user(20_999, "en").send("/help")
    answer = await harness.telegram.wait_for_message(20_999, after=asking, timeout=1.0)
    assert "what I can do" in (answer.rendered_text or "")
    # Tapped twice, as an impatient organizer does: both taps say it is stopping.
    stop = progress.button("Cancel this broadcast").callback_data or ""
    tapped = harness.telegram.mark()
    admin.tap_data(progress.message_id or 0, stop)
    admin.tap_data(progress.message_id or 0, stop)
    report = await harness.telegram.wait_for(
        lambda call: "was cancelled" in (call.rendered_text or ""), after=mark, timeout=15
    )
    assert _answers(harness, tapped) == ["Cancelling broadcast #1…"] * 2
    sent = sum(deliveries(harness.telegram, "Long broadcast", mark).values())
    assert 0 < sent < 300
    assert f"Sent: {sent}" in (report.rendered_text or "")
    assert f"Not sent: {300 - sent} of 300" in (report.rendered_text or "")


async def test_scheduled_broadcast_waits_for_its_time(harness: Harness) -> None:
    await add_subscribers(harness.env["REDIS_URL"], {7001: "en"})
    summary = await compose(harness, "Scheduled news")
    admin = harness.user(ADMIN_ID, "en")
    mark = harness.telegram.mark()
    admin.tap(summary, "Send at")
    await harness.telegram.wait_for_message(ADMIN_ID, after=mark)
    mark = harness.telegram.mark()
    admin.send("31/12/1999 18:00")
    refusal = await harness.telegram.wait_for_message(ADMIN_ID, after=mark)
    assert "could not read that" in (refusal.rendered_text or "")
    mark = harness.telegram.mark()
    admin.send("2099-01-01 18:00")
    refusal = await harness.telegram.wait_for_message(ADMIN_ID, after=mark)
    assert "within 60 days" in (refusal.rendered_text or "")
    mark = harness.telegram.mark()
    tomorrow = await _tomorrow_at_noon(harness)
    admin.send(tomorrow)
    summary = await harness.telegram.wait_for(
        lambda call: "It will go out on" in (call.rendered_text or ""), after=mark
    )
    admin.tap(summary, "Schedule")
    scheduled = await harness.telegram.wait_for(
        lambda call: "will go out on" in (call.rendered_text or "") and call.method
        == "editMessageText", after=mark,
    )
    assert tomorrow in (scheduled.rendered_text or "")
    await asyncio.sleep(1.5)
    assert 7001 not in deliveries(harness.telegram, "Scheduled news")

    # Time passes: the broadcast becomes due (moved in the store, as the clock would).
    redis = Redis.from_url(harness.env["REDIS_URL"])
    try:
        due = [text_of(item) for item in await redis.zrange(keys.broadcast_pending(), 0, -1)]
        await redis.zadd(keys.broadcast_pending(), {due[0]: now_ms()})
    finally:
        await redis.aclose()
    await harness.telegram.wait_for(
        lambda call: call.chat_id == 7001 and "Scheduled news" in (call.text or ""), timeout=10
    )


async def _tomorrow_at_noon(harness: Harness) -> str:
    from datetime import datetime, timedelta

    zone = harness.bot.settings.campaign.timezone
    return (datetime.now(zone) + timedelta(days=1)).strftime("%Y-%m-%d 12:00")


@pytest.mark.parametrize("intruder", [4242, 900_002])
async def test_organizer_commands_and_buttons_are_refused_to_others(
    harness: Harness, intruder: int
) -> None:
    summary = await compose(harness, "Admin only")
    user = harness.user(intruder, "en")
    for command in ("/broadcast", "/cancel"):
        mark = harness.telegram.mark()
        user.send(command)
        reply = await harness.telegram.wait_for_message(intruder, after=mark)
        assert "I don't know that command" in (reply.rendered_text or "")
    for data in ("bc:ok", "bc:same", "bc:at", "bc:edit", "bc:no", "bc:stop:1"):
        mark = harness.telegram.mark()
        user.tap_data(summary.message_id or 0, data)
        answer = await harness.telegram.wait_for(
            lambda call: call.method == "answerCallbackQuery", after=mark
        )
        assert "no longer valid" in str(answer.params.get("text"))
    assert not harness.telegram.calls_to("editMessageText")
    assert (await _broadcast_count(harness)) == 0


async def _broadcast_count(harness: Harness) -> int:
    redis = Redis.from_url(harness.env["REDIS_URL"])
    try:
        return int(await redis.zcard(keys.broadcast_archive()))
    finally:
        await redis.aclose()


def _answers(harness: Harness, after: int) -> list[str]:
    """The texts of the organizer's tap answers (alerts) since `after`."""
    return [
        str(call.params.get("text") or "") for call in harness.telegram.calls[after:]
        if call.method == "answerCallbackQuery" and call.ok
    ]


async def _wait_report(harness: Harness, after: int) -> ApiCall:
    return await harness.telegram.wait_for(
        lambda call: call.method == "editMessageText" and call.chat_id == ADMIN_ID
        and call.ok and "is complete" in (call.rendered_text or ""),
        after=after, timeout=30,
    )


async def test_send_now_tapped_twice_sends_one_broadcast_and_says_it_is_queued(
    harness: Harness,
) -> None:
    await add_subscribers(harness.env["REDIS_URL"], {8001: "en", 8002: "fr", 8003: "en"})
    summary = await compose(harness, "Twice tapped news")
    admin = harness.user(ADMIN_ID, "en")
    send_now = summary.button("Send now").callback_data or ""
    send_at = summary.button("Send at").callback_data or ""
    mark = start = harness.telegram.mark()
    # A double tap: both arrive before the bot has answered either.
    admin.tap_data(summary.message_id or 0, send_now)
    admin.tap_data(summary.message_id or 0, send_now)
    report = await _wait_report(harness, mark)
    assert "Broadcast #1 is complete" in (report.rendered_text or "")
    assert "Sent: 3" in (report.rendered_text or "")
    assert any("Broadcast #1 is already" in text for text in _answers(harness, mark))
    received = deliveries(harness.telegram, "Twice tapped news", mark)
    assert received == {8001: 1, 8002: 1, 8003: 1}

    # Later taps on the same preview, however old, say what became of it.
    mark = harness.telegram.mark()
    admin.tap_data(summary.message_id or 0, send_now)
    admin.tap_data(summary.message_id or 0, send_at)
    await harness.telegram.wait_for(
        lambda _: len(_answers(harness, mark)) == 2, after=mark
    )
    assert _answers(harness, mark) == [
        "Broadcast #1 was already sent. Nothing was sent twice."
    ] * 2
    await asyncio.sleep(0.5)
    assert sum(deliveries(harness.telegram, "Twice tapped news", start).values()) == 3
    assert await _broadcast_count(harness) == 1


async def test_send_now_retried_after_a_429_on_its_confirmation_sends_once(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    await add_subscribers(harness.env["REDIS_URL"], {8101: "en", 8102: "fr"})
    summary = await compose(harness, "Flooded news")
    admin = harness.user(ADMIN_ID, "en")
    send_now = summary.button("Send now").callback_data or ""
    harness.telegram.fail_next("answerCallbackQuery", status=429, retry_after=1)
    harness.telegram.fail_next("editMessageText", status=429, retry_after=1, chat_id=ADMIN_ID)
    mark = harness.telegram.mark()
    admin.tap_data(summary.message_id or 0, send_now)
    await harness.telegram.wait_for(
        lambda call: call.method == "editMessageText" and not call.ok, after=mark
    )
    # The organizer saw nothing happen (or an error) and taps again.
    admin.tap_data(summary.message_id or 0, send_now)
    report = await _wait_report(harness, mark)
    assert "Broadcast #1 is complete" in (report.rendered_text or "")
    answers = _answers(harness, mark)
    assert any("Broadcast #1 is already" in text for text in answers), answers
    texts = [call.rendered_text or "" for call in harness.telegram.calls[mark:]
             if call.chat_id == ADMIN_ID and call.ok]
    assert not [text for text in texts + answers if "went wrong" in text]
    assert deliveries(harness.telegram, "Flooded news", mark) == {8101: 1, 8102: 1}
    assert await _broadcast_count(harness) == 1
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_cancel_tapped_twice_discards_once_and_nothing_is_sent_after(
    harness: Harness,
) -> None:
    await add_subscribers(harness.env["REDIS_URL"], {8201: "en"})
    summary = await compose(harness, "Discarded news")
    admin = harness.user(ADMIN_ID, "en")
    cancel = summary.button("Cancel").callback_data or ""
    send_now = summary.button("Send now").callback_data or ""
    mark = harness.telegram.mark()
    admin.tap_data(summary.message_id or 0, cancel)
    admin.tap_data(summary.message_id or 0, cancel)
    await harness.telegram.wait_for_edit(ADMIN_ID, after=mark)
    await harness.telegram.wait_for(lambda _: len(_answers(harness, mark)) == 2, after=mark)
    await asyncio.sleep(0.3)
    edits = [call for call in harness.telegram.calls[mark:]
             if call.method == "editMessageText" and call.ok]
    assert [call.rendered_text for call in edits] == ["Broadcast discarded."]
    assert "This draft was already discarded." in _answers(harness, mark)

    mark = harness.telegram.mark()
    admin.tap_data(summary.message_id or 0, send_now)
    await harness.telegram.wait_for(lambda _: len(_answers(harness, mark)) == 1, after=mark)
    assert _answers(harness, mark) == ["This draft was already discarded."]
    await asyncio.sleep(1.5)
    assert 8201 not in deliveries(harness.telegram, "Discarded news")
    assert await _broadcast_count(harness) == 0


async def test_cancel_after_send_now_leaves_the_broadcast_going(harness: Harness) -> None:
    await add_subscribers(harness.env["REDIS_URL"], {8301: "fr"})
    summary = await compose(harness, "Kept news", "Nouvelles gardées")
    admin = harness.user(ADMIN_ID, "en")
    cancel = summary.button("Cancel").callback_data or ""
    mark = harness.telegram.mark()
    admin.tap(summary, "Send now")
    await harness.telegram.wait_for(
        lambda call: call.method == "editMessageText" and call.ok, after=mark
    )
    admin.tap_data(summary.message_id or 0, cancel)
    await _wait_report(harness, mark)
    assert any(text.startswith("Broadcast #1 ") for text in _answers(harness, mark))
    assert deliveries(harness.telegram, "Nouvelles gardées", mark) == {8301: 1}

"""Telegram's flood control: answers arrive after a 429, the whole bot pauses, none apologises."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.botapi.flood_control import ChatPace
from bot.botapi.send_rate import PAUSE_CHECK_SECONDS, SendRate
from bot.broadcasts.store import BroadcastContent, BroadcastStore
from bot.metrics import Metrics
from bot.storage.connection import connect
from tests.broadcast_steps import add_subscribers
from tests.conftest import ADMIN_ID, Harness, running_bot
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import ApiCall, FakeBotAPI
from tests.test_reliability_chat import no_errors_logged

# A fixture: every test here fails on an ERROR log line.
__all__ = ["no_errors_logged"]

APOLOGY = "Something went wrong"
# What "after the pause" means with retry_after=1, leaving room for the clocks' resolution.
PAUSED = 0.9


def refused(telegram: FakeBotAPI, method: str, after: int) -> ApiCall:
    """The one call of `method` since `after` that Telegram answered with 429."""
    [call] = [
        call for call in telegram.calls[after:]
        if call.method == method and call.error and call.error["error_code"] == 429
    ]
    return call


def apologies(telegram: FakeBotAPI) -> list[ApiCall]:
    return [call for call in telegram.calls if APOLOGY in (call.rendered_text or "")]


async def test_a_reply_and_a_photo_upload_under_429_arrive_after_the_pause(
    harness: Harness, no_errors_logged: None
) -> None:
    telegram, user = harness.telegram, harness.user(31_001)
    mark = telegram.mark()
    telegram.fail_next("sendPhoto", status=429, retry_after=1)
    user.send("/start")
    welcome = await telegram.wait_for_message(user.id, after=mark)
    first = refused(telegram, "sendPhoto", mark)
    assert welcome.method == "sendPhoto" and welcome.at - first.at >= PAUSED
    # The upload went again whole: the same bytes under the same field and file name.
    assert welcome.files and welcome.files == first.files
    assert welcome.filenames == first.filenames
    assert "raised of" in (welcome.rendered_text or "")

    mark = telegram.mark()
    telegram.fail_next("sendMessage", status=429, retry_after=1)
    user.send("/help")
    reply = await telegram.wait_for_message(user.id, after=mark)
    assert reply.at - refused(telegram, "sendMessage", mark).at >= PAUSED
    assert "/donate" in (reply.rendered_text or "")
    assert apologies(telegram) == []


async def test_an_edit_and_a_callback_answer_under_429_arrive_after_the_pause(
    harness: Harness, no_errors_logged: None
) -> None:
    telegram, user = harness.telegram, harness.user(31_002)
    mark = telegram.mark()
    user.send("/donate")
    menu = await telegram.wait_for_message(user.id, after=mark)
    mark = telegram.mark()
    telegram.fail_next("editMessageText", status=429, retry_after=1)
    telegram.fail_next("answerCallbackQuery", status=429, retry_after=1)
    user.tap(menu, "Monthly")
    edit = await telegram.wait_for_edit(user.id, after=mark)
    answer = await telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery" and call.ok, after=mark
    )
    assert edit.at - refused(telegram, "editMessageText", mark).at >= PAUSED
    assert answer.at - refused(telegram, "answerCallbackQuery", mark).at >= PAUSED
    # The menu now offers monthly amounts: the switch happened.
    assert any("/ month" in button.text for row in edit.buttons for button in row)
    assert apologies(telegram) == []


async def test_an_organizers_export_under_429_arrives_after_the_pause(
    harness: Harness, no_errors_logged: None
) -> None:
    telegram, admin = harness.telegram, harness.user(ADMIN_ID)
    mark = telegram.mark()
    telegram.fail_next("sendDocument", status=429, retry_after=1)
    admin.send("/export")
    document = await telegram.wait_for(
        lambda call: call.method == "sendDocument" and call.ok, after=mark
    )
    first = refused(telegram, "sendDocument", mark)
    assert document.at - first.at >= PAUSED
    assert document.files and document.files == first.files
    content = next(iter(document.files.values())).decode("utf-8-sig")
    assert content.startswith("date,")
    assert apologies(telegram) == []


async def test_a_429_pauses_every_answer_of_the_bot_not_just_the_refused_one(
    harness: Harness, no_errors_logged: None
) -> None:
    telegram = harness.telegram
    first, second = harness.user(31_003), harness.user(31_004)
    mark = telegram.mark()
    telegram.fail_next("sendMessage", status=429, retry_after=1, chat_id=first.id)
    first.send("/help")
    refusal = await telegram.wait_for(lambda call: not call.ok, after=mark)
    second.send("/help")
    answers = [
        await telegram.wait_for_message(user.id, after=mark) for user in (first, second)
    ]
    during_pause = [
        call for call in telegram.calls[refusal.index + 1:]
        if call.method != "getUpdates" and call.at - refusal.at < PAUSED
    ]
    assert during_pause == []
    assert all(answer.at - refusal.at >= PAUSED for answer in answers)


async def test_a_pause_set_by_another_process_holds_this_ones_answers(
    harness: Harness, no_errors_logged: None
) -> None:
    # Another bot process on the same Redis met a 429 and paused everyone for 2 s.
    redis = connect(harness.env["REDIS_URL"])
    try:
        await SendRate(redis, 0, Metrics()).pause_all(2)
        paused_at = asyncio.get_running_loop().time()
        # Each process reads the shared pause at most every 0.1 s.
        await asyncio.sleep(PAUSE_CHECK_SECONDS + 0.05)
        telegram, user = harness.telegram, harness.user(31_005)
        mark = telegram.mark()
        user.send("/help")
        reply = await telegram.wait_for_message(user.id, after=mark)
        # The fake's clock is the event loop's own (time.monotonic).
        assert reply.at - paused_at >= 1.8
    finally:
        await redis.aclose()


async def test_forty_people_at_once_with_twenty_429s_are_all_answered_without_apology(
    harness: Harness, no_errors_logged: None
) -> None:
    telegram = harness.telegram
    people = [harness.user(32_000 + n) for n in range(40)]
    mark = telegram.mark()
    telegram.fail_next("sendPhoto", status=429, retry_after=1, count=10)
    telegram.fail_next("sendMessage", status=429, retry_after=1, count=10)
    for person in people:
        person.send("/start")
        person.send("/donate")
        await asyncio.sleep(0.01)
    def answered(call: ApiCall) -> bool:
        return call.ok and call.method == waiting_for[1] and call.chat_id == waiting_for[0]

    # Both answers of each person: the welcome photo may still be waiting out its pause when
    # the /donate menu has arrived.
    for person in people:
        for method in ("sendPhoto", "sendMessage"):
            waiting_for = (person.id, method)
            await telegram.wait_for(answered, after=mark, timeout=15)
    refusals = [call for call in telegram.calls[mark:] if call.error]
    assert len(refusals) == 20
    for person in people:
        sent = [call for call in telegram.sent_to(person.id) if call.index >= mark]
        # Each exactly once; updates are handled concurrently, so in either order.
        assert sorted(call.method for call in sent) == ["sendMessage", "sendPhoto"], sent
    assert apologies(telegram) == []


async def test_a_flood_pause_longer_than_the_bot_waits_is_a_warning_and_no_apology(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    telegram, user = harness.telegram, harness.user(31_006)
    mark = telegram.mark()
    telegram.fail_next("sendMessage", status=429, retry_after=40, chat_id=user.id)
    user.send("/help")
    await telegram.wait_for(lambda call: not call.ok, after=mark)
    await telegram.assert_no_message(user.id, after=mark, within=0.5)
    flood = [r for r in caplog.records if r.name == "handlers.errors"]
    assert [r.levelno for r in flood] == [logging.WARNING], flood
    assert "retry_after=40" in flood[0].getMessage()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert apologies(telegram) == []


@pytest.mark.parametrize("paced_harness", [5], indirect=True)
async def test_an_answer_during_a_paced_broadcast_does_not_wait_behind_it(
    paced_harness: Harness, no_errors_logged: None
) -> None:
    harness, telegram = paced_harness, paced_harness.telegram
    await add_subscribers(harness.env["REDIS_URL"], {33_000 + n: "en" for n in range(300)})
    redis = connect(harness.env["REDIS_URL"])
    try:
        await BroadcastStore(redis).create(
            BroadcastContent({"en": "Paced news"}), created_by=ADMIN_ID, admin_locale="en",
            progress_chat=ADMIN_ID, progress_message=1,
        )
    finally:
        await redis.aclose()
    mark = telegram.mark()
    for _ in range(5):
        await telegram.wait_for(
            lambda call: call.ok and call.text == "Paced news", after=mark, timeout=10
        )
        mark = telegram.mark()
    # Sixty senders now wait their turn at 5 a second; a supporter's question jumps the line.
    loop = asyncio.get_running_loop()
    asked = loop.time()
    harness.user(34_001).send("/help")
    reply = await telegram.wait_for_message(34_001, after=mark, timeout=10)
    assert "/donate" in (reply.rendered_text or "")
    assert reply.at - asked < 2.0
    sent = [call for call in telegram.calls if call.ok and call.text == "Paced news"]
    assert 5 <= len(sent) < 300


def test_a_chat_gets_five_messages_at_once_then_one_a_second_or_a_group_twenty_a_minute() -> None:
    pace = ChatPace()
    assert [pace.reserve(31_010, now=100.0) for _ in range(8)] == [0, 0, 0, 0, 0, 1, 2, 3]
    group = [pace.reserve(-1_000_031, now=100.0) + 100.0 for _ in range(30)]
    assert group[:5] == [100.0] * 5 and group[5] == 104.0
    assert max(sum(1 for at in group if start <= at < start + 60) for start in group) <= 20
    # A chat idle for a while has its burst back.
    assert [pace.reserve(31_010, now=200.0) for _ in range(6)] == [0, 0, 0, 0, 0, 1]


def test_a_chat_pace_of_zero_never_holds_a_message() -> None:
    pace = ChatPace(0)
    assert {pace.reserve(chat, now=5.0) for chat in (31_011, -1_000_032) for _ in range(50)} == {0}


async def test_replies_to_one_person_go_five_at_once_then_one_a_second(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    # The deployed pace: the variable unset, as an operator would leave it.
    env = {k: v for k, v in bot_env.items() if k != "TELEGRAM_CHAT_PACE_SECONDS"}
    async with running_bot(env, telegram, stripe_server) as harness:
        user = harness.user(31_012)
        mark = telegram.mark()
        for _ in range(8):
            user.send("/help")
        replies = [await telegram.wait_for_message(user.id, after=mark)]
        while len(replies) < 8:
            replies.append(
                await telegram.wait_for_message(user.id, after=replies[-1].index + 1)
            )
    assert all("/donate" in (reply.rendered_text or "") for reply in replies)
    # Lower bounds only, which a loaded machine cannot break: the sixth reply waited for
    # its turn a second after the first, the eighth three seconds after.
    first = replies[0].at
    assert replies[5].at - first >= PAUSED
    assert replies[7].at - first >= 3 * PAUSED

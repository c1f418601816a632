"""/updates shows only what should stay public: never a cancelled broadcast, nor a removed one."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from bot.broadcasts.queue import RecipientQueue
from bot.broadcasts.store import BroadcastContent, BroadcastStore, CancelResult
from bot.storage import keys
from bot.storage.connection import connect
from handlers.updates_archive import REMOVE, REMOVE_CONFIRM, REMOVE_KEEP
from tests.broadcast_steps import add_subscribers, compose, deliveries
from tests.conftest import ADMIN_ID, Harness, running_bot
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import ApiCall, FakeBotAPI

SUPPORTER = 5301
QUESTION = (
    "Remove this update from /updates for everyone? It stays delivered in chats that received it."
)


async def archived(redis_url: str, *texts: str, cancelled: frozenset[str] = frozenset()) -> None:
    """Broadcasts that went out before the bot starts, oldest first; those named in `cancelled`
    were stopped while sending, as any release before this one left them."""
    redis = connect(redis_url)
    store = BroadcastStore(redis)
    try:
        for text in texts:
            # The archive orders by creation time (ms): one per millisecond at most.
            await asyncio.sleep(0.002)
            broadcast_id = await store.create(
                BroadcastContent({"en": text}), created_by=ADMIN_ID, admin_locale="en",
                progress_chat=ADMIN_ID, progress_message=1,
            )
            assert await store.start_due() == broadcast_id
            if text in cancelled:
                assert await store.cancel(broadcast_id) is CancelResult.STOPPING
            else:
                # Nobody subscribed yet: fed at once.
                assert await RecipientQueue(redis).feed(broadcast_id, 500) == 0
            assert await store.finalize(broadcast_id)
    finally:
        await redis.aclose()


async def updates(harness: Harness, user_id: int) -> ApiCall:
    """What /updates answers this user."""
    mark = harness.telegram.mark()
    harness.user(user_id, "en").send("/updates")
    return await harness.telegram.wait_for_message(user_id, after=mark)


async def tap(harness: Harness, user_id: int, message: ApiCall, label: str) -> ApiCall:
    """Tap a button and return the edit it made to the message."""
    mark = harness.telegram.mark()
    harness.user(user_id, "en").tap(message, label)
    return await harness.telegram.wait_for_edit(user_id, after=mark)


async def forged(harness: Harness, user_id: int, message_id: int, data: str) -> str:
    """Send callback data by hand; returns the text the tap was answered with."""
    mark = harness.telegram.mark()
    harness.user(user_id, "en").tap_data(message_id, data)
    answer = await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery", after=mark
    )
    return str(answer.params.get("text") or "")


def labels(call: ApiCall) -> list[list[str]]:
    return [[button.text for button in row] for row in call.buttons]


async def test_a_broadcast_cancelled_in_existing_data_is_not_in_updates(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    await archived(
        bot_env["REDIS_URL"], "Kept news", "Sent by mistake",
        cancelled=frozenset({"Sent by mistake"}),
    )
    async with running_bot(bot_env, telegram, stripe_server) as harness:
        for reader in (SUPPORTER, ADMIN_ID):
            page = await updates(harness, reader)
            assert "News 1 of 1" in (page.rendered_text or "")
            assert "Kept news" in (page.rendered_text or "")
            assert "Sent by mistake" not in (page.rendered_text or "")
            assert not any("Older" in label for row in labels(page) for label in row)


# Paced at two a second, and the report waits for the sends in flight: over ten seconds.
@pytest.mark.slow
async def test_a_broadcast_cancelled_after_its_first_delivery_leaves_updates(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    await archived(bot_env["REDIS_URL"], "Kept news")
    # Two a second to ten subscribers: the organizer has seconds to stop it after the first.
    await add_subscribers(bot_env["REDIS_URL"], {40_000 + n: "en" for n in range(10)})
    env = {**bot_env, "BROADCAST_RATE": "2"}
    async with running_bot(env, telegram, stripe_server) as harness:
        summary = await compose(harness, "Sent by mistake")
        mark = telegram.mark()
        admin = harness.user(ADMIN_ID, "en")
        admin.tap(summary, "Send now")
        await telegram.wait_for(
            lambda call: call.method == "sendMessage" and call.ok
            and "Sent by mistake" in (call.rendered_text or ""),
            after=mark, timeout=10,
        )
        before = await updates(harness, SUPPORTER)
        assert "News 1 of 2" in (before.rendered_text or "")
        assert "Sent by mistake" in (before.rendered_text or "")
        admin.tap(summary, "Cancel this broadcast")
        await telegram.wait_for(
            lambda call: "was cancelled" in (call.rendered_text or ""), after=mark, timeout=30
        )
        assert 0 < sum(deliveries(telegram, "Sent by mistake", mark).values()) < 10

        after = await updates(harness, SUPPORTER)
        assert "News 1 of 1" in (after.rendered_text or "")
        assert "Kept news" in (after.rendered_text or "")
        assert "Sent by mistake" not in (after.rendered_text or "")
        assert labels(after) == []


async def test_an_organizer_removes_an_update_after_confirming_and_supporters_no_longer_see_it(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    await archived(bot_env["REDIS_URL"], "Old news", "Mistaken news")
    async with running_bot(bot_env, telegram, stripe_server) as harness:
        before = await updates(harness, SUPPORTER)
        assert "News 1 of 2" in (before.rendered_text or "")
        assert "Mistaken news" in (before.rendered_text or "")
        assert labels(before) == [["◀ Older"]]

        page = await updates(harness, ADMIN_ID)
        assert "Mistaken news" in (page.rendered_text or "")
        assert labels(page) == [["◀ Older"], ["🗑 Remove"]]
        asked = await tap(harness, ADMIN_ID, page, "Remove")
        assert asked.rendered_text == QUESTION
        assert labels(asked) == [["Remove", "Keep"]]
        kept = await tap(harness, ADMIN_ID, asked, "Keep")
        assert "News 1 of 2" in (kept.rendered_text or "")
        assert "Mistaken news" in (kept.rendered_text or "")
        assert labels(kept) == [["◀ Older"], ["🗑 Remove"]]
        # Nothing was removed by asking and keeping.
        assert "News 1 of 2" in ((await updates(harness, SUPPORTER)).rendered_text or "")

        asked = await tap(harness, ADMIN_ID, kept, "Remove")
        removed = await tap(harness, ADMIN_ID, asked, "Remove")
        assert removed.rendered_text == (
            "Removed from /updates. It stays delivered in chats that received it."
        )
        assert labels(removed) == []

        # The confirmation tapped again, and the Remove of a page shown before: both refused.
        gone = "This update is no longer in /updates: it was removed already."
        edits = len(telegram.calls_to("editMessageText"))
        assert await forged(harness, ADMIN_ID, asked.message_id or 0, REMOVE_CONFIRM.data(
            broadcast=2
        )) == gone
        assert await forged(harness, ADMIN_ID, page.message_id or 0, REMOVE.data(
            broadcast=2, page=0
        )) == gone
        assert len(telegram.calls_to("editMessageText")) == edits

        after = await updates(harness, SUPPORTER)
        assert "News 1 of 1" in (after.rendered_text or "")
        assert "Old news" in (after.rendered_text or "")
        assert "Mistaken news" not in (after.rendered_text or "")
        assert labels(after) == []
        # The supporter's Older from before now points past the end: the last page instead.
        older = await tap(harness, SUPPORTER, before, "Older")
        assert "News 1 of 1" in (older.rendered_text or "")
        assert "Old news" in (older.rendered_text or "")

        # Out of /updates, not out of the organizer's numbers.
        mark = telegram.mark()
        harness.user(ADMIN_ID, "en").send("/stats")
        stats = await telegram.wait_for(
            lambda call: "Last broadcasts" in (call.rendered_text or ""), after=mark
        )
        assert "#2 " in (stats.rendered_text or "")


async def test_a_forged_remove_from_a_supporter_is_refused_and_removes_nothing(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    await archived(bot_env["REDIS_URL"], "Only news")
    async with running_bot(bot_env, telegram, stripe_server) as harness:
        page = await updates(harness, SUPPORTER)
        assert labels(page) == []
        for data in (
            REMOVE.data(broadcast=1, page=0), REMOVE_CONFIRM.data(broadcast=1),
            REMOVE_KEEP.data(page=0),
        ):
            answer = await forged(harness, SUPPORTER, page.message_id or 0, data)
            assert "no longer valid" in answer
        assert not telegram.calls_to("editMessageText")
        after = await updates(harness, SUPPORTER)
        assert "News 1 of 1" in (after.rendered_text or "")
        assert "Only news" in (after.rendered_text or "")


async def test_withdrawing_acts_once_and_never_on_what_was_not_shown(redis_url: str) -> None:
    await archived(redis_url, "Shown", "Stopped", cancelled=frozenset({"Stopped"}))
    redis: Redis = connect(redis_url)
    store = BroadcastStore(redis)
    try:
        queued = await store.create(
            BroadcastContent({"en": "Not yet"}), created_by=ADMIN_ID, admin_locale="en",
            progress_chat=ADMIN_ID, progress_message=1,
        )
        assert [await store.withdraw(item) for item in (2, queued, 999)] == [False] * 3
        assert not await redis.exists(keys.broadcast(999))
        assert await store.withdraw(1)
        assert not await store.withdraw(1)
        assert await store.public_archive(0, 10) == ([], 0)
        kept = await store.get(1)
        assert kept is not None and kept.content.texts == {"en": "Shown"}
        # The organizer's numbers still count both that went out.
        assert (await store.archive(0, 10))[1] == 2
    finally:
        await redis.aclose()

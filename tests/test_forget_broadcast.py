"""A broadcast being sent when someone uses /forget: it never reaches them, and drops their id."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from bot.broadcasts.queue import Claim, RecipientQueue, Step
from bot.broadcasts.store import BroadcastContent, BroadcastStatus, BroadcastStore, now_ms
from bot.broadcasts.subscribers import Subscribers
from bot.storage import keys
from bot.storage.connection import connect, text_of
from tests.broadcast_steps import add_subscribers, compose, deliveries
from tests.conftest import ADMIN_ID, running_bot
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI
from tests.forget_steps import forget
from tests.keyspace import traces_of

USER = 987_654_321
AUDIENCE = {30_000 + n: "en" for n in range(60)}


@pytest.mark.slow
async def test_a_broadcast_being_sent_never_reaches_someone_after_their_forget(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    # Ten a second: the 61 messages take six seconds, the /forget a fraction of one (slow: 10 s).
    env = {**bot_env, "BROADCAST_RATE": "10"}
    await add_subscribers(env["REDIS_URL"], AUDIENCE)
    async with running_bot(env, telegram, stripe_server) as harness:
        user = harness.user(USER, "en")
        mark = telegram.mark()
        user.send("/subscribe")
        await telegram.wait_for_message(USER, after=mark)
        summary = await compose(harness, "Winter news")
        assert "Ready to send to 61 subscribers" in (summary.rendered_text or "")
        start = telegram.mark()
        harness.user(ADMIN_ID, "en").tap(summary, "Send now")
        await telegram.wait_for(
            lambda call: call.ok and "Winter news" in (call.rendered_text or ""), after=start
        )

        await forget(harness, user)
        forgotten = telegram.mark()
        assert await traces_of(env["REDIS_URL"], str(USER)) == []
        services = harness.bot.application.bot_data.services  # type: ignore[union-attr]
        assert services is not None
        current = await services.broadcasts.get(1)
        assert current is not None and current.status is BroadcastStatus.SENDING

        report = await telegram.wait_for(
            lambda call: call.chat_id == ADMIN_ID and "is complete" in (call.rendered_text or ""),
            after=start, timeout=30,
        )
    assert USER not in deliveries(telegram, "Winter news", forgotten)
    assert deliveries(telegram, "Winter news", start) == {chat: 1 for chat in AUDIENCE}
    assert "Sent: 60" in (report.rendered_text or "")
    assert "Not sent: 0 of 60" in (report.rendered_text or "")


async def _started(redis: Redis, chats: list[int]) -> tuple[BroadcastStore, int]:
    subscribers = Subscribers(redis)
    for chat in chats:
        await subscribers.subscribe(chat, "en")
    store = BroadcastStore(redis)
    broadcast_id = await store.create(
        BroadcastContent({"en": "News"}), created_by=ADMIN_ID, admin_locale="en",
        progress_chat=ADMIN_ID, progress_message=1,
    )
    assert await store.start_due() == broadcast_id
    return store, broadcast_id


async def test_removal_keeps_the_feed_in_step_and_the_total_right(redis_url: str) -> None:
    redis = connect(redis_url)
    chats = [40_000 + n for n in range(10)]
    try:
        store, broadcast_id = await _started(redis, chats)
        queue = RecipientQueue(redis)
        assert await queue.feed(broadcast_id, 4)
        # One already queued, one not fed yet: neither will be sent, nobody else is skipped.
        # /forget unsubscribes first, then takes what is queued out of the stream.
        subscribers = Subscribers(redis)
        for chat in (chats[1], chats[7]):
            assert await subscribers.unsubscribe(chat)
        assert await queue.remove(broadcast_id, chats[1]) == 1
        assert await queue.remove(broadcast_id, chats[7]) == 0
        while await queue.feed(broadcast_id, 4):
            pass
        entries: Any = await redis.xrange(keys.broadcast_stream(broadcast_id))
        queued = [int(text_of(fields["chat"])) for _, fields in entries]
        assert queued == [chat for chat in chats if chat not in (chats[1], chats[7])]
        broadcast = await store.get(broadcast_id)
        assert broadcast is not None and broadcast.total == 8
    finally:
        await redis.aclose()


async def test_a_send_on_the_wire_at_the_forget_is_never_tried_again(redis_url: str) -> None:
    redis = connect(redis_url)
    chat = 50_000
    try:
        store, broadcast_id = await _started(redis, [chat])
        queue = RecipientQueue(redis)
        await queue.feed(broadcast_id, 10)
        [recipient] = await queue.read(broadcast_id, "test", 10, 100) or []
        deadline = now_ms() + 15_000
        [marked] = await queue.step(broadcast_id, [Step(None, recipient.entry_id)], deadline)
        assert marked.claim is Claim.SEND
        assert await queue.remove(broadcast_id, chat) == 0
        # The send had to wait (a 429): its mark goes back, and the next try is refused.
        await queue.step(broadcast_id, [Step(None, None, release=recipient.entry_id)], deadline)
        [retry] = await queue.step(broadcast_id, [Step(None, recipient.entry_id)], deadline)
        assert retry.claim is Claim.TAKEN
        assert await redis.xlen(keys.broadcast_stream(broadcast_id)) == 0
        broadcast = await store.get(broadcast_id)
        assert broadcast is not None and broadcast.total == 0
        assert await queue.feed(broadcast_id, 10) == 0
        assert await store.finalize(broadcast_id)
    finally:
        await redis.aclose()

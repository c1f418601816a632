"""Who a broadcast reaches, read from the live subscriber lists by its place and its cut-off.

Each subscriber who had joined when it started gets it once, whatever happens meanwhile:
subscribers of equal score (an earlier release's), leaving, joining, changing language.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.broadcasts import subscribers as subscribers_module
from bot.broadcasts.queue import Claim, RecipientQueue
from bot.broadcasts.store import BroadcastStore
from bot.broadcasts.subscribers import Subscribers
from bot.storage import keys
from bot.storage.connection import connect, text_of
from tests.broadcast_steps import add_subscribers, compose, deliveries
from tests.conftest import ADMIN_ID, running_bot
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI
from tests.test_broadcast_store import claim, create, feed_all, read_one, record, release


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = connect(redis_url)
    yield client
    await client.aclose()


async def queued(redis: Redis, broadcast_id: int) -> list[tuple[int, str]]:
    """Every (chat, locale) in the stream, in the order they were fed."""
    entries: Any = await redis.xrange(keys.broadcast_stream(broadcast_id))
    return [
        (int(text_of(fields["chat"])), text_of(fields["locale"])) for _, fields in entries
    ]


async def started(redis: Redis) -> tuple[BroadcastStore, RecipientQueue, int]:
    store = BroadcastStore(redis)
    broadcast_id = await create(store)
    assert await store.start_due() == broadcast_id
    return store, RecipientQueue(redis), broadcast_id


async def total(store: BroadcastStore, broadcast_id: int) -> int:
    found = await store.get(broadcast_id)
    assert found is not None
    return found.total


async def test_ties_and_leavers_on_either_side_of_the_feed_never_skip_or_repeat_anyone(
    redis: Redis,
) -> None:
    # An earlier release scored by the millisecond: many share one score, in both languages.
    english = {str(1000 + n): 5 for n in range(30)} | {"7": 4, "8": 6}
    french = {str(2000 + n): 5 for n in range(20)} | {"99": 5, "-100123": 6}
    await redis.zadd(keys.subscribers("en"), english)
    await redis.zadd(keys.subscribers("fr"), french)
    subscribers = Subscribers(redis)
    store, queue, broadcast_id = await started(redis)
    assert await total(store, broadcast_id) == 54

    # Chunks of 7 stop inside the tie; people leave behind the feed, ahead of it, and the last
    # one it queued (its place names them) before each of the next chunks.
    assert await queue.feed(broadcast_id, 7)
    [(last, _)] = (await queued(redis, broadcast_id))[-1:]
    leavers = [last, 1000, 1029, 2019]
    for chat in leavers:
        await subscribers.unsubscribe(chat)
        assert await queue.feed(broadcast_id, 7)
    await feed_all(queue, broadcast_id, chunk=7)

    fed = await queued(redis, broadcast_id)
    chats = Counter(chat for chat, _ in fed)
    assert max(chats.values()) == 1
    everyone = {int(chat) for chat in [*english, *french]}
    # Only those who left ahead of the feed were never queued.
    assert everyone - set(chats) == {1029, 2019}
    # In order of score, then of the chat id's bytes, across both languages.
    order = sorted(
        [(score, chat) for chat, score in [*english.items(), *french.items()]],
        key=lambda pair: (pair[0], pair[1].encode()),
    )
    assert [chat for chat, _ in fed] == [
        int(chat) for _, chat in order if int(chat) in chats
    ]
    assert dict(fed)[-100123] == "fr"
    # The total counts who was queued; nobody is left "not sent" for having left.
    assert await total(store, broadcast_id) == 52


async def test_who_joins_after_the_start_is_not_in_it_even_with_a_clock_behind(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribers = Subscribers(redis)
    for chat in range(10, 16):
        await subscribers.subscribe(chat, "en" if chat % 2 else "fr")
    store, queue, broadcast_id = await started(redis)
    assert await queue.feed(broadcast_id, 2)
    # A process whose clock is a day behind, and one on time: both join after the start.
    monkeypatch.setattr(subscribers_module, "_now_ms", lambda: 1)
    await subscribers.subscribe(20, "en")
    monkeypatch.undo()
    await subscribers.subscribe(21, "fr")
    # Someone who leaves and comes back ahead of the feed has joined again, after the start.
    await subscribers.unsubscribe(15)
    await subscribers.subscribe(15, "en")
    await feed_all(queue, broadcast_id)

    assert sorted(chat for chat, _ in await queued(redis, broadcast_id)) == [10, 11, 12, 13, 14]
    assert await total(store, broadcast_id) == 5
    # Fifty joining in the same few milliseconds all get scores of their own.
    await asyncio.gather(*(subscribers.subscribe(100 + n, "en") for n in range(50)))
    joined: Any = await redis.zrange(keys.subscribers("en"), 0, -1, withscores=True)
    scores = [score for _, score in joined]
    assert len(set(scores)) == len(scores) == 54


async def test_who_left_since_being_queued_is_dropped_unsent_at_their_turn(
    redis: Redis,
) -> None:
    subscribers = Subscribers(redis)
    audience = {31: "en", 32: "en", 33: "fr", 34: "fr", 35: "en"}
    for chat, locale in audience.items():
        await subscribers.subscribe(chat, locale)
    store, queue, broadcast_id = await started(redis)
    await feed_all(queue, broadcast_id)
    await subscribers.unsubscribe(31)
    await subscribers.mark_blocked(33)
    # Back before their turn: on a list again, so they get it, once.
    await subscribers.unsubscribe(35)
    await subscribers.subscribe(35, "fr")

    claims = {}
    for _ in audience:
        recipient = await read_one(queue, broadcast_id, "sender")
        claims[recipient.chat_id] = await claim(queue, broadcast_id, recipient.entry_id)
        if claims[recipient.chat_id] is Claim.SEND:
            assert await record(queue, broadcast_id, recipient.entry_id)
    assert claims == {
        31: Claim.DROPPED, 32: Claim.SEND, 33: Claim.DROPPED, 34: Claim.SEND, 35: Claim.SEND,
    }
    assert await queue.backlog(broadcast_id) == 0
    final = await store.get(broadcast_id)
    assert final is not None
    assert (final.counts["sent"], final.total, final.remaining) == (3, 3, 0)
    assert await store.finalize(broadcast_id)


async def test_a_group_found_migrated_at_its_turn_gets_it_once_under_its_new_id(
    redis: Redis,
) -> None:
    subscribers = Subscribers(redis)
    for chat in (-101, -102):
        await subscribers.subscribe(chat, "en")
    store, queue, broadcast_id = await started(redis)
    await feed_all(queue, broadcast_id)
    group = await read_one(queue, broadcast_id, "sender")
    assert await claim(queue, broadcast_id, group.entry_id) is Claim.SEND
    # Telegram answers that it became a supergroup: the sender follows it and tries again.
    await subscribers.migrate(group.chat_id, -100_777, "en")
    assert await release(queue, broadcast_id, group.entry_id)
    assert await claim(queue, broadcast_id, group.entry_id) is Claim.SEND
    assert await record(queue, broadcast_id, group.entry_id)
    # Who left before their first turn is still dropped; the new id is not queued again.
    other = await read_one(queue, broadcast_id, "sender")
    await subscribers.unsubscribe(other.chat_id)
    assert await claim(queue, broadcast_id, other.entry_id) is Claim.DROPPED
    assert await queue.feed(broadcast_id, 500) == 0
    assert [chat for chat, _ in await queued(redis, broadcast_id)] == []
    final = await store.get(broadcast_id)
    assert final is not None
    assert (final.counts["sent"], final.total, final.remaining) == (1, 1, 0)
    assert await store.finalize(broadcast_id)
    assert not await redis.exists(keys.broadcast_retried(broadcast_id))


async def test_a_language_change_mid_broadcast_keeps_the_place_so_it_arrives_once(
    redis: Redis,
) -> None:
    subscribers = Subscribers(redis)
    for chat in range(40, 60):
        await subscribers.subscribe(chat, "en" if chat % 2 else "fr")
    joined = await redis.zscore(keys.subscribers("fr"), "40")
    store, queue, broadcast_id = await started(redis)
    assert await queue.feed(broadcast_id, 6)
    # 40 was queued in French; 57 not yet, in English: both switch.
    assert [chat for chat, _ in await queued(redis, broadcast_id)][:1] == [40]
    await subscribers.change_locale(40, "en")
    await subscribers.change_locale(57, "fr")
    assert await redis.zscore(keys.subscribers("en"), "40") == joined
    await feed_all(queue, broadcast_id, chunk=6)

    fed = await queued(redis, broadcast_id)
    assert sorted(chat for chat, _ in fed) == list(range(40, 60))
    assert (dict(fed)[40], dict(fed)[57]) == ("fr", "fr")
    assert await total(store, broadcast_id) == 20


async def test_a_broadcast_the_previous_release_was_sending_finishes_from_its_snapshot(
    redis: Redis,
) -> None:
    subscribers = Subscribers(redis)
    for chat in range(60, 66):
        await subscribers.subscribe(chat, "en" if chat < 64 else "fr")
    store = BroadcastStore(redis)
    broadcast_id = await create(store)
    # As the previous release left it: snapshots of both lists, two English chats queued.
    job = keys.broadcast(broadcast_id)
    await redis.zrem(keys.broadcast_pending(), broadcast_id)
    await redis.set(keys.broadcast_active(), broadcast_id)
    for locale in ("en", "fr"):
        await redis.copy(keys.subscribers(locale), keys.broadcast_recipients(broadcast_id, locale))
    await redis.hset(job, mapping={
        "status": "sending", "started_at": 1, "total": 6, "cursor:en": 2, "cursor:fr": 0,
    })
    stream = keys.broadcast_stream(broadcast_id)
    await redis.xgroup_create(stream, "senders", id="0", mkstream=True)
    for chat in (60, 61):
        await redis.xadd(stream, {"chat": chat, "locale": "en"})
    # /forget of one not yet fed; a newcomer, not in the snapshot.
    await subscribers.unsubscribe(65)
    assert await RecipientQueue(redis).remove(broadcast_id, 65) == 1
    await subscribers.subscribe(70, "en")

    queue = RecipientQueue(redis)
    await feed_all(queue, broadcast_id)
    assert await queued(redis, broadcast_id) == [
        (60, "en"), (61, "en"), (62, "en"), (63, "en"), (64, "fr"),
    ]
    for _ in range(5):
        recipient = await read_one(queue, broadcast_id, "sender")
        assert await claim(queue, broadcast_id, recipient.entry_id) is Claim.SEND
        assert await record(queue, broadcast_id, recipient.entry_id)
    assert await store.finalize(broadcast_id)
    final = await store.get(broadcast_id)
    assert final is not None
    assert (final.counts["sent"], final.total) == (5, 5)
    snapshots = [keys.broadcast_recipients(broadcast_id, locale) for locale in ("en", "fr")]
    assert await redis.exists(*snapshots) == 0
    assert await subscribers.counts() == {"en": 5, "fr": 1}


@pytest.mark.slow
async def test_leaving_joining_and_switching_language_mid_broadcast_as_people_see_it(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    # Ten a second: the last two, who joined last, are reached after six seconds.
    env = {**bot_env, "BROADCAST_RATE": "10"}
    audience = {60_000 + n: "en" for n in range(60)}
    await add_subscribers(env["REDIS_URL"], audience)
    async with running_bot(env, telegram, stripe_server) as harness:
        leaver, switcher, newcomer = (harness.user(61_000 + n, "en") for n in (1, 2, 3))
        for user in (leaver, switcher):
            mark = telegram.mark()
            user.send("/subscribe")
            await telegram.wait_for_message(user.id, after=mark)
        summary = await compose(harness, "Spring news", "Nouvelles du printemps")
        assert "Ready to send to 62 subscribers" in (summary.rendered_text or "")
        start = telegram.mark()
        harness.user(ADMIN_ID, "en").tap(summary, "Send now")
        await telegram.wait_for(
            lambda call: call.ok and "Spring news" in (call.rendered_text or ""), after=start
        )
        mark = telegram.mark()
        leaver.send("/unsubscribe")
        newcomer.send("/subscribe")
        switcher.send("/language")
        prompt = await telegram.wait_for_message(switcher.id, after=mark)
        switcher.tap(prompt, "Français")
        await telegram.wait_for(lambda call: call.method == "editMessageText", after=mark)
        for user in (leaver, newcomer):
            await telegram.wait_for_message(user.id, after=mark)
        # A loaded machine paced it at one a second (the bot throws late send turns away).
        report = await telegram.wait_for(
            lambda call: call.chat_id == ADMIN_ID and "is complete" in (call.rendered_text or ""),
            after=start, timeout=90,
        )
    received = deliveries(telegram, "Spring news", start)
    assert received == {chat: 1 for chat in [*audience, switcher.id]}
    assert "Sent: 61" in (report.rendered_text or "")
    assert "Not sent: 0 of 61" in (report.rendered_text or "")

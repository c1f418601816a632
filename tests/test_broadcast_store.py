"""The broadcast store's and the recipients stream's scripts, driven directly on a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.broadcasts.queue import Claim, Recipient, RecipientQueue, Step
from bot.broadcasts.store import (
    BroadcastContent,
    BroadcastStatus,
    BroadcastStore,
    CancelResult,
    Outcome,
    now_ms,
)
from bot.broadcasts.subscribers import Subscribers
from bot.storage import keys
from bot.storage.connection import connect

ORGANIZER = 900_001
CONTENT = BroadcastContent({"en": "News", "fr": "Nouvelles"})
# A mark that outlives any test: the sender that holds it is alive.
LATER = 60_000


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = connect(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def store(redis: Redis) -> BroadcastStore:
    return BroadcastStore(redis)


@pytest.fixture
def queue(redis: Redis) -> RecipientQueue:
    return RecipientQueue(redis)


async def subscribe(redis: Redis, audience: dict[int, str]) -> None:
    subscribers = Subscribers(redis)
    for chat_id, locale in audience.items():
        await subscribers.subscribe(chat_id, locale)


async def create(store: BroadcastStore, send_at: int | None = None) -> int:
    return await store.create(
        CONTENT, created_by=ORGANIZER, admin_locale="en", progress_chat=ORGANIZER,
        progress_message=1, send_at=send_at,
    )


async def start(redis: Redis, store: BroadcastStore, audience: dict[int, str]) -> int:
    """A broadcast being sent to `audience`, its recipients not yet fed."""
    await subscribe(redis, audience)
    broadcast_id = await create(store)
    assert await store.start_due() == broadcast_id
    return broadcast_id


async def feed_all(queue: RecipientQueue, broadcast_id: int, chunk: int = 500) -> None:
    while await queue.feed(broadcast_id, chunk):
        pass


async def start_fed(
    redis: Redis, store: BroadcastStore, queue: RecipientQueue, audience: dict[int, str]
) -> int:
    """A broadcast being sent to `audience`, every recipient queued."""
    broadcast_id = await start(redis, store, audience)
    await feed_all(queue, broadcast_id)
    return broadcast_id


async def read_one(queue: RecipientQueue, broadcast_id: int, consumer: str) -> Recipient:
    [recipient] = await queue.read(broadcast_id, consumer, 1, 10) or []
    return recipient


async def claim(queue: RecipientQueue, broadcast_id: int, entry: str, ahead: int = LATER) -> Claim:
    [answer] = await queue.step(broadcast_id, [Step(None, entry)], now_ms() + ahead)
    return answer.claim


async def record(
    queue: RecipientQueue, broadcast_id: int, entry: str, outcome: Outcome = Outcome.SENT
) -> bool:
    [answer] = await queue.step(broadcast_id, [Step((entry, outcome), None)], now_ms() + LATER)
    assert answer.claim is Claim.NONE
    return answer.counted


async def release(queue: RecipientQueue, broadcast_id: int, entry: str) -> bool:
    """Give a mark back, as a sender does when its message was refused before it left."""
    [answer] = await queue.step(broadcast_id, [Step(None, None, release=entry)], now_ms())
    assert answer.claim is Claim.NONE
    return answer.counted


async def test_fed_recipients_are_read_once_marked_and_counted_by_outcome(
    redis: Redis, store: BroadcastStore, queue: RecipientQueue
) -> None:
    audience = {101: "en", 102: "en", 103: "en", 201: "fr", 202: "fr"}
    broadcast_id = await start(redis, store, audience)
    # Another broadcast due meanwhile waits: one broadcast is sent at a time.
    waiting = await create(store)
    assert await store.start_due() is None
    assert await store.active_id() == broadcast_id
    started = await store.get(broadcast_id)
    assert started is not None
    assert (started.status, started.total) == (BroadcastStatus.SENDING, 5)

    # Two feeders at once, in chunks of two: each recipient queued exactly once.
    await asyncio.gather(*(feed_all(queue, broadcast_id, chunk=2) for _ in range(3)))
    assert await queue.backlog(broadcast_id) == 5
    first = await queue.read(broadcast_id, "a", 3, 10) or []
    rest = await queue.read(broadcast_id, "b", 10, 10) or []
    assert await queue.read(broadcast_id, "c", 10, 10) == []
    assert {(r.chat_id, r.locale) for r in first + rest} == set(audience.items())
    assert len(first + rest) == 5

    # Each sender records its send and marks the next in the same batched call.
    entries = [r.entry_id for r in first + rest]
    outcomes = [Outcome.SENT, Outcome.SENT, Outcome.BLOCKED, Outcome.FAILED, Outcome.SENT]
    answers = await queue.step(
        broadcast_id, [Step(None, entries[0]), Step(None, entries[1])], now_ms() + LATER
    )
    assert [(a.counted, a.claim) for a in answers] == [(False, Claim.SEND)] * 2
    steps = [
        Step((entries[i], outcomes[i]), entries[i + 2] if i + 2 < 5 else None) for i in range(5)
    ]
    answers = await queue.step(broadcast_id, steps[:2], now_ms() + LATER)
    assert [(a.counted, a.claim) for a in answers] == [(True, Claim.SEND)] * 2
    answers = await queue.step(broadcast_id, steps[2:4], now_ms() + LATER)
    assert [(a.counted, a.claim) for a in answers] == [(True, Claim.SEND), (True, Claim.NONE)]
    answers = await queue.step(broadcast_id, steps[4:], now_ms() + LATER)
    assert [(a.counted, a.claim) for a in answers] == [(True, Claim.NONE)]
    # The same send recorded again (a retried call) counts once.
    assert not await record(queue, broadcast_id, entries[0])

    counted = await store.get(broadcast_id)
    assert counted is not None
    assert counted.counts == {"sent": 3, "failed": 1, "blocked": 1, "uncertain": 0}
    assert (counted.handled, counted.remaining) == (5, 0)
    assert await queue.backlog(broadcast_id) == 0
    assert not await redis.exists(keys.broadcast_in_flight(broadcast_id))
    still_waiting = await store.get(waiting)
    assert still_waiting is not None
    assert still_waiting.status is BroadcastStatus.QUEUED


async def test_a_send_cut_short_is_reclaimed_as_uncertain_and_never_handed_out_again(
    redis: Redis, store: BroadcastStore, queue: RecipientQueue
) -> None:
    broadcast_id = await start_fed(redis, store, queue, {101: "en", 102: "en"})
    crashed = await read_one(queue, broadcast_id, "crashed")
    # Marked with a deadline already past: the sender died before it could record the send.
    assert await claim(queue, broadcast_id, crashed.entry_id, ahead=-1) is Claim.SEND
    assert await redis.hexists(keys.broadcast_in_flight(broadcast_id), crashed.entry_id)

    reclaimed = await queue.reclaim(broadcast_id, "survivor", idle_ms=0)
    assert [r.entry_id for r in reclaimed] == [crashed.entry_id]
    assert (reclaimed[0].chat_id, reclaimed[0].locale) == (crashed.chat_id, "en")
    assert await claim(queue, broadcast_id, crashed.entry_id) is Claim.ABANDONED

    after = await store.get(broadcast_id)
    assert after is not None
    assert after.counts["uncertain"] == 1
    assert after.counts["sent"] == 0
    # Gone from the stream and from every consumer's pending list.
    assert await queue.reclaim(broadcast_id, "survivor", idle_ms=0) == []
    other = await read_one(queue, broadcast_id, "survivor")
    assert other.entry_id != crashed.entry_id
    assert await queue.read(broadcast_id, "late", 10, 10) == []
    assert await claim(queue, broadcast_id, crashed.entry_id) is Claim.TAKEN
    # The crashed sender, were it only slow, can neither give its mark back nor record its send.
    assert not await release(queue, broadcast_id, crashed.entry_id)
    assert not await record(queue, broadcast_id, crashed.entry_id)
    final = await store.get(broadcast_id)
    assert final is not None
    assert (final.counts["sent"], final.counts["uncertain"]) == (0, 1)


async def test_a_stale_reader_cannot_mark_an_entry_another_sender_took_over(
    redis: Redis, store: BroadcastStore, queue: RecipientQueue
) -> None:
    broadcast_id = await start_fed(redis, store, queue, {101: "en", 102: "en"})
    # Read long ago and still waiting for its turn: taken over before it marked the entry.
    stale = await read_one(queue, broadcast_id, "slow")
    [taken] = await queue.reclaim(broadcast_id, "fast", idle_ms=0)
    assert taken.entry_id == stale.entry_id
    assert await claim(queue, broadcast_id, taken.entry_id) is Claim.SEND
    assert await claim(queue, broadcast_id, stale.entry_id) is Claim.TAKEN
    assert await record(queue, broadcast_id, taken.entry_id)
    assert await claim(queue, broadcast_id, stale.entry_id) is Claim.TAKEN

    # Marked first by its reader: whoever takes it over while the mark holds is refused.
    marked = await read_one(queue, broadcast_id, "slow")
    assert await claim(queue, broadcast_id, marked.entry_id) is Claim.SEND
    [again] = await queue.reclaim(broadcast_id, "fast", idle_ms=0)
    assert again.entry_id == marked.entry_id
    assert await claim(queue, broadcast_id, again.entry_id) is Claim.TAKEN
    assert await record(queue, broadcast_id, marked.entry_id)

    final = await store.get(broadcast_id)
    assert final is not None
    assert final.counts == {"sent": 2, "failed": 0, "blocked": 0, "uncertain": 0}


async def test_a_mark_given_back_leaves_the_entry_unsent_for_whoever_marks_it_next(
    redis: Redis, store: BroadcastStore, queue: RecipientQueue
) -> None:
    broadcast_id = await start_fed(redis, store, queue, {301: "en"})
    entry = (await read_one(queue, broadcast_id, "first")).entry_id
    assert await claim(queue, broadcast_id, entry) is Claim.SEND
    # Refused before it left (429): the mark goes, the entry stays queued and uncounted.
    assert await release(queue, broadcast_id, entry)
    assert not await redis.hexists(keys.broadcast_in_flight(broadcast_id), entry)
    assert await queue.backlog(broadcast_id) == 1
    # A stop, then another process: it takes the entry over and finds it unsent, not uncertain.
    [taken] = await queue.reclaim(broadcast_id, "second", idle_ms=0)
    assert await claim(queue, broadcast_id, taken.entry_id) is Claim.SEND
    assert await record(queue, broadcast_id, taken.entry_id)
    # The first sender, coming back for it, finds it sent.
    assert await claim(queue, broadcast_id, entry) is Claim.TAKEN
    assert not await release(queue, broadcast_id, entry)
    final = await store.get(broadcast_id)
    assert final is not None
    assert final.counts == {"sent": 1, "failed": 0, "blocked": 0, "uncertain": 0}


async def test_a_broadcast_is_finalized_exactly_once_when_nothing_is_left(
    redis: Redis, store: BroadcastStore, queue: RecipientQueue
) -> None:
    broadcast_id = await start(redis, store, {101: "en", 201: "fr"})
    assert not await store.finalize(broadcast_id), "not fed yet"
    await feed_all(queue, broadcast_id)
    first = await read_one(queue, broadcast_id, "a")
    second = await read_one(queue, broadcast_id, "a")
    assert await claim(queue, broadcast_id, first.entry_id) is Claim.SEND
    assert await record(queue, broadcast_id, first.entry_id)
    assert await claim(queue, broadcast_id, second.entry_id) is Claim.SEND
    assert not await store.finalize(broadcast_id), "a send is in flight"

    assert await record(queue, broadcast_id, second.entry_id)
    results = await asyncio.gather(*(store.finalize(broadcast_id) for _ in range(5)))
    assert sorted(results) == [False] * 4 + [True]
    assert not await store.finalize(broadcast_id)
    done = await store.get(broadcast_id)
    assert done is not None
    assert done.status is BroadcastStatus.DONE
    assert done.finished_at >= done.started_at > 0
    assert done.counts["sent"] == 2
    assert await store.active_id() is None
    # The stream, its group and the marks go with it; the subscribers stay.
    assert await queue.read(broadcast_id, "a", 1, 10) is None
    leftovers = [keys.broadcast_stream(broadcast_id), keys.broadcast_in_flight(broadcast_id)]
    assert await redis.exists(*leftovers) == 0
    assert await Subscribers(redis).counts() == {"en": 1, "fr": 1}


async def test_cancel_tells_a_stopping_broadcast_from_one_that_never_started_or_is_over(
    redis: Redis, store: BroadcastStore, queue: RecipientQueue
) -> None:
    scheduled = await create(store, send_at=now_ms() + 3_600_000)
    queued = await create(store)
    assert await store.cancel(scheduled) is CancelResult.NEVER_STARTED
    assert await store.cancel(queued) is CancelResult.NEVER_STARTED
    assert await store.cancel(queued) is CancelResult.ALREADY_OVER
    assert await store.cancel(999) is CancelResult.ALREADY_OVER
    for broadcast_id in (scheduled, queued):
        found = await store.get(broadcast_id)
        assert found is not None
        assert found.status is BroadcastStatus.CANCELLED
        assert found.finished_at > 0
        # Over already: no engine reports it a second time.
        assert not await store.finalize(broadcast_id)
    assert await redis.zcard(keys.broadcast_pending()) == 0

    sending = await start_fed(redis, store, queue, {101: "en", 102: "en", 103: "en"})
    in_flight = await read_one(queue, sending, "a")
    assert await claim(queue, sending, in_flight.entry_id) is Claim.SEND
    unsent = await read_one(queue, sending, "a")
    assert await store.cancel(sending) is CancelResult.STOPPING
    # A second tap on Stop while the sends in flight finish: still stopping, not over.
    assert await store.cancel(sending) is CancelResult.STOPPING
    assert await queue.feed(sending, 500) is None
    assert await claim(queue, sending, unsent.entry_id) is Claim.DROPPED
    assert not await store.finalize(sending), "a send is in flight"
    assert await record(queue, sending, in_flight.entry_id)
    assert await queue.backlog(sending) == 1
    await queue.drop(sending)
    assert await queue.backlog(sending) == 0
    assert await store.finalize(sending)
    assert not await store.finalize(sending)
    stopped = await store.get(sending)
    assert stopped is not None
    assert stopped.status is BroadcastStatus.CANCELLED
    assert (stopped.counts["sent"], stopped.total, stopped.remaining) == (1, 3, 2)
    assert await store.cancel(sending) is CancelResult.ALREADY_OVER


async def test_the_archive_pages_through_started_broadcasts_newest_first(
    redis: Redis, store: BroadcastStore, queue: RecipientQueue
) -> None:
    first = await start(redis, store, {101: "en"})
    for _ in range(2):
        await asyncio.sleep(0.002)
        assert await store.cancel(await create(store)) is CancelResult.NEVER_STARTED
    await store.cancel(first)
    assert await store.finalize(first)
    await asyncio.sleep(0.002)
    second = await create(store)
    assert await store.start_due() == second
    await asyncio.sleep(0.002)
    await create(store)

    assert await store.archive(0, 10) == (
        [await store.get(second), await store.get(first)], 2
    )
    page, total = await store.archive(1, 1)
    assert ([b.broadcast_id for b in page], total) == ([first], 2)
    assert await store.archive(2, 1) == ([], 2)

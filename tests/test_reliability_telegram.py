"""Telegram misbehaving during a broadcast: 429 storms, 5xx, timeouts, 403 and 400 answers."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from functools import partial

import pytest

from bot.broadcasts.store import Broadcast, BroadcastContent, BroadcastStatus, BroadcastStore
from bot.storage.connection import connect
from tests.broadcast_steps import add_subscribers
from tests.conftest import ADMIN_ID, Harness, running_bot
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import ApiCall, FakeBotAPI
from tests.pacing import busiest_second, shortest_paced_span

RATE = 50
AUDIENCE = {60_000 + n: "en" for n in range(300)}
RATE_LIMITED = [60_010, 60_110, 60_210]
SERVER_ERRORS = [60_020, 60_021, 60_120, 60_121, 60_220]
TIMEOUTS = [60_030, 60_130]
BLOCKED = [60_040, 60_041, 60_140, 60_141, 60_240]
MISSING = [60_050, 60_150]
REFUSED = [60_060, 60_160, 60_260]


@pytest.fixture
async def fast_harness(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> AsyncIterator[Harness]:
    env = {**bot_env, "BROADCAST_RATE": str(RATE), "BROADCAST_RECOVERY_SECONDS": "20"}
    async with running_bot(env, telegram, stripe_server) as running:
        yield running


async def run_broadcast(harness: Harness, text: str) -> Broadcast:
    redis = connect(harness.env["REDIS_URL"])
    store = BroadcastStore(redis)
    try:
        broadcast_id = await store.create(
            BroadcastContent({"en": text}), created_by=ADMIN_ID, admin_locale="en",
            progress_chat=ADMIN_ID, progress_message=1,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = await store.get(broadcast_id)
            if found is not None and found.status is BroadcastStatus.DONE:
                return found
            await asyncio.sleep(0.2)
        raise AssertionError("broadcast did not finish")
    finally:
        await redis.aclose()


def is_to(chat_id: int, call: ApiCall) -> bool:
    return call.chat_id == chat_id


@pytest.mark.slow
async def test_faults_are_retried_only_when_they_should_and_counts_match_the_server(
    fast_harness: Harness,
) -> None:
    harness, telegram = fast_harness, fast_harness.telegram
    await add_subscribers(harness.env["REDIS_URL"], AUDIENCE)
    for chat in RATE_LIMITED:
        telegram.fail_next("sendMessage", status=429, retry_after=1, chat_id=chat,
                           description="Too Many Requests: retry after 1")
    for chat in SERVER_ERRORS:
        telegram.fail_next("sendMessage", status=502, chat_id=chat, description="Bad Gateway")
    for chat in TIMEOUTS:
        telegram.delay_next("sendMessage", seconds=7, chat_id=chat)
    telegram.blocked.update(BLOCKED)
    for chat in MISSING:
        telegram.fail_next("sendMessage", status=400, chat_id=chat,
                           description="Bad Request: chat not found")
    for chat in REFUSED:
        telegram.fail_next("sendMessage", status=400, chat_id=chat,
                           description="Bad Request: message is too long")

    start = telegram.mark()
    asker = harness.user(61_000, "en")
    broadcast = asyncio.create_task(run_broadcast(harness, "Storm news"))
    waits = []
    for _ in range(5):
        await asyncio.sleep(0.8)
        mark = telegram.mark()
        sent_at = time.monotonic()
        asker.send("/help")
        await telegram.wait_for_message(61_000, after=mark, timeout=3)
        waits.append(time.monotonic() - sent_at)
    result = await broadcast
    # The slow answers reach the server's log only once it finally replies.
    for chat in TIMEOUTS:
        await telegram.wait_for(partial(is_to, chat), after=start, timeout=10)

    attempts = [c for c in telegram.calls[start:]
                if c.method == "sendMessage" and c.chat_id in AUDIENCE]
    per_chat = Counter(c.chat_id for c in attempts)
    for chat in [*BLOCKED, *MISSING, *REFUSED]:
        assert per_chat[chat] == 1, f"chat {chat} was retried after a permanent error"
    for chat in [*RATE_LIMITED, *SERVER_ERRORS]:
        assert per_chat[chat] == 2
    assert all(count == 1 for chat, count in per_chat.items()
               if chat not in (*RATE_LIMITED, *SERVER_ERRORS))
    delivered = {c.chat_id for c in attempts if c.ok}
    counts = result.counts
    assert counts["sent"] + counts["uncertain"] == len(delivered)
    assert counts["uncertain"] == len(TIMEOUTS)
    assert counts["blocked"] == len(BLOCKED) + len(MISSING)
    assert counts["failed"] == len(REFUSED)
    times = sorted(c.at for c in attempts)
    assert busiest_second(times) <= RATE
    assert times[-1] - times[0] >= shortest_paced_span(len(times), RATE)
    assert max(waits) < 1.5, f"supporters waited {max(waits):.2f}s during the broadcast"

"""Real bot processes: SIGKILLed mid-broadcast and restarted, and two processes sharing one."""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.broadcasts.store import Broadcast, BroadcastContent, BroadcastStatus, BroadcastStore
from bot.storage.connection import connect
from tests.broadcast_steps import add_subscribers, deliveries
from tests.conftest import ADMIN_ID, ROOT, free_port, stop_processes
from tests.fakes.telegram import FakeBotAPI
from tests.pacing import busiest_second, shortest_paced_span

# Real processes started, killed and restarted: minutes, so `make check` leaves them out.
pytestmark = pytest.mark.slow


@asynccontextmanager
async def bot_process(
    env: dict[str, str], rate: int, recovery_seconds: int = 15
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m bot` with its own HTTP port; stopped if the test did not kill it."""
    process_env = {
        **os.environ, **env, "HTTP_PORT": str(free_port()), "BROADCAST_RATE": str(rate),
        "BROADCAST_RECOVERY_SECONDS": str(recovery_seconds),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env=process_env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        await stop_processes(process)


async def start_broadcast(redis: Redis, marker: str) -> int:
    store = BroadcastStore(redis)
    return await store.create(
        BroadcastContent({"en": f"{marker} EN", "fr": f"{marker} FR"}),
        created_by=ADMIN_ID, admin_locale="en", progress_chat=ADMIN_ID, progress_message=1,
    )


async def wait_until(condition: object, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def finished(redis: Redis, broadcast_id: int, timeout: float) -> Broadcast:
    store = BroadcastStore(redis)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await store.get(broadcast_id)
        if found is not None and found.status is BroadcastStatus.DONE:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"broadcast not finished: {found}")
        await asyncio.sleep(0.2)


# Twice the engine's FEED_LOW_WATER (2,000 queued ahead of the sends): a kill after 500 to 1,500
# sends still finds the feeder partway through the audience (10,000 only meant 6 s more sends).
SUBSCRIBERS = 4_000


@pytest.mark.timeout(120)
async def test_sigkill_at_three_random_points_of_a_4k_broadcast_sends_nothing_twice(
    bot_env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path
) -> None:
    audience = {100_000 + n: ("fr" if n % 2 else "en") for n in range(SUBSCRIBERS)}
    await add_subscribers(bot_env["REDIS_URL"], audience)
    points = sorted(random.sample(range(500, SUBSCRIBERS - 2_500), 3))
    redis = connect(bot_env["REDIS_URL"])
    try:
        broadcast_id = await start_broadcast(redis, "Crash-safe news")
        for kill_after in points:
            async with bot_process(bot_env, rate=0, recovery_seconds=3) as process:
                await wait_until(
                    lambda n=kill_after: delivered(telegram, "Crash-safe news") >= n, timeout=90
                )
                process.kill()
                await process.wait()
        async with bot_process(bot_env, rate=0, recovery_seconds=3):
            # Seconds: what the kills left read but unsent is taken over batch after batch.
            result = await finished(redis, broadcast_id, timeout=60)
    finally:
        await redis.aclose()

    received = deliveries(telegram, "Crash-safe news")
    assert max(received.values()) == 1, f"someone received it twice (kills at {points})"
    missing = set(audience) - set(received)
    # Only a send cut off by SIGKILL has an unknown outcome: reported uncertain, never resent.
    assert len(missing) <= result.counts["uncertain"]
    assert result.counts["sent"] + result.counts["uncertain"] == SUBSCRIBERS
    # An uncertain send may have arrived (killed after Telegram answered) or not.
    assert result.counts["sent"] <= len(received) <= SUBSCRIBERS
    print(f"kills at {points}: uncertain {result.counts['uncertain']}, missing {len(missing)}")
    texts = texts_by_chat(telegram)
    assert all(texts[chat] == [f"Crash-safe news {audience[chat].upper()}"] for chat in received)


def delivered(telegram: FakeBotAPI, marker: str) -> int:
    return sum(deliveries(telegram, marker).values())


def texts_by_chat(telegram: FakeBotAPI) -> dict[int | None, list[str | None]]:
    """Every sendMessage text per chat, in one pass: one pass per chat took half a minute."""
    texts: dict[int | None, list[str | None]] = defaultdict(list)
    for call in telegram.calls:
        if call.method == "sendMessage":
            texts[call.chat_id].append(call.text)
    return texts


async def test_two_processes_share_a_broadcast_within_one_global_rate(
    bot_env: dict[str, str], telegram: FakeBotAPI
) -> None:
    # Four seconds at 25/s: two limits instead of one would send it at 50/s, past `rate` in
    # every window and in half the time (250 took 10 s).
    audience = {40_000 + n: "en" for n in range(100)}
    await add_subscribers(bot_env["REDIS_URL"], audience)
    redis = connect(bot_env["REDIS_URL"])
    rate = 25
    try:
        async with bot_process(bot_env, rate=rate), bot_process(bot_env, rate=rate):
            await asyncio.sleep(1.5)
            broadcast_id = await start_broadcast(redis, "Shared news")
            result = await finished(redis, broadcast_id, timeout=60)
    finally:
        await redis.aclose()
    received = deliveries(telegram, "Shared news")
    assert set(received) == set(audience)
    assert max(received.values()) == 1
    assert result.counts["sent"] == len(audience)
    times = sorted(
        c.at for c in telegram.calls
        if c.method == "sendMessage" and c.ok and "Shared news" in (c.text or "")
    )
    busiest = busiest_second(times)
    assert busiest <= rate, f"{busiest} messages in one second"
    assert times[-1] - times[0] >= shortest_paced_span(len(audience), rate)


async def test_entries_waiting_longer_than_the_recovery_time_are_still_sent_once(
    bot_env: dict[str, str], telegram: FakeBotAPI
) -> None:
    # At 10/s each of the 32 senders waits about 3 s for its turn, longer than the 2 s after
    # which another sender may take over an entry it has read: both then hold it, one sends it.
    audience = {70_000 + n: "en" for n in range(80)}
    await add_subscribers(bot_env["REDIS_URL"], audience)
    redis = connect(bot_env["REDIS_URL"])
    try:
        async with bot_process(bot_env, rate=10, recovery_seconds=2):
            await asyncio.sleep(1.5)
            broadcast_id = await start_broadcast(redis, "Patient news")
            result = await finished(redis, broadcast_id, timeout=60)
    finally:
        await redis.aclose()
    received = deliveries(telegram, "Patient news")
    assert set(received) == set(audience)
    assert max(received.values()) == 1
    assert (result.counts["sent"], result.counts["uncertain"]) == (80, 0)

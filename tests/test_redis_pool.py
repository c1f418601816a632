"""The bot's Redis client at a peak: more callers at once than connections in the pool."""

from __future__ import annotations

import asyncio

from bot.storage.connection import POOL_SIZE, connect


async def test_more_callers_than_pooled_connections_wait_for_one_instead_of_failing(
    redis_url: str,
) -> None:
    # The benchmark's burst of 500 supporters found this: redis-py's own pool refused the 101st
    # caller at once, and people were told the bot was unavailable.
    redis = connect(redis_url)
    try:
        counts = await asyncio.gather(
            *(redis.incr("calais:test:pool") for _ in range(3 * POOL_SIZE))
        )
    finally:
        await redis.aclose()
    assert sorted(counts) == list(range(1, 3 * POOL_SIZE + 1))

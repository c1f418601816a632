"""The bot's Redis client at a peak: more callers at once than connections in the pool."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.storage.connection import POOL_SIZE, WaitingPool, connect


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
        # This client's connections, and the one asking.
        clients = await redis.client_list()
    finally:
        await redis.aclose()
    assert sorted(counts) == list(range(1, 3 * POOL_SIZE + 1))
    assert len(clients) <= POOL_SIZE + 1, "the pool opened more connections than its size"


async def test_a_caller_waiting_for_a_connection_gets_the_next_one_given_back(
    redis_url: str,
) -> None:
    # Past its wait a caller is refused: the test would fail, not hang, on a lost connection.
    pool = WaitingPool.from_url(redis_url, wait_seconds=2, max_connections=1)
    try:
        held = await pool.get_connection()
        gives_up = asyncio.create_task(pool.get_connection())
        waiting = asyncio.create_task(pool.get_connection())
        await asyncio.sleep(0)
        gives_up.cancel()
        await asyncio.sleep(0)
        assert not waiting.done(), "a second connection was opened past max_connections"
        await pool.release(held)
        assert await waiting is held, "the caller who gave up was still in line"

        handed = asyncio.create_task(pool.get_connection())
        next_in_line = asyncio.create_task(pool.get_connection())
        await asyncio.sleep(0)
        await pool.release(held)
        handed.cancel()  # given the connection, it stops before it could use it
        assert await next_in_line is held, "a caller stopping as it was handed one lost it"
    finally:
        await pool.aclose()


async def test_a_caller_who_waited_too_long_is_told_redis_is_unavailable(
    redis_url: str,
) -> None:
    pool = WaitingPool.from_url(redis_url, wait_seconds=0, max_connections=1)
    try:
        held = await pool.get_connection()
        with pytest.raises(RedisConnectionError):
            await pool.get_connection()
        await pool.release(held)
        assert await pool.get_connection() is held, "the pool did not recover"
    finally:
        await pool.aclose()

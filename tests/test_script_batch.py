"""Script calls made at once go to Redis together, each caller answered as if it called alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bot.storage.connection import StorageUnavailable, connect
from bot.storage.script_batch import ScriptBatch
from tests.conftest import free_port

KEY = "calais:test:batch"
# ARGV: how much to add, or 'refuse'. Returns the new count.
COUNT = """
if ARGV[1] == 'refuse' then return redis.error_reply('refused') end
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = connect(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


async def test_calls_made_at_once_each_get_the_reply_to_their_own_call(redis: Redis) -> None:
    batch, script = ScriptBatch(redis), redis.register_script(COUNT)
    replies = await asyncio.gather(*(batch(script, [KEY], [1]) for _ in range(100)))
    assert sorted(replies) == list(range(1, 101))
    assert int(await redis.get(KEY)) == 100


async def test_a_call_that_fails_fails_alone(redis: Redis) -> None:
    batch, script = ScriptBatch(redis), redis.register_script(COUNT)
    replies = await asyncio.gather(
        batch(script, [KEY], [2]), batch(script, [KEY], ["refuse"]), batch(script, [KEY], [3]),
        return_exceptions=True,
    )
    assert replies[0] == 2 and replies[2] == 5
    assert isinstance(replies[1], ResponseError) and "refused" in str(replies[1])


async def test_scripts_redis_lost_are_loaded_again_and_each_call_runs_once(redis: Redis) -> None:
    batch, script = ScriptBatch(redis), redis.register_script(COUNT)
    assert await batch(script, [KEY], [1]) == 1
    # As after a restart of Redis: the script cache is empty.
    await redis.script_flush()
    replies = await asyncio.gather(*(batch(script, [KEY], [1]) for _ in range(10)))
    assert sorted(replies) == list(range(2, 12))
    assert int(await redis.get(KEY)) == 11


async def test_every_caller_hears_that_redis_is_unreachable() -> None:
    unreachable = connect(f"redis://127.0.0.1:{free_port()}/0")
    try:
        batch, script = ScriptBatch(unreachable), unreachable.register_script(COUNT)
        replies = await asyncio.gather(
            *(batch(script, [KEY], [1]) for _ in range(3)), return_exceptions=True
        )
    finally:
        await unreachable.aclose()
    assert all(isinstance(reply, StorageUnavailable) for reply in replies)

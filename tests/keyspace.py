"""Reading a whole Redis keyspace in tests: snapshots to compare, and traces of a value."""

from __future__ import annotations

import re

from redis.asyncio import Redis

from bot.storage.connection import text_of


async def keyspace(redis_url: str) -> dict[str, object]:
    """Every key with its full value, comparable before and after an operation."""
    redis = Redis.from_url(redis_url)
    snapshot: dict[str, object] = {}
    try:
        async for raw_key in redis.scan_iter(count=500):
            key = text_of(raw_key)
            kind = text_of(await redis.type(key))
            value: object
            if kind == "string":
                value = await redis.get(key)
            elif kind == "hash":
                value = sorted((await redis.hgetall(key)).items())
            elif kind == "set":
                value = sorted(await redis.smembers(key))
            elif kind == "zset":
                value = await redis.zrange(key, 0, -1, withscores=True)
            elif kind == "list":
                value = await redis.lrange(key, 0, -1)
            elif kind == "stream":
                value = [str(entry) for entry in await redis.xrange(key) or []]
            else:
                value = kind
            snapshot[key] = value
    finally:
        await redis.aclose()
    return snapshot


async def traces_of(redis_url: str, needle: str) -> list[str]:
    """Every key whose name or value contains `needle`, whatever the type.

    Not inside a longer number: a user id such as 5202 is no trace in a timestamp 1764995202.
    """
    found = re.compile(rf"(?<![0-9]){re.escape(needle)}(?![0-9])").search
    return [
        key for key, value in (await keyspace(redis_url)).items()
        if found(key) or found(text_of(repr(value)))
    ]

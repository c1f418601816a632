"""Per-user limit on messages and button taps, so one person cannot flood the bot."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from bot.storage import keys

DEFAULT_LIMIT = 20
WINDOW_SECONDS = 60


class UserRateLimit:
    """A fixed window per user in Redis, shared by every bot process."""

    def __init__(self, redis: Redis, limit: int = DEFAULT_LIMIT) -> None:
        self._redis = redis
        self._limit = limit

    async def check(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, first refusal of this window): answer politely once, then stay quiet."""
        window = int(time.time()) // WINDOW_SECONDS
        key = keys.command_count(user_id, window)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2 * WINDOW_SECONDS)
            count, _ = await pipe.execute()
        return count <= self._limit, count == self._limit + 1

    async def forget(self, user_id: int) -> None:
        """Delete every count that may hold this user's id (for /forget)."""
        window = int(time.time()) // WINDOW_SECONDS
        await self._redis.delete(
            *(keys.command_count(user_id, window + offset) for offset in (-1, 0, 1))
        )

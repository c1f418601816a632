"""Limits in Redis, shared by every bot process: per user on messages and taps, so one person
cannot flood the bot, and for everyone together on Checkout Sessions."""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis

from bot.clock import Clock
from bot.storage import keys

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
WINDOW_SECONDS = 60


async def _count(redis: Redis, key: str) -> int:
    """One more in a fixed window's counter, which expires after the next window."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, 2 * WINDOW_SECONDS)
        count, _ = await pipe.execute()
    return int(count)


class UserRateLimit:
    """A fixed window per user."""

    def __init__(self, redis: Redis, limit: int = DEFAULT_LIMIT) -> None:
        self._redis = redis
        self._limit = limit

    async def check(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, first refusal of this window): answer politely once, then stay quiet."""
        window = int(time.time()) // WINDOW_SECONDS
        count = await _count(self._redis, keys.command_count(user_id, window))
        return count <= self._limit, count == self._limit + 1

    async def forget(self, user_id: int) -> None:
        """Delete every count that may hold this user's id (for /forget)."""
        window = int(time.time()) // WINDOW_SECONDS
        await self._redis.delete(
            *(keys.command_count(user_id, window + offset) for offset in (-1, 0, 1))
        )


# The per-user limit leaves each account 20 a minute; many accounts together would still spend
# the Stripe account's API quota and look like abuse to Stripe. A fixed window may let up to
# twice the cap through across the boundary of two windows: enough for a cap against floods.
class CheckoutCap:
    """Checkout Sessions everyone together may ask for in a minute, on the bot's clock."""

    def __init__(self, redis: Redis, per_minute: int, clock: Clock) -> None:
        self._redis = redis
        self._per_minute = per_minute
        self._clock = clock

    async def take(self) -> bool:
        """Count one session about to be created; False once this minute's are all taken."""
        window = int(self._clock.now()) // WINDOW_SECONDS
        count = await _count(self._redis, keys.checkout_sessions(window))
        if count == self._per_minute + 1:
            log.warning(
                "checkout sessions cap reached per_minute=%s: donors are asked to try again "
                "in a minute (CHECKOUT_SESSIONS_PER_MINUTE)", self._per_minute,
            )
        return count <= self._per_minute

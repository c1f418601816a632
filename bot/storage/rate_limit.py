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
# A fixed window's counter expires after the next window.
COUNTER_TTL_SECONDS = 2 * WINDOW_SECONDS


async def _count(redis: Redis, key: str) -> int:
    """One more in a fixed window's counter."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, COUNTER_TTL_SECONDS)
        count, _ = await pipe.execute()
    return int(count)


class UserRateLimit:
    """A fixed window per user; the update's one read (bot/storage/update_state) counts."""

    def __init__(self, redis: Redis, limit: int = DEFAULT_LIMIT) -> None:
        self._redis = redis
        self.limit = limit

    def counter(self, user_id: int) -> str:
        """The key of the user's counter for this window."""
        return keys.command_count(user_id, int(time.time()) // WINDOW_SECONDS)

    def verdict(self, count: int) -> tuple[bool, bool]:
        """(allowed, first refusal of this window): answer politely once, then stay quiet."""
        return count <= self.limit, count == self.limit + 1

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

    def counter(self) -> str:
        """The key of this minute's counter; a tap asking for a session counts in its update's
        one read (bot/storage/update_state), anything else through `take`."""
        return keys.checkout_sessions(int(self._clock.now()) // WINDOW_SECONDS)

    async def take(self) -> bool:
        """Count one session about to be created; False once this minute's are all taken."""
        return self.verdict(await _count(self._redis, self.counter()))

    def verdict(self, count: int) -> bool:
        """Whether the session counted `count`-th this minute may be created."""
        if count == self._per_minute + 1:
            log.warning(
                "checkout sessions cap reached per_minute=%s: donors are asked to try again "
                "in a minute (CHECKOUT_SESSIONS_PER_MINUTE)", self._per_minute,
            )
        return count <= self._per_minute

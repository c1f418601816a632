"""Telegram updates already accepted in webhook mode, so a redelivered update is handled once."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.storage import keys

# Telegram redelivers for a while; a day of memory covers every retry it makes.
SEEN_UPDATE_SECONDS = 24 * 3600


class UpdateLog:
    """One short-lived key per update_id, set only if absent, so concurrent deliveries agree."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def first_time(self, update_id: int) -> bool:
        """Record the update; True only for the delivery that recorded it first."""
        first = await self._redis.set(
            keys.telegram_update(update_id), 1, nx=True, ex=SEEN_UPDATE_SECONDS
        )
        return bool(first)

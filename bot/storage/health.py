"""Whether the shared Redis answers, for the readiness probe."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.storage.connection import StorageUnavailable


class StorageHealth:
    """A PING on the shared client that never raises: the probe must answer while Redis is down."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def answers(self) -> bool:
        """True when Redis replied to a PING."""
        try:
            return bool(await self._redis.ping())
        except StorageUnavailable:
            return False

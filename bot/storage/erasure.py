"""Erasure marks: who used /forget, kept as keyed fingerprints so their id is never stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from redis.asyncio import Redis

from bot.storage import keys
from bot.storage.connection import as_text


class ErasureMarks:
    """Remembers that a user asked to be forgotten without remembering who they were."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def _fingerprint(self, user_id: int) -> str:
        await self._redis.set(keys.forget_salt(), secrets.token_hex(32), nx=True)
        salt = str(as_text(await self._redis.get(keys.forget_salt())))
        return hmac.new(salt.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()

    async def is_forgotten(self, user_id: int) -> bool:
        """Whether this user asked to be forgotten (checked without storing their id)."""
        if not await self._redis.exists(keys.forgotten_users()):
            return False
        fingerprint = await self._fingerprint(user_id)
        return bool(await self._redis.sismember(keys.forgotten_users(), fingerprint))

    async def mark(self, user_id: int) -> None:
        """From now on, a Stripe event carrying this id no longer links anything to it."""
        await self._redis.sadd(keys.forgotten_users(), await self._fingerprint(user_id))

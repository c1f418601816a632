"""/forget: everything that ties a Telegram user to the campaign, erased; the accounts kept."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid

from redis.asyncio import Redis

from bot.donations.ledger import DonationLedger
from bot.i18n import SUPPORTED_LOCALES
from bot.storage import keys
from bot.storage.connection import as_text, text_of
from bot.storage.rate_limit import UserRateLimit


class Erasure:
    """Erases a user's personal data; donations stay for accounting, made anonymous."""

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

    async def forget(self, user_id: int) -> int:
        """Erase the user; returns how many donations were made anonymous."""
        user = str(user_id)
        anonymised = 0
        async for donation in DonationLedger(self._redis).donations():
            if donation.fields.get("telegram_user_id") == user:
                await self._redis.hdel(keys.donation(donation.donation_id), "telegram_user_id")
                anonymised += 1
        for raw in await self._redis.smembers(keys.user_subscriptions(user_id)):
            await self._redis.hdel(keys.subscription(text_of(raw)), "user_id")
        outbox = await self._redis.hgetall(keys.outbox())
        owed = [
            text_of(notice_id) for notice_id, raw in outbox.items()
            if json.loads(text_of(raw)).get("chat_id") == user_id
        ]
        fingerprint = await self._fingerprint(user_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            for notice_id in owed:
                pipe.hdel(keys.outbox(), notice_id)
            for locale in SUPPORTED_LOCALES:
                pipe.zrem(keys.subscribers(locale), user)
            pipe.srem(keys.blocked_subscribers(), user)
            # The donor count must not drop: the donor stays, only anonymous.
            if await self._redis.sismember(keys.donors(), f"tg:{user}"):
                pipe.srem(keys.donors(), f"tg:{user}")
                pipe.sadd(keys.donors(), f"erased:{uuid.uuid4().hex}")
            pipe.delete(
                keys.user(user_id), keys.user_subscriptions(user_id),
                keys.awaiting_input(user_id), keys.broadcast_draft(user_id),
                *UserRateLimit(self._redis).keys_of(user_id),
            )
            pipe.sadd(keys.forgotten_users(), fingerprint)
            await pipe.execute()
        return anonymised

"""Monthly gifts (Stripe subscriptions) the bot knows each supporter has."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bot.storage import keys
from bot.storage.connection import as_text, text_of

# KEYS: subscription hash, the user's set of gifts, every active gift. ARGV: subscription id,
# then field pairs. A renewal arriving after the cancellation must not revive the gift.
_LINK = """
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
if redis.call('HGET', KEYS[1], 'status') == 'canceled' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'active')
redis.call('SADD', KEYS[3], ARGV[1])
return redis.call('SADD', KEYS[2], ARGV[1])
"""

# KEYS: subscription hash, the user's set of gifts, every active gift. ARGV: subscription id.
# Returns 1 only the first time, so the donor is told once that the gift ended.
_END = """
redis.call('HSET', KEYS[1], 'status', 'canceled')
redis.call('SREM', KEYS[3], ARGV[1])
return redis.call('SREM', KEYS[2], ARGV[1])
"""


@dataclass(frozen=True)
class MonthlyGift:
    """One active monthly gift as shown to its donor."""

    subscription_id: str
    amount: int
    currency: str


class MonthlyGifts:
    """Links subscriptions to supporters so they can see and cancel them from the chat."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._link = redis.register_script(_LINK)
        self._end = redis.register_script(_END)

    async def link(
        self, subscription_id: str, user_id: int, amount: int, currency: str, locale: str
    ) -> None:
        """Remember an active monthly gift (each renewal repeats this harmlessly)."""
        await self._link(
            keys=[
                keys.subscription(subscription_id), keys.user_subscriptions(user_id),
                keys.active_subscriptions(),
            ],
            args=[
                subscription_id, "user_id", user_id, "amount", amount, "currency", currency,
                "locale", locale,
            ],
        )

    async def active(self, user_id: int) -> list[MonthlyGift]:
        """The user's active monthly gifts."""
        gifts = []
        for raw_id in sorted(await self._redis.smembers(keys.user_subscriptions(user_id))):
            subscription_id = str(as_text(raw_id))
            amount, currency = await self._redis.hmget(
                keys.subscription(subscription_id), "amount", "currency"
            )
            if amount is not None and currency is not None:
                gifts.append(MonthlyGift(subscription_id, int(amount), str(as_text(currency))))
        return gifts

    async def owner(self, subscription_id: str) -> int | None:
        raw = as_text(await self._redis.hget(keys.subscription(subscription_id), "user_id"))
        return int(raw) if raw is not None else None

    async def erased_owner(self, subscription_id: str) -> bool:
        """Whether /forget unlinked this gift's donor: its renewals stay anonymous for good."""
        owner, amount = await self._redis.hmget(
            keys.subscription(subscription_id), "user_id", "amount"
        )
        # Every link writes both; only unlink_owner takes the owner away.
        return owner is None and amount is not None

    async def end(self, subscription_id: str) -> int | None:
        """Mark the gift ended; returns its donor the first time, None if it was already ended."""
        user_id = await self.owner(subscription_id)
        if user_id is None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(keys.subscription(subscription_id), "status", "canceled")
                pipe.srem(keys.active_subscriptions(), subscription_id)
                await pipe.execute()
            return None
        removed = await self._end(
            keys=[
                keys.subscription(subscription_id), keys.user_subscriptions(user_id),
                keys.active_subscriptions(),
            ],
            args=[subscription_id],
        )
        return user_id if removed else None

    async def unlink_owner(self, user_id: int) -> None:
        """Forget who gives (for /forget); the gifts themselves stay, and keep counting."""
        owned = await self._redis.smembers(keys.user_subscriptions(user_id))
        async with self._redis.pipeline(transaction=True) as pipe:
            for raw in owned:
                pipe.hdel(keys.subscription(text_of(raw)), "user_id")
            pipe.delete(keys.user_subscriptions(user_id))
            await pipe.execute()

    async def totals(self) -> tuple[int, int]:
        """How many monthly gifts are active, and what they bring each month (minor units)."""
        members = await self._redis.smembers(keys.active_subscriptions())
        ids = [str(as_text(raw)) for raw in members]
        async with self._redis.pipeline(transaction=False) as pipe:
            for subscription_id in ids:
                pipe.hget(keys.subscription(subscription_id), "amount")
            amounts = await pipe.execute()
        return len(ids), sum(int(amount) for amount in amounts if amount is not None)

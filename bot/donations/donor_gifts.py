"""Each donor's one-off gifts, newest first, for /mygift.

The ledger's record script writes the index in the same step as the gift (ledger.py), so it
never names a gift the ledger lacks; it is read here, and erased here for /forget.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from bot.donations.ledger import StoredDonation
from bot.storage import keys
from bot.storage.connection import text_of


class DonorGifts:
    """Reads a donor's one-off gifts from the index the ledger keeps."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def newest(self, user_id: int, count: int) -> tuple[list[StoredDonation], int]:
        """The donor's `count` newest one-off gifts, and how many they made in all."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrevrange(keys.user_gifts(user_id), 0, count - 1)
            pipe.zcard(keys.user_gifts(user_id))
            rows, total = await pipe.execute()
        async with self._redis.pipeline(transaction=False) as pipe:
            for member in rows:
                pipe.hgetall(keys.donation(text_of(member)))
            records: list[dict[Any, Any]] = await pipe.execute()
        gifts = []
        for member, record in zip(rows, records, strict=True):
            fields = {text_of(k): text_of(v) for k, v in record.items()}
            if fields:
                gifts.append(StoredDonation(text_of(member), int(fields["created"]), fields))
        return gifts, int(total)

    async def has_given(self, user_id: int) -> bool:
        """Whether the user made a one-off gift or has a monthly one running (one command: /donate
        asks at every amount picker it draws)."""
        found = await self._redis.exists(
            keys.user_gifts(user_id), keys.user_subscriptions(user_id)
        )
        return bool(found)

    async def first(self, user_id: int) -> str | None:
        """The id of the donor's first one-off gift, the one thanked with the suggestion."""
        first: list[Any] = await self._redis.zrange(keys.user_gifts(user_id), 0, 0)
        return text_of(first[0]) if first else None

    async def forget(self, user_id: int) -> None:
        """Erase the donor's index (for /forget); the gifts stay in the ledger, anonymous."""
        await self._redis.delete(keys.user_gifts(user_id))

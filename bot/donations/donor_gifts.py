"""Each donor's one-off gifts, newest first, for /mygift.

The ledger's record script writes the index in the same step as the gift (ledger.py), so it
never names a gift the ledger lacks; it is read here, erased here for /forget, and built here
once for the gifts recorded before it existed.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from bot.donations.ledger import READ_BATCH, StoredDonation
from bot.donations.stripe_client import Frequency
from bot.storage import keys
from bot.storage.connection import text_of

# KEYS: donations of the timeline. ARGV: what an index key has before and after the user id,
# what a donation key has before the donation id, the one-off kind. Each gift is read in the
# step that indexes it: a /forget took the Telegram id off it before, or erases the index
# after, so no forgotten donor is indexed again.
_INDEX_EARLIER = """
for i = 1, #KEYS do
  local gift = redis.call('HMGET', KEYS[i], 'telegram_user_id', 'kind', 'created')
  if gift[1] and gift[2] == ARGV[4] then
    local id = string.sub(KEYS[i], #ARGV[3] + 1)
    redis.call('ZADD', ARGV[1] .. gift[1] .. ARGV[2], 'NX', gift[3], id)
  end
end
return #KEYS
"""


class DonorGifts:
    """Reads a donor's one-off gifts from the index the ledger keeps, and keeps it complete."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._index_earlier = redis.register_script(_INDEX_EARLIER)

    async def index_earlier_gifts(self) -> None:
        """Index the gifts recorded before this release, once for all processes (repeating it,
        after a crash or by two at once, changes nothing)."""
        if await self._redis.exists(keys.user_gifts_indexed()):
            return
        before, after = keys.user_gifts_around()
        offset = 0
        while ids := await self._redis.zrange(
            keys.donation_timeline(), offset, offset + READ_BATCH - 1
        ):
            await self._index_earlier(
                keys=[keys.donation(text_of(raw)) for raw in ids],
                args=[before, after, keys.donation(""), Frequency.ONCE.value],
            )
            offset += len(ids)
        await self._redis.set(keys.user_gifts_indexed(), 1)

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

    async def count(self, user_id: int) -> int:
        """How many one-off gifts the donor made."""
        return int(await self._redis.zcard(keys.user_gifts(user_id)))

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

    async def earliest(self, user_id: int) -> int | None:
        """When the donor's first one-off gift was made (epoch s), for "what did it pay for?"."""
        first: list[Any] = await self._redis.zrange(
            keys.user_gifts(user_id), 0, 0, withscores=True
        )
        return int(first[0][1]) if first else None

    async def forget(self, user_id: int) -> None:
        """Erase the donor's index (for /forget); the gifts stay in the ledger, anonymous."""
        await self._redis.delete(keys.user_gifts(user_id))

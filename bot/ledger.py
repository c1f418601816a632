"""The donation ledger in Redis: what has been given, net of refunds and disputes."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bot import keys
from bot.redis_connection import as_text


@dataclass(frozen=True)
class Totals:
    """Campaign totals in minor units; `raised` is net of refunds and disputes."""

    raised: int = 0
    gross: int = 0
    donors: int = 0
    donations: int = 0
    refunded: int = 0
    disputed: int = 0


class DonationLedger:
    """Records donations and reversals atomically; reads the running totals."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def totals(self) -> Totals:
        raw = await self._redis.hgetall(keys.totals())
        fields = {as_text(key): int(value) for key, value in raw.items()}
        return Totals(**{name: fields.get(name, 0) for name in Totals.__dataclass_fields__})

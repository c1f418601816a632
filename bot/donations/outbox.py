"""The outbox: messages owed to donors because of something Stripe told us, kept until sent.

The thank-you for a gift is written by the ledger's record script, in the same step as the gift
(see ledger.py); every other notice is queued here. This module owns the notices' JSON format and
their life after queueing: claimed by one sender, delivered or given up, dropped by /forget.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypedDict, cast

from redis.asyncio import Redis

from bot.storage import keys
from bot.storage.connection import as_text, text_of

NOTICE_MEMORY_SECONDS = 90 * 24 * 3600
# A claim taken without a TTL of its own lapses this long after it was taken or last renewed,
# so a crashed sender's claim frees the notice by itself. The courier passes a shorter one
# derived from BROADCAST_RECOVERY_SECONDS and renews it while its send is under way.
NOTICE_CLAIM_SECONDS = 15

# KEYS: notice marker, outbox. ARGV: notice id, JSON, marker TTL.
# The marker outlives the outbox entry, so a replayed event cannot queue a sent notice again.
_QUEUE = """
if redis.call('SET', KEYS[1], 1, 'NX', 'EX', ARGV[3]) then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS: claim, outbox. ARGV: notice id, owner, TTL (ms). A notice sent or dropped meanwhile
# (by another process, or /forget) is not claimed.
_CLAIM_OWED = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then return 1 end
return 0
"""

# KEYS: claim. ARGV: owner, TTL (ms). Renews the claim only while this owner still holds it.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: claim. ARGV: owner. Frees the claim only if this owner holds it (not a successor's).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class NoticeKind(StrEnum):
    """What a notice tells its donor; the values are the `kind` stored in the outbox JSON."""

    THANKS = "thanks"
    PAYMENT_FAILED = "payment-failed"
    MONTHLY_ENDED = "monthly-ended"
    # To a supporter, once: the first gift through their own /share link.
    SHARED_GIFT = "shared-gift"
    MONTHLY_RESUMING = "monthly-resuming"
    # After the billing portal: the monthly gift's new card is the one Stripe will charge.
    CARD_UPDATED = "card-updated"


class NoticeData(TypedDict, total=False):
    """What a notice's text needs: the gift it thanks for, or the amount that failed."""

    donation_id: str
    amount: int
    # The gift's Frequency value ("once" or "monthly"), and whether it is a monthly renewal.
    kind: str
    renewal: bool
    # A first one-off gift's thank-you: the monthly amount it suggests (handlers/mygift).
    suggest_monthly: int
    # An ended monthly gift the bot stopped because the campaign is over.
    campaign_over: bool


@dataclass(frozen=True)
class Notice:
    """A message owed to someone because of something Stripe told us; kept until sent."""

    notice_id: str
    kind: NoticeKind
    chat_id: int
    locale: str
    data: NoticeData = field(default_factory=lambda: NoticeData())

    def to_json(self) -> str:
        return json.dumps({
            "kind": self.kind.value, "chat_id": self.chat_id, "locale": self.locale,
            "data": self.data,
        })

    @classmethod
    def from_json(cls, notice_id: str, raw: str) -> Notice:
        parsed = json.loads(raw)
        return cls(
            notice_id, NoticeKind(parsed["kind"]), parsed["chat_id"], parsed["locale"],
            cast(NoticeData, parsed["data"]),
        )


class Outbox:
    """Queues notices once, lets one sender at a time claim each, and forgets them when done."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._queue = redis.register_script(_QUEUE)
        self._claim_owed = redis.register_script(_CLAIM_OWED)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def queue(self, notice: Notice) -> bool:
        """Queue a notice unless it was queued before (a replayed event); True if queued now."""
        queued = await self._queue(
            keys=[keys.notice_sent(notice.notice_id), keys.outbox()],
            args=[notice.notice_id, notice.to_json(), NOTICE_MEMORY_SECONDS],
        )
        return bool(queued)

    async def pending(self) -> list[Notice]:
        """Every notice not yet delivered (after a restart, or a failed send)."""
        raw = await self._redis.hgetall(keys.outbox())
        return [Notice.from_json(text_of(k), text_of(v)) for k, v in raw.items()]

    async def owed_ids(self) -> list[str]:
        """The ids of every notice not yet delivered, without reading the notices."""
        return [text_of(notice_id) for notice_id in await self._redis.hkeys(keys.outbox())]

    async def get(self, notice_id: str) -> Notice | None:
        raw = as_text(await self._redis.hget(keys.outbox(), notice_id))
        return Notice.from_json(notice_id, raw) if raw is not None else None

    async def unclaimed(self, notice_id: str) -> Notice | None:
        """The notice if it is still owed and nobody holds it: worth waiting a send turn for."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hget(keys.outbox(), notice_id)
            pipe.exists(keys.notice_claim(notice_id))
            raw, claimed = await pipe.execute()
        text = as_text(raw)
        return None if text is None or claimed else Notice.from_json(notice_id, text)

    async def claim_owed(self, notice_id: str, owner: str, ttl_ms: int) -> bool:
        """Claim the notice for `ttl_ms` unless it is no longer owed or another holds it."""
        claimed = await self._claim_owed(
            keys=[keys.notice_claim(notice_id), keys.outbox()], args=[notice_id, owner, ttl_ms]
        )
        return bool(claimed)

    async def claim(self, notice_id: str, owner: str = "1", ttl_ms: int | None = None) -> bool:
        """Only one sender at a time per notice (every process's courier and sweep)."""
        claimed = await self._redis.set(
            keys.notice_claim(notice_id), owner, nx=True,
            px=ttl_ms if ttl_ms is not None else NOTICE_CLAIM_SECONDS * 1000,
        )
        return bool(claimed)

    async def renew(self, notice_id: str, owner: str, ttl_ms: int) -> bool:
        """Keep holding a claim for `ttl_ms` more; False if it lapsed and went to another."""
        renewed = await self._renew(keys=[keys.notice_claim(notice_id)], args=[owner, ttl_ms])
        return bool(renewed)

    async def release(self, notice_id: str, owner: str | None = None) -> None:
        """Give the notice back for a later attempt (only `owner`'s claim, when given)."""
        if owner is None:
            await self._redis.delete(keys.notice_claim(notice_id))
        else:
            await self._release(keys=[keys.notice_claim(notice_id)], args=[owner])

    async def done(self, notice_id: str) -> None:
        """The notice was sent, or can never be: it leaves the outbox."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(keys.outbox(), notice_id)
            pipe.delete(keys.notice_claim(notice_id))
            await pipe.execute()

    async def drop_owed_to(self, chat_id: int) -> int:
        """Drop every notice owed to this chat (for /forget); returns how many."""
        owed = [notice.notice_id for notice in await self.pending() if notice.chat_id == chat_id]
        if owed:
            await self._redis.hdel(keys.outbox(), *owed)
        return len(owed)

"""An organizer's spending entry while it is written (or corrected), kept in Redis for a day.

Each draft carries a random token, written into its preview's buttons; what the token became
(the entry, or "discarded") is recorded by the script that acts (bot/donations/spending.py
records and corrects), so a second tap finds the answer instead of acting again.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bot.broadcasts.drafts import new_token
from bot.storage import keys
from bot.storage.connection import text_of

DRAFT_TTL_SECONDS = 24 * 3600

# KEYS: draft, outcome of its token. ARGV: token, outcome TTL (s).
# Answers 1 when this call discarded it, 0 when an earlier call had settled it, -1 when the
# token is not the draft's (expired, replaced).
_DISCARD = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], 'discarded', 'EX', ARGV[2])
return 1
"""


@dataclass(frozen=True)
class SpendingDraft:
    """What the organizer gave so far: amount (minor units), plain texts, photo file_id."""

    token: str
    amount: int | None
    texts: dict[str, str]
    photo: str | None
    need: str | None
    # The entry being corrected; None for a new one.
    entry_id: int | None


class SpendingDrafts:
    """One spending draft per organizer; discarding it happens once per token."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._discard = redis.register_script(_DISCARD)

    async def start(self, admin_id: int, **fields: str | int) -> str:
        """A new draft (replacing any other), with its token and the given fields."""
        token = new_token()
        key = keys.spending_draft(admin_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping={"token": token, **fields})  # type: ignore[dict-item]
            pipe.expire(key, DRAFT_TTL_SECONDS)
            await pipe.execute()
        return token

    async def update(self, admin_id: int, **fields: str | int) -> None:
        key = keys.spending_draft(admin_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
            pipe.expire(key, DRAFT_TTL_SECONDS)
            await pipe.execute()

    async def get(self, admin_id: int) -> SpendingDraft | None:
        raw = await self._redis.hgetall(keys.spending_draft(admin_id))
        fields = {text_of(key): text_of(value) for key, value in raw.items()}
        if "token" not in fields:
            return None
        texts = {
            name.removeprefix("text:"): value
            for name, value in fields.items() if name.startswith("text:") and value
        }
        amount, entry = fields.get("amount"), fields.get("entry")
        return SpendingDraft(
            fields["token"], int(amount) if amount else None, texts,
            fields.get("photo") or None, fields.get("need") or None,
            int(entry) if entry else None,
        )

    async def discard(self, admin_id: int, token: str) -> int:
        """Drop the draft once for its token: 1 now, 0 settled before, -1 not this draft."""
        answer = await self._discard(
            keys=[keys.spending_draft(admin_id), keys.spending_draft_outcome(token)],
            args=[token, DRAFT_TTL_SECONDS],
        )
        return int(answer)

    async def drop(self, admin_id: int) -> None:
        """Drop whatever draft the organizer has (/cancel, /forget)."""
        await self._redis.delete(keys.spending_draft(admin_id))

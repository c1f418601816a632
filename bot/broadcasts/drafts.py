"""An organizer's broadcast while it is being composed, kept in Redis for a day."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bot.storage import keys
from bot.storage.connection import as_text

DRAFT_TTL_SECONDS = 24 * 3600

# KEYS: draft. Returns its fields and deletes it, so two taps on Confirm make one broadcast.
_CONSUME = """
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return fields
"""


@dataclass(frozen=True)
class Draft:
    """Texts per locale (HTML), photo file_id and scheduled time (ms) chosen so far."""

    texts: dict[str, str]
    photo: str | None
    send_at: int | None
    # The organizer chose one text for everyone: correcting it corrects both.
    same_text: bool = False


class BroadcastDrafts:
    """One draft per organizer; confirming consumes it exactly once."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._consume = redis.register_script(_CONSUME)

    async def start(self, admin_id: int) -> None:
        key = keys.broadcast_draft(admin_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, "created", 1)
            pipe.expire(key, DRAFT_TTL_SECONDS)
            await pipe.execute()

    async def update(self, admin_id: int, **fields: str | int) -> None:
        key = keys.broadcast_draft(admin_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
            pipe.expire(key, DRAFT_TTL_SECONDS)
            await pipe.execute()

    async def get(self, admin_id: int) -> Draft | None:
        raw = await self._redis.hgetall(keys.broadcast_draft(admin_id))
        return _draft({str(as_text(k)): str(as_text(v)) for k, v in raw.items()})

    async def consume(self, admin_id: int) -> Draft | None:
        """The draft, for exactly one of several concurrent confirmations."""
        flat = [str(as_text(item)) for item in await self._consume(
            keys=[keys.broadcast_draft(admin_id)]
        )]
        return _draft(dict(zip(flat[::2], flat[1::2], strict=True)))

    async def discard(self, admin_id: int) -> bool:
        return bool(await self._redis.delete(keys.broadcast_draft(admin_id)))


def _draft(fields: dict[str, str]) -> Draft | None:
    if not fields:
        return None
    texts = {
        name.removeprefix("text:"): value
        for name, value in fields.items() if name.startswith("text:") and value
    }
    send_at = fields.get("send_at")
    return Draft(
        texts, fields.get("photo") or None, int(send_at) if send_at else None,
        same_text=fields.get("same") == "1",
    )

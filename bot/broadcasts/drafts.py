"""An organizer's broadcast while it is being composed, kept in Redis for a day.

Each draft carries a random token, written into its preview's buttons. Confirming or discarding
records what the token became (bot/broadcasts/store.py confirms), in the same script that acts,
so a second tap, or a tap retried after an error, finds the answer instead of acting again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from redis.asyncio import Redis

from bot.storage import keys
from bot.storage.connection import as_text

DRAFT_TTL_SECONDS = 24 * 3600
# The outcome of a draft's token outlives the draft by as long as its buttons can be tapped.
OUTCOME_TTL_SECONDS = DRAFT_TTL_SECONDS
# What a discarded draft's token records (a confirmed one records its broadcast id).
DISCARDED = "discarded"
TOKEN_PATTERN = "[0-9a-f]{12}"

# KEYS: draft, outcome of its token. ARGV: token, outcome TTL (s).
# Answers {1, 'discarded'} when this call discarded it, {0, outcome} when an earlier call had
# confirmed or discarded it, {-1, ''} when the token is not the draft's (expired, replaced).
_DISCARD = """
local settled = redis.call('GET', KEYS[2])
if settled then return {0, settled} end
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return {-1, ''} end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], 'discarded', 'EX', ARGV[2])
return {1, 'discarded'}
"""


@dataclass(frozen=True)
class Draft:
    """Texts per locale (HTML), photo file_id and scheduled time (ms) chosen so far."""

    texts: dict[str, str]
    photo: str | None
    send_at: int | None
    # The organizer chose one text for everyone: correcting it corrects both.
    same_text: bool = False
    # Written into the preview's buttons; what the draft became is recorded under it.
    token: str = ""
    # The closing report's (handlers/close): the lines the bot wrote above the organizer's text.
    head: dict[str, str] = field(default_factory=dict)
    # Ignores quiet hours (bot/broadcasts/quiet.py): the organizer's toggle on the preview.
    urgent: bool = False

    @property
    def closing(self) -> bool:
        """A closing report's draft (confirming it closes the campaign)."""
        return bool(self.head)

    def reader_text(self, locale: str, text: str) -> str:
        """What readers of `locale` receive for `text`: the bot's lines, if any, then it."""
        return "\n\n".join(part for part in (self.head.get(locale), text) if part)

    def reader_texts(self) -> dict[str, str]:
        """What readers receive, per language."""
        return {locale: self.reader_text(locale, text) for locale, text in self.texts.items()}


@dataclass(frozen=True)
class Settlement:
    """What a tap on a draft's button did, or found an earlier tap had done."""

    # The broadcast the draft became; None if it was discarded, or is gone.
    broadcast_id: int | None
    # This call settled it; False when an earlier one had.
    now: bool
    # Neither confirmed nor discarded under this token: it expired or a new draft replaced it.
    gone: bool = False


GONE = Settlement(None, now=False, gone=True)


def new_token() -> str:
    """A draft's token: random, so an old preview's buttons never name a newer draft."""
    return secrets.token_hex(6)


def settlement_of(answer: list[object]) -> Settlement:
    """A confirm or discard script's {state, outcome} answer."""
    state, outcome = int(str(answer[0])), str(as_text(answer[1]))  # type: ignore[arg-type]
    if state < 0:
        return GONE
    broadcast_id = None if outcome == DISCARDED else int(outcome)
    return Settlement(broadcast_id, now=state == 1)


class BroadcastDrafts:
    """One draft per organizer; confirming or discarding it happens once per token."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._discard = redis.register_script(_DISCARD)

    async def start(self, admin_id: int, head: dict[str, str] | None = None) -> None:
        """A new draft, with the bot's lines above the organizer's text for a closing report."""
        key = keys.broadcast_draft(admin_id)
        fields: dict[str | bytes, str | bytes] = {"token": new_token()}
        fields.update({f"head:{locale}": line for locale, line in (head or {}).items()})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
            pipe.expire(key, DRAFT_TTL_SECONDS)
            await pipe.execute()

    async def update(self, admin_id: int, **fields: str | int) -> None:
        key = keys.broadcast_draft(admin_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
            # A draft begun before drafts had tokens (or re-begun by a late answer) gets one,
            # so its preview's buttons can name it.
            pipe.hsetnx(key, "token", new_token())
            pipe.expire(key, DRAFT_TTL_SECONDS)
            await pipe.execute()

    async def get(self, admin_id: int) -> Draft | None:
        raw = await self._redis.hgetall(keys.broadcast_draft(admin_id))
        return _draft({str(as_text(k)): str(as_text(v)) for k, v in raw.items()})

    async def settled(self, token: str) -> Settlement:
        """What an earlier tap made of the draft with this token, if anything."""
        outcome = as_text(await self._redis.get(keys.broadcast_draft_outcome(token)))
        if outcome is None:
            return GONE
        return Settlement(None if outcome == DISCARDED else int(outcome), now=False)

    async def discard(self, admin_id: int, token: str | None = None) -> Settlement:
        """Drop the draft, once for its token (None: whichever draft the organizer has)."""
        if token is None:
            draft = await self.get(admin_id)
            if draft is None:
                return GONE
            if not draft.token:
                await self._redis.delete(keys.broadcast_draft(admin_id))
                return Settlement(None, now=True)
            token = draft.token
        answer = await self._discard(
            keys=[keys.broadcast_draft(admin_id), keys.broadcast_draft_outcome(token)],
            args=[token, OUTCOME_TTL_SECONDS],
        )
        return settlement_of(answer)


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
        same_text=fields.get("same") == "1", token=fields.get("token", ""),
        head={
            name.removeprefix("head:"): value
            for name, value in fields.items() if name.startswith("head:") and value
        },
        urgent=fields.get("urgent") == "1",
    )

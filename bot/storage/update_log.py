"""Telegram updates in webhook mode: claimed while handled, then marked done, so each is handled
once and an update whose handler died with its process is handled again.

An update's key holds the token of the delivery handling it, for a short claim renewed while the
handling lasts, then "done" for a day. A process killed mid-update stops renewing: its claim
lapses and Telegram's next delivery of the update, which never got its 200, claims it afresh.
"""

from __future__ import annotations

import enum
import math
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.storage import keys

# Telegram redelivers for a while; a day of memory covers every retry it makes.
DONE_SECONDS = 24 * 3600
DONE = "done"
# What the log held before claims: an update accepted, and handled unless its process died.
_ACCEPTED_BEFORE_CLAIMS = "1"

# KEYS: the update. ARGV: the delivery's token, the claim in ms, DONE, the legacy accepted mark.
# {1, 0}: this delivery's claim, taken or renewed; {2, 0}: done; {0, ms}: another's, ms more at
# most. A claim of ours found lapsed is taken again: nobody else handled the update meanwhile, or
# it would say done.
_CLAIM = """
local value = redis.call('GET', KEYS[1])
if value == false or value == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, 0}
end
if value == ARGV[3] or value == ARGV[4] then return {2, 0} end
return {0, redis.call('PTTL', KEYS[1])}
"""

# KEYS: the update. ARGV: the delivery's token. Given up only by the delivery holding it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Standing(enum.Enum):
    """Where an update stands when a delivery of it arrives."""

    CLAIMED = "claimed"  # by this delivery, which handles it
    ELSEWHERE = "elsewhere"  # another delivery is handling it, or died handling it
    DONE = "done"


@dataclass(frozen=True)
class Claim:
    """One delivery's answer from the log: its standing, and how long another claim may last."""

    update_id: int
    token: str
    standing: Standing
    retry_after_seconds: int = 0


class UpdateLog:
    """One key per update_id, claimed only if absent, so concurrent deliveries agree."""

    def __init__(self, redis: Redis, claim_seconds: float) -> None:
        self._redis = redis
        self._claim_ms = int(claim_seconds * 1000)
        # Three renewals per claim: one slow renewal does not lose it.
        self.renew_seconds = claim_seconds / 3
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)

    async def claim(self, update_id: int, token: str | None = None) -> Claim:
        """Claim the update for this delivery (a new one without `token`), unless it is done or
        claimed by another."""
        token = token or uuid.uuid4().hex
        found, left_ms = await self._claim(
            keys=[keys.telegram_update(update_id)],
            args=[token, self._claim_ms, DONE, _ACCEPTED_BEFORE_CLAIMS],
        )
        if int(found) == 1:
            return Claim(update_id, token, Standing.CLAIMED)
        if int(found) == 2:
            return Claim(update_id, token, Standing.DONE)
        # A claim without expiry cannot be one of ours: wait as long as a whole claim.
        left = int(left_ms) if int(left_ms) > 0 else self._claim_ms
        return Claim(update_id, token, Standing.ELSEWHERE, math.ceil(left / 1000))

    async def renew(self, claim: Claim) -> bool:
        """Extend the claim if still this delivery's; False once another delivery holds it or
        marked it done (this process stalled past its claim)."""
        again = await self.claim(claim.update_id, claim.token)
        return again.standing is Standing.CLAIMED

    async def release(self, claim: Claim) -> None:
        """Give up a claim not acted on, so the next delivery need not wait for its expiry."""
        await self._release(keys=[keys.telegram_update(claim.update_id)], args=[claim.token])

    async def done(self, update_id: int) -> None:
        """Mark the update handled, whoever holds its claim: any later delivery is a duplicate."""
        await self._redis.set(keys.telegram_update(update_id), DONE, ex=DONE_SECONDS)

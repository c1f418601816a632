"""Telegram updates in webhook mode: claimed while handled, then marked done, so each is handled
once and an update whose handler died with its process is handled again.

An update's key holds the token of the delivery handling it, for a short claim renewed while the
handling lasts, then "done" for a day. A process killed mid-update stops renewing: its claim
lapses and Telegram's next delivery of the update, which never got its 200, claims it afresh.

In a burst every delivery claims its update and marks it done: the claims, renewals and done
marks asked for while one call is on its way to Redis go together in the next (one script, in
the order asked), each delivery still waiting for its own answer before it acts on it.
"""

from __future__ import annotations

import enum
import itertools
import math
import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.storage import keys
from bot.storage.call_batching import CallBatcher

# Telegram redelivers for a while; a day of memory covers every retry it makes.
DONE_SECONDS = 24 * 3600
DONE = "done"
# What the log held before claims: an update accepted, and handled unless its process died.
_ACCEPTED_BEFORE_CLAIMS = "1"
# The token of a step that marks its update done rather than claiming it.
_MARK_DONE = ""

# KEYS: the updates. ARGV: the claim in ms, DONE, the legacy accepted mark, the done mark's TTL
# in s, then per update the token of the delivery claiming it ('' to mark it done instead).
# Per update, two numbers: 1, 0: this delivery's claim, taken or renewed; 2, 0: done (or just
# marked done); 0, ms: another's, ms more at most. A claim of ours found lapsed is taken again:
# nobody else handled the update meanwhile, or it would say done.
_STEP = """
local answers = {}
for i, key in ipairs(KEYS) do
  local token = ARGV[4 + i]
  local found, left = 2, 0
  if token == '' then
    redis.call('SET', key, ARGV[2], 'EX', ARGV[4])
  else
    local value = redis.call('GET', key)
    if value == false or value == token then
      redis.call('SET', key, token, 'PX', ARGV[1])
      found = 1
    elseif value ~= ARGV[2] and value ~= ARGV[3] then
      found, left = 0, redis.call('PTTL', key)
    end
  end
  answers[2 * i - 1], answers[2 * i] = found, left
end
return answers
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
        self._claim_ms = int(claim_seconds * 1000)
        # Three renewals per claim: one slow renewal does not lose it.
        self.renew_seconds = claim_seconds / 3
        self._step_script = redis.register_script(_STEP)
        self._release = redis.register_script(_RELEASE)
        self._steps = CallBatcher(self._step)
        # Unique across processes by the random part, across this process's deliveries by the
        # count: a token told apart from every other delivery's, without a uuid per update.
        self._tokens = map(f"{secrets.token_hex(8)}-{{}}".format, itertools.count())

    async def claim(self, update_id: int, token: str | None = None) -> Claim:
        """Claim the update for this delivery (a new one without `token`), unless it is done or
        claimed by another."""
        token = token or next(self._tokens)
        found, left_ms = await self._steps((update_id, token))
        if found == 1:
            return Claim(update_id, token, Standing.CLAIMED)
        if found == 2:
            return Claim(update_id, token, Standing.DONE)
        # A claim without expiry cannot be one of ours: wait as long as a whole claim.
        left = left_ms if left_ms > 0 else self._claim_ms
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
        await self._steps((update_id, _MARK_DONE))

    async def _step(self, steps: list[tuple[int, str]]) -> list[tuple[int, int]]:
        """One script call for the claims and done marks asked for meanwhile, in order."""
        answers = await self._step_script(
            keys=[keys.telegram_update(update_id) for update_id, _ in steps],
            args=[self._claim_ms, DONE, _ACCEPTED_BEFORE_CLAIMS, DONE_SECONDS,
                  *(token for _, token in steps)],
        )
        numbers = [int(n) for n in answers]
        return list(zip(numbers[::2], numbers[1::2], strict=True))

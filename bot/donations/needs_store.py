"""The needs board in Redis: one summary hash, the organizers' allocations, and the one
broadcast of each need filled.

Gifts move the board in the ledger's own record script (ledger_scripts.py RECORD), so a gift
and its count are one step; allocations are one script here, checked against the pool in that step.
"""

from __future__ import annotations

import html
import logging
import secrets
from dataclasses import dataclass
from enum import Enum

from redis.asyncio import Redis
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.broadcasts.store import BroadcastContent, BroadcastStore
from bot.donations.needs import Need, NeedProgress, NeedsBoard, find_need
from bot.i18n import SUPPORTED_LOCALES, Localizer, money
from bot.storage import keys
from bot.storage.connection import text_of
from bot.storage.job_runs import JobRuns

log = logging.getLogger(__name__)

ALLOCATION_TTL_SECONDS = 24 * 3600
TOKEN_PATTERN = "[0-9a-f]{12}"

# KEYS: board, the allocation awaiting confirmation, its outcome, the need's announcement
# marker, beneficiary feed. ARGV: need id, amount, the need's goal (cents), its broadcast
# token, the outcome's TTL (s).
# Answers {1, cents of the need} once allocated, {0, outcome} when an earlier tap did it,
# {-1, ''} for an allocation that is gone, {-2, unallocated} when the pool is smaller. The pool
# is read in the same step as it is taken from, so two allocations at once cannot overdraw it;
# filling a need here announces it exactly as a gift would (ledger_scripts.py RECORD).
_ALLOCATE = """
local done = redis.call('GET', KEYS[3])
if done then return {0, done} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {-1, ''} end
local amount = tonumber(ARGV[2])
local pool = tonumber(redis.call('HGET', KEYS[1], 'general') or '0')
  - tonumber(redis.call('HGET', KEYS[1], 'allocated') or '0')
if amount > pool then return {-2, tostring(pool)} end
redis.call('HINCRBY', KEYS[1], 'allocated', amount)
local cents = redis.call('HINCRBY', KEYS[1], 'need:' .. ARGV[1], amount)
if cents >= tonumber(ARGV[3])
    and redis.call('HSETNX', KEYS[1], 'filled:' .. ARGV[1], 'allocation') == 1 then
  redis.call('HSET', KEYS[4], 'token', ARGV[4])
  redis.call('RPUSH', KEYS[5], cjson.encode({kind = 'need_filled', need = ARGV[1]}))
end
redis.call('SET', KEYS[3], 'done', 'EX', ARGV[5])
redis.call('DEL', KEYS[2])
return {1, tostring(cents)}
"""


# KEYS: the allocation awaiting confirmation, its outcome. ARGV: the outcome's TTL (s).
# Answers 1 once dropped, 0 when a Confirm allocated it first, -1 when it was dropped or had
# expired before. Read and taken in one step with the outcome, so Confirm and Cancel tapped
# together do one thing: the loser is told what the winner did (see _ALLOCATE, which reads it).
_DROP = """
local done = redis.call('GET', KEYS[2])
if done then return done == 'done' and 0 or -1 end
if redis.call('DEL', KEYS[1]) == 0 then return -1 end
redis.call('SET', KEYS[2], 'cancelled', 'EX', ARGV[1])
return 1
"""


class DropResult(Enum):
    """What cancelling an allocation did."""

    DROPPED = 1
    ALLOCATED = 0
    GONE = -1


class AllocationResult(Enum):
    """What confirming an allocation did."""

    ALLOCATED = "allocated"
    ALREADY = "already"
    GONE = "gone"
    TOO_LARGE = "too-large"


@dataclass(frozen=True)
class Allocation:
    """An allocation awaiting the organizer's confirmation."""

    need: Need
    amount: int
    # The organizer who asked for it: only their tap confirms it.
    admin_id: int


class NeedsStore:
    """Reads the board and shares the general pool out; the only door to the needs' keys."""

    def __init__(self, redis: Redis, needs: tuple[Need, ...]) -> None:
        self._redis = redis
        self.needs = needs
        self._allocate = redis.register_script(_ALLOCATE)
        self._drop = redis.register_script(_DROP)

    async def board(self) -> NeedsBoard:
        """Every need's progress and the general pool, in one read."""
        raw = {text_of(k): int(v) for k, v in (await self._redis.hgetall(keys.needs_summary()))
               .items() if not text_of(k).startswith("filled:")}
        return NeedsBoard(
            tuple(NeedProgress(need, raw.get(f"need:{need.need_id}", 0)) for need in self.needs),
            general=raw.get("general", 0), allocated=raw.get("allocated", 0),
        )

    async def propose(self, admin_id: int, need: Need, amount: int) -> str:
        """Keep an allocation for the preview's Confirm button; returns its token."""
        token = secrets.token_hex(6)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.need_allocation(token), mapping={
                "need": need.need_id, "amount": amount, "admin": admin_id,
            })
            pipe.expire(keys.need_allocation(token), ALLOCATION_TTL_SECONDS)
            await pipe.execute()
        return token

    async def proposed(self, token: str) -> Allocation | None:
        """The allocation a preview shows, while it awaits confirmation."""
        raw = await self._redis.hgetall(keys.need_allocation(token))
        fields = {text_of(k): text_of(v) for k, v in raw.items()}
        need = find_need(self.needs, fields.get("need"))
        if need is None or not fields.get("amount", "").isdigit():
            return None
        return Allocation(need, int(fields["amount"]), int(fields.get("admin") or 0))

    async def confirm(self, token: str, allocation: Allocation) -> tuple[AllocationResult, int]:
        """Allocate once per token; with TOO_LARGE, the pool as it is."""
        need = allocation.need
        state, value = await self._allocate(
            keys=[
                keys.needs_summary(), keys.need_allocation(token),
                keys.need_allocation_done(token), keys.need_announcement(need.need_id),
                keys.beneficiary_feed(),
            ],
            args=[
                need.need_id, allocation.amount, need.goal, need.announcement_token(),
                ALLOCATION_TTL_SECONDS,
            ],
        )
        result = {1: AllocationResult.ALLOCATED, 0: AllocationResult.ALREADY,
                  -1: AllocationResult.GONE}.get(int(state), AllocationResult.TOO_LARGE)
        return result, int(text_of(value) or 0) if result is AllocationResult.TOO_LARGE else 0

    async def drop(self, token: str) -> DropResult:
        """Forget an allocation the organizer cancelled, unless it was confirmed first."""
        answer = await self._drop(
            keys=[keys.need_allocation(token), keys.need_allocation_done(token)],
            args=[ALLOCATION_TTL_SECONDS],
        )
        return DropResult(int(answer))

    async def filled_waiting(self) -> list[Need]:
        """The needs filled whose broadcast is not made yet (their marker is still there)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for need in self.needs:
                pipe.exists(keys.need_announcement(need.need_id))
            found = await pipe.execute()
        return [need for need, exists in zip(self.needs, found, strict=True) if exists]


class NeedsAnnouncer:
    """Turns each filled need's marker into its one broadcast to the subscribers."""

    def __init__(
        self, store: NeedsStore, broadcasts: BroadcastStore, l10n: Localizer, currency: str,
        organizer: int, locale: str, runs: JobRuns,
    ) -> None:
        self._store = store
        self._broadcasts = broadcasts
        self._l10n = l10n
        self._currency = currency
        # Shown the broadcast's progress and report, as for an organizer's own broadcast.
        self._organizer = organizer
        self._locale = locale
        self._runs = runs

    async def announce(self, bot: ExtBot[None]) -> int:
        """Make the broadcast of every need filled since; returns how many were made here."""
        return await self._runs.alone("needs-announcer", lambda: self._announce(bot)) or 0

    async def _announce(self, bot: ExtBot[None]) -> int:
        made = 0
        for need in await self._store.filled_waiting():
            texts = {
                locale: self._l10n.format(
                    locale, "needs-filled-broadcast", need=html.escape(need.text(locale)),
                    target=need.target,
                    amount=money(need.goal, self._currency),
                )
                for locale in SUPPORTED_LOCALES
            }
            progress = 0
            try:
                sent = await bot.send_message(self._organizer, self._l10n.format(
                    self._locale, "needs-filled-organizer",
                    need=html.escape(need.text(self._locale)),
                ))
                progress = sent.message_id
            except TelegramError as exc:
                # The broadcast matters more than its progress message: it goes out anyway.
                log.warning("need filled progress message failed error=%s", type(exc).__name__)
            settled = await self._broadcasts.create_once(
                keys.need_announcement(need.need_id), need.announcement_token(),
                BroadcastContent(texts), created_by=self._organizer, admin_locale=self._locale,
                progress_chat=self._organizer, progress_message=progress,
            )
            if settled.now:
                made += 1
                log.info("need filled broadcast need=%s broadcast=%s", need.need_id,
                         settled.broadcast_id)
        return made

"""Quiet hours for broadcasts: who is held, until when, and their way back into the stream.

The send step (bot/broadcasts/queue.py) reads the recipient's `quiet` field as it would mark the
entry: a subscriber inside their window is not sent to but moved, in that same script, to the
broadcast's held set, scored by when the window ends. A mover in every process puts the entries
that are due back into the stream, one script per batch, so a crash or two movers at once neither
lose nor double anyone; the broadcast ends once its stream and its held set are both empty.

Scores are the campaign's wall-clock time as if it were UTC (ms): "08:00" is 08:00 on the
campaign's clocks whatever the season, so the scripts need no time zone and a DST change never
lets a message in an hour early.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from bot.broadcasts.preferences import QuietHours
from bot.clock import Clock
from bot.storage import keys
from bot.storage.connection import as_text

# The most held entries one mover call puts back; the next call takes the rest.
RELEASE_BATCH = 500

# KEYS: job, held set, stream. ARGV: wall-clock now (ms), the most to move.
# Entries whose window has ended go back into the stream with their fields, as new entries the
# consumer group hands out like any other; only while the broadcast is being sent.
_RELEASE = """
if redis.call('HGET', KEYS[1], 'status') ~= 'sending' then return 0 end
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[2], member)
  redis.call('XADD', KEYS[3], '*', unpack(cjson.decode(member)[2]))
end
if #due > 0 then redis.call('HINCRBY', KEYS[1], 'held', -#due) end
return #due
"""

# KEYS: job, held set. ARGV: chat id. For /forget: the chat's held entries leave the set and the
# total, so it is never sent and its id stays nowhere. Returns how many.
_FORGET = """
local removed = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local fields = cjson.decode(member)[2]
  for j = 1, #fields, 2 do
    if fields[j] == 'chat' and fields[j + 1] == ARGV[1] then
      redis.call('ZREM', KEYS[2], member)
      removed = removed + 1
    end
  end
end
if removed > 0 then
  redis.call('HINCRBY', KEYS[1], 'held', -removed)
  redis.call('HINCRBY', KEYS[1], 'total', -removed)
end
return removed
"""


# KEYS: active, parked, job, stream, in-flight, held set. ARGV: id.
# A broadcast left with only held recipients steps aside, so the next one (an urgent one, say)
# need not wait for the morning: the one-at-a-time slot is freed, the broadcast listed as parked.
# Only once nothing is queued or in flight; answers 2 when this call parked it, 1 when it was
# already, 0 when it goes on.
_PARK = """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 1 end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[3], 'status') ~= 'sending' or redis.call('HGET', KEYS[3], 'fed') ~= '1'
    or redis.call('XLEN', KEYS[4]) > 0 or redis.call('HLEN', KEYS[5]) > 0
    or redis.call('ZCARD', KEYS[6]) == 0 then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('SADD', KEYS[2], ARGV[1])
return 2
"""

# What parking answers: this call parked the broadcast (its process tells the organizer).
PARKED_NOW = 2

# KEYS: active, parked, then per parked broadcast its job, held set and stream. ARGV: wall-clock
# now (ms), then the parked ids in that order. The first parked broadcast with work again (a
# window ended, entries queued by a mover that ran as it was parked, or cancelled, to be
# reported) takes the free slot back; its id, or 0.
_RESUME = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 2, #ARGV do
  local job, held, stream = KEYS[3 * i - 3], KEYS[3 * i - 2], KEYS[3 * i - 1]
  if redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 1 and (
      redis.call('HGET', job, 'status') ~= 'sending' or redis.call('XLEN', stream) > 0
      or #redis.call('ZRANGEBYSCORE', held, '-inf', ARGV[1], 'LIMIT', 0, 1) > 0) then
    redis.call('SREM', KEYS[2], ARGV[i])
    redis.call('SET', KEYS[1], ARGV[i])
    return tonumber(ARGV[i])
  end
end
return 0
"""


def wall_ms(moment: datetime) -> int:
    """An aware moment as its own wall-clock time read as UTC, in ms (the held set's scores)."""
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True)
class QuietClock:
    """The bot's clock read in the campaign's zone, and the window of who chose none."""

    clock: Clock
    zone: ZoneInfo
    default: QuietHours | None

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), self.zone)

    def step_args(self) -> list[str | int]:
        """What the send step's quiet-hours block reads after the steps: now and the default."""
        return [wall_ms(self.now()), "" if self.default is None else str(self.default)]


# Quiet hours off: nobody is held (what a queue built without a clock passes).
NO_QUIET_ARGS: list[str | int] = ["", ""]


class HeldRecipients:
    """The held set of a broadcast: released when due, emptied of a chat for /forget."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._release = redis.register_script(_RELEASE)
        self._forget = redis.register_script(_FORGET)
        self._park = redis.register_script(_PARK)
        self._resume = redis.register_script(_RESUME)

    async def park(self, broadcast_id: int) -> int:
        """Free the one-at-a-time slot while only held recipients are left: PARKED_NOW, 1 when
        it was parked already, 0 when it goes on."""
        return int(await self._park(
            keys=[
                keys.broadcast_active(), keys.broadcast_parked(), keys.broadcast(broadcast_id),
                keys.broadcast_stream(broadcast_id), keys.broadcast_in_flight(broadcast_id),
                keys.broadcast_held(broadcast_id),
            ],
            args=[broadcast_id],
        ))

    async def parked(self) -> list[int]:
        return sorted(int(as_text(m) or 0) for m in await self._redis.smembers(
            keys.broadcast_parked()
        ))

    async def resume(self, wall_now_ms: int) -> int | None:
        """Make active again the first parked broadcast with work to do, if the slot is free."""
        parked = await self.parked()
        if not parked:
            return None
        resumed = int(await self._resume(
            keys=[
                keys.broadcast_active(), keys.broadcast_parked(),
                *(key for broadcast_id in parked for key in _keys(broadcast_id)),
            ],
            args=[wall_now_ms, *parked],
        ))
        return resumed or None

    async def release_due(self, broadcast_id: int, wall_now_ms: int) -> int:
        """Put every entry whose window has ended back into the stream; returns how many."""
        moved = 0
        while True:
            batch = int(await self._release(
                keys=_keys(broadcast_id), args=[wall_now_ms, RELEASE_BATCH]
            ))
            moved += batch
            if batch < RELEASE_BATCH:
                return moved

    async def forget(self, broadcast_id: int, chat_id: int) -> int:
        return int(await self._forget(
            keys=[keys.broadcast(broadcast_id), keys.broadcast_held(broadcast_id)],
            args=[chat_id],
        ))


def _keys(broadcast_id: int) -> list[str]:
    return [
        keys.broadcast(broadcast_id), keys.broadcast_held(broadcast_id),
        keys.broadcast_stream(broadcast_id),
    ]


@dataclass(frozen=True)
class QuietNow:
    """How many of an audience are in quiet hours now, and the first time one's window ends."""

    count: int
    ends: datetime | None


def quiet_now(
    now: datetime, default: QuietHours | None, audience: int,
    custom: list[QuietHours | None],
) -> QuietNow:
    """Everyone follows the default window but the subscribers with their own (`custom`, each
    their window, None for off): one clock check for the many, one per custom window."""
    ends: list[datetime] = []
    count = 0
    if default is not None and default.contains(now) and audience > len(custom):
        count = audience - len(custom)
        ends.append(default.ends_after(now))
    for window in custom:
        if window is not None and window.contains(now):
            count += 1
            ends.append(window.ends_after(now))
    return QuietNow(count, min(ends) if ends else None)


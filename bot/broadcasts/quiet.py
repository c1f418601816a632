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
        self._release = redis.register_script(_RELEASE)
        self._forget = redis.register_script(_FORGET)

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


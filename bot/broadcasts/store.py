"""Broadcast jobs in Redis: durable before anyone is told "sending", resumable after any crash.

A broadcast snapshots each language's subscribers when it starts, feeds them in chunks into a
Redis Stream read by one consumer group (so several processes share the work), and marks every
send in flight before it leaves; a mark found after a crash is an outcome nobody can know, which
is counted as uncertain instead of risking a second copy.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from redis.asyncio import Redis

from bot.i18n import SUPPORTED_LOCALES
from bot.storage import keys
from bot.storage.connection import as_text, text_of

CONSUMER_GROUP = "senders"
OUTCOMES = ("sent", "failed", "blocked", "uncertain")

# KEYS: active, pending, job, stream, then (recipients, subscribers) per locale.
# ARGV: id, now (ms), group.
_ACTIVATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[3], 'status') == 'cancelled' then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
local total = 0
for i = 5, #KEYS, 2 do
  redis.call('DEL', KEYS[i])
  if redis.call('EXISTS', KEYS[i + 1]) == 1 then redis.call('COPY', KEYS[i + 1], KEYS[i]) end
  total = total + redis.call('ZCARD', KEYS[i])
end
redis.pcall('XGROUP', 'CREATE', KEYS[4], ARGV[3], '0', 'MKSTREAM')
redis.call('HSET', KEYS[3], 'status', 'sending', 'started_at', ARGV[2], 'total', total)
return 1
"""

# KEYS: job, recipients of one locale, stream. ARGV: locale, chunk size.
# Reads its own cursor, so two feeders at once cannot queue anyone twice.
_FEED = """
if redis.call('HGET', KEYS[1], 'status') ~= 'sending' then return -1 end
local cursor = tonumber(redis.call('HGET', KEYS[1], 'cursor:' .. ARGV[1]) or '0')
local ids = redis.call('ZRANGE', KEYS[2], cursor, cursor + tonumber(ARGV[2]) - 1)
for _, id in ipairs(ids) do redis.call('XADD', KEYS[3], '*', 'chat', id, 'locale', ARGV[1]) end
redis.call('HSET', KEYS[1], 'cursor:' .. ARGV[1], cursor + #ids)
return #ids
"""

# KEYS: in-flight hash, job, stream. ARGV: now (ms), deadline (ms), group, then per sender a
# triple: the entry it just sent ('' if none), that send's outcome, the entry it sends next ('').
# The outcome counts only if the mark was still ours, so a slow sender and a reclaimer never both
# count (answer 1, else 0). The next entry: 1 go and send; 2 another sender is on it or has
# finished it (an entry read long ago may have been taken over); 0 a sender died mid-send,
# counted uncertain; 3 the broadcast was cancelled, dropped unsent (-1: none).
# Recording one send and marking the next in one call halves the round trips of a broadcast.
_STEP = """
local sending = redis.call('HGET', KEYS[2], 'status') == 'sending'
local answers = {}
for i = 4, #ARGV, 3 do
  local done, outcome, entry = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local counted = 0
  if done ~= '' and redis.call('HDEL', KEYS[1], done) == 1 then
    redis.call('HINCRBY', KEYS[2], outcome, 1)
    redis.call('XACK', KEYS[3], ARGV[3], done)
    redis.call('XDEL', KEYS[3], done)
    counted = 1
  end
  answers[#answers + 1] = counted
  local deadline = entry ~= '' and redis.call('HGET', KEYS[1], entry)
  if entry == '' then
    answers[#answers + 1] = -1
  elseif not deadline and #redis.call('XRANGE', KEYS[3], entry, entry) == 0 then
    -- Already sent and recorded by a sender that took the entry over: never again.
    answers[#answers + 1] = 2
  elseif not deadline and not sending then
    redis.call('XACK', KEYS[3], ARGV[3], entry)
    redis.call('XDEL', KEYS[3], entry)
    answers[#answers + 1] = 3
  elseif not deadline then
    redis.call('HSET', KEYS[1], entry, ARGV[2])
    answers[#answers + 1] = 1
  elseif tonumber(deadline) > tonumber(ARGV[1]) then
    answers[#answers + 1] = 2
  else
    redis.call('HDEL', KEYS[1], entry)
    redis.call('HINCRBY', KEYS[2], 'uncertain', 1)
    redis.call('XACK', KEYS[3], ARGV[3], entry)
    redis.call('XDEL', KEYS[3], entry)
    answers[#answers + 1] = 0
  end
end
return answers
"""

# KEYS: in-flight hash. ARGV: entry id, new deadline (ms). 0 if the mark is no longer ours.
_EXTEND = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

# KEYS: job, stream, in-flight, active, then every recipients snapshot. ARGV: id, now (ms).
# Ends a broadcast once nothing is left to feed, queued or in flight (or it was cancelled and
# nothing is in flight). Exactly one caller gets 1 and sends the report.
_FINALIZE = """
local status = redis.call('HGET', KEYS[1], 'status')
if redis.call('HEXISTS', KEYS[1], 'finished_at') == 1 then return 0 end
if status == 'sending' then
  if redis.call('HGET', KEYS[1], 'fed') ~= '1' then return 0 end
  if redis.call('XLEN', KEYS[2]) > 0 then return 0 end
  status = 'done'
elseif status ~= 'cancelled' then
  return 0
end
if redis.call('HLEN', KEYS[3]) > 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', status, 'finished_at', ARGV[2])
if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
for i = 2, #KEYS do
  if i ~= 4 then redis.call('DEL', KEYS[i]) end
end
return 1
"""

# KEYS: job, pending. ARGV: now (ms). Returns the status the broadcast had.
_CANCEL = """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'scheduled' and status ~= 'queued' and status ~= 'sending' then
  return status or ''
end
redis.call('HSET', KEYS[1], 'status', 'cancelled')
if redis.call('ZREM', KEYS[2], ARGV[2]) == 1 then
  redis.call('HSET', KEYS[1], 'finished_at', ARGV[1])
end
return status
"""


@dataclass(frozen=True)
class Step:
    """One sender's move: the send it finished (entry id, outcome), the entry it takes next."""

    done: tuple[str, str] | None
    next_entry: str | None


@dataclass(frozen=True)
class StepAnswer:
    """Whether the finished send was counted, and the claim answer for the next (see _STEP)."""

    counted: bool
    claim: int


def now_ms() -> int:
    return int(time.time() * 1000)


class BroadcastStatus(Enum):
    """Where a broadcast is in its life."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class BroadcastContent:
    """What every subscriber receives, per locale (HTML), with an optional photo file_id."""

    texts: dict[str, str]
    photo: str | None = None

    def text_for(self, locale: str) -> str:
        """The reader's language, else the other one the organizer wrote."""
        if self.texts.get(locale):
            return self.texts[locale]
        return next(text for text in self.texts.values() if text)


@dataclass(frozen=True)
class Broadcast:
    """A broadcast as stored: content, schedule, status and delivery counts."""

    broadcast_id: int
    content: BroadcastContent
    status: BroadcastStatus
    created_by: int
    created_at: int
    send_at: int
    progress_chat: int
    progress_message: int
    admin_locale: str
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    started_at: int = 0
    finished_at: int = 0

    @property
    def handled(self) -> int:
        return sum(self.counts.get(outcome, 0) for outcome in OUTCOMES)

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.handled)


class BroadcastStore:
    """Creates, starts, feeds and closes broadcasts; each step one atomic script."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._activate = redis.register_script(_ACTIVATE)
        self._feed = redis.register_script(_FEED)
        self._step = redis.register_script(_STEP)
        self._extend = redis.register_script(_EXTEND)
        self._finalize = redis.register_script(_FINALIZE)
        self._cancel = redis.register_script(_CANCEL)

    async def create(
        self, content: BroadcastContent, *, created_by: int, admin_locale: str,
        progress_chat: int, progress_message: int, send_at: int | None = None,
    ) -> int:
        """Store the broadcast and queue it (or schedule it) in one transaction."""
        broadcast_id = int(await self._redis.incr(keys.broadcast_sequence()))
        created = now_ms()
        status = BroadcastStatus.SCHEDULED if send_at else BroadcastStatus.QUEUED
        fields: dict[str, str | int] = {
            "status": status.value,
            "created_by": created_by,
            "created_at": created,
            "send_at": send_at or created,
            "progress_chat": progress_chat,
            "progress_message": progress_message,
            "admin_locale": admin_locale,
            "photo": content.photo or "",
            **{f"text:{locale}": text for locale, text in content.texts.items()},
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.broadcast(broadcast_id), mapping=fields)  # type: ignore[arg-type]
            pipe.zadd(keys.broadcast_archive(), {str(broadcast_id): created})
            pipe.zadd(keys.broadcast_pending(), {str(broadcast_id): send_at or created})
            await pipe.execute()
        return broadcast_id

    async def get(self, broadcast_id: int) -> Broadcast | None:
        raw = await self._redis.hgetall(keys.broadcast(broadcast_id))
        fields = {str(as_text(k)): str(as_text(v)) for k, v in raw.items()}
        if not fields:
            return None

        def number(name: str) -> int:
            return int(fields.get(name) or 0)

        return Broadcast(
            broadcast_id=broadcast_id,
            content=BroadcastContent(
                texts={
                    locale: fields[f"text:{locale}"]
                    for locale in SUPPORTED_LOCALES if fields.get(f"text:{locale}")
                },
                photo=fields.get("photo") or None,
            ),
            status=BroadcastStatus(fields["status"]),
            created_by=number("created_by"),
            created_at=number("created_at"),
            send_at=number("send_at"),
            progress_chat=number("progress_chat"),
            progress_message=number("progress_message"),
            admin_locale=fields.get("admin_locale", "en"),
            counts={outcome: number(outcome) for outcome in OUTCOMES},
            total=number("total"),
            started_at=number("started_at"),
            finished_at=number("finished_at"),
        )

    async def active_id(self) -> int | None:
        raw = as_text(await self._redis.get(keys.broadcast_active()))
        return int(raw) if raw else None

    async def start_due(self) -> int | None:
        """Start the next due broadcast unless one is already being sent."""
        due = await self._redis.zrangebyscore(
            keys.broadcast_pending(), "-inf", now_ms(), start=0, num=1
        )
        if not due:
            return None
        broadcast_id = int(text_of(due[0]))
        snapshot_keys: list[str] = []
        for locale in SUPPORTED_LOCALES:
            snapshot_keys += [
                keys.broadcast_recipients(broadcast_id, locale), keys.subscribers(locale)
            ]
        started = await self._activate(
            keys=[
                keys.broadcast_active(), keys.broadcast_pending(), keys.broadcast(broadcast_id),
                keys.broadcast_stream(broadcast_id), *snapshot_keys,
            ],
            args=[broadcast_id, now_ms(), CONSUMER_GROUP],
        )
        return broadcast_id if started else None

    async def feed(self, broadcast_id: int, locale: str, chunk: int) -> int:
        """Queue the next chunk of one language's recipients; -1 once the broadcast stopped."""
        return int(
            await self._feed(
                keys=[
                    keys.broadcast(broadcast_id),
                    keys.broadcast_recipients(broadcast_id, locale),
                    keys.broadcast_stream(broadcast_id),
                ],
                args=[locale, chunk],
            )
        )

    async def mark_fed(self, broadcast_id: int) -> None:
        await self._redis.hset(keys.broadcast(broadcast_id), "fed", 1)

    async def backlog(self, broadcast_id: int) -> int:
        return int(await self._redis.xlen(keys.broadcast_stream(broadcast_id)))

    async def step(
        self, broadcast_id: int, steps: Sequence[Step], deadline_ms: int
    ) -> list[StepAnswer]:
        """Record finished sends and mark the next ones in flight; see _STEP for the answers."""
        args: list[str | int] = [now_ms(), deadline_ms, CONSUMER_GROUP]
        for step in steps:
            done, outcome = step.done or ("", "")
            args += [done, outcome, step.next_entry or ""]
        answers = await self._step(
            keys=[
                keys.broadcast_in_flight(broadcast_id), keys.broadcast(broadcast_id),
                keys.broadcast_stream(broadcast_id),
            ],
            args=args,
        )
        return [
            StepAnswer(bool(answers[i]), int(answers[i + 1])) for i in range(0, len(answers), 2)
        ]

    async def extend(self, broadcast_id: int, entry_id: str, deadline_ms: int) -> bool:
        """Push back the deadline of a send that waits (429, retries); False if taken over."""
        extended = await self._extend(
            keys=[keys.broadcast_in_flight(broadcast_id)], args=[entry_id, deadline_ms]
        )
        return bool(extended)

    async def finalize(self, broadcast_id: int) -> bool:
        """True for exactly one caller, once the broadcast is over."""
        snapshots = [
            keys.broadcast_recipients(broadcast_id, locale) for locale in SUPPORTED_LOCALES
        ]
        finalized = await self._finalize(
            keys=[
                keys.broadcast(broadcast_id), keys.broadcast_stream(broadcast_id),
                keys.broadcast_in_flight(broadcast_id), keys.broadcast_active(), *snapshots,
            ],
            args=[broadcast_id, now_ms()],
        )
        return bool(finalized)

    async def cancel(self, broadcast_id: int) -> str:
        """Stop a broadcast; returns the status it had ("" if unknown)."""
        previous = await self._cancel(
            keys=[keys.broadcast(broadcast_id), keys.broadcast_pending()],
            args=[now_ms(), broadcast_id],
        )
        return str(as_text(previous) or "")

    async def archive(self, offset: int, count: int) -> tuple[list[Broadcast], int]:
        """Broadcasts that went out (or started to), newest first, and how many there are."""
        ids = await self._redis.zrevrange(keys.broadcast_archive(), 0, -1)
        shown: list[Broadcast] = []
        for raw in ids:
            found = await self.get(int(text_of(raw)))
            if found and found.started_at:
                shown.append(found)
        return shown[offset : offset + count], len(shown)

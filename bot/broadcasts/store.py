"""Broadcast jobs in Redis: durable before anyone is told "sending", resumable after any crash.

A broadcast fixes a cut-off when it starts (the highest join score so far: its audience is who
had joined by then), feeds that audience in chunks, in join order, from the live subscriber lists
into a Redis Stream read by one consumer group (so several processes share the work), and marks
every send in flight before it leaves, once the chat is still on a list; a mark found after a
crash is an outcome nobody can know, which is counted as uncertain instead of risking a second
copy. This module keeps the broadcasts and their life (create, start, cancel, finish);
bot/broadcasts/queue.py keeps the stream.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum, StrEnum

from redis.asyncio import Redis

from bot.broadcasts.drafts import OUTCOME_TTL_SECONDS, Settlement, settlement_of
from bot.i18n import SUPPORTED_LOCALES
from bot.storage import keys
from bot.storage.connection import as_text, text_of

# The one consumer group of every broadcast's recipients stream (bot/broadcasts/queue.py).
CONSUMER_GROUP = "senders"

# KEYS: sequence, archive, pending, and for a draft's broadcast the draft and its token's outcome
# (then, for the closing report, the totals and the beneficiaries' feed).
# ARGV: what broadcast keys start with, created (ms), due (ms), the draft's token and the
# outcome's TTL (s) ('' and 0 without a draft), then the broadcast's fields and values.
# Answers {1, id} once created, {0, outcome} for a draft an earlier call had confirmed or
# discarded, {-1, ''} when the token is not the draft's. The id is drawn here, so the script
# names the broadcast's key from the prefix; for a draft, the broadcast and the record of the
# tap are one step: no crash or retry in between can make a second broadcast.
_CREATE = """
local drafted = #KEYS >= 5
if drafted then
  local settled = redis.call('GET', KEYS[5])
  if settled then return {0, settled} end
  if redis.call('HGET', KEYS[4], 'token') ~= ARGV[4] then return {-1, ''} end
end
-- The closing report (bot/broadcasts/closing.py) closes the campaign in the same step, once:
-- KEYS[6] the totals, whose `closed` names it, KEYS[7] the beneficiaries' feed, which gets its
-- summary. A second draft confirmed after it answers {-2, the report's id}.
local closing = #KEYS == 7
if closing then
  local closed = redis.call('HGET', KEYS[6], 'closed')
  if closed then return {-2, closed} end
end
local id = redis.call('INCR', KEYS[1])
redis.call('HSET', ARGV[1] .. id, unpack(ARGV, 6))
redis.call('ZADD', KEYS[2], ARGV[2], id)
redis.call('ZADD', KEYS[3], ARGV[3], id)
if drafted then
  redis.call('SET', KEYS[5], id, 'EX', ARGV[5])
  redis.call('DEL', KEYS[4])
end
if closing then
  redis.call('HSET', KEYS[6], 'closed', id)
  redis.call('RPUSH', KEYS[7], cjson.encode({kind = 'closing', broadcast = id}))
end
return {1, tostring(id)}
"""

# KEYS: active, pending, job, stream, join clock, then the subscriber set of each locale.
# ARGV: id, now (ms), group.
# The cut-off is the highest join score yet (the clock, or a higher score an earlier release
# gave), set as the clock so that whoever joins from now on scores above it. The total is
# everyone at or below it: everyone on the lists now.
_ACTIVATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[3], 'status') == 'cancelled' then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
local cutoff = redis.call('GET', KEYS[5]) or '0'
local total = 0
for i = 6, #KEYS do
  local last = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')[2]
  if last and tonumber(last) > tonumber(cutoff) then cutoff = last end
  total = total + redis.call('ZCARD', KEYS[i])
end
redis.call('SET', KEYS[5], cutoff)
redis.pcall('XGROUP', 'CREATE', KEYS[4], ARGV[3], '0', 'MKSTREAM')
redis.call(
  'HSET', KEYS[3], 'status', 'sending', 'started_at', ARGV[2], 'total', total,
  'cutoff', cutoff, 'unfed', total
)
return 1
"""

# KEYS: job, stream, in-flight, active, entries tried again, then the recipients snapshots of a
# broadcast the release before this one started, the donors a closing report queued, and the
# recipients held for their quiet hours. ARGV: id, now (ms).
# Ends a broadcast once nothing is left to feed, queued or in flight (or it was cancelled and
# nothing is in flight). Exactly one caller gets 1 and sends the report.
_FINALIZE = """
local status = redis.call('HGET', KEYS[1], 'status')
if redis.call('HEXISTS', KEYS[1], 'finished_at') == 1 then return 0 end
if status == 'sending' then
  if redis.call('HGET', KEYS[1], 'fed') ~= '1' then return 0 end
  if redis.call('XLEN', KEYS[2]) > 0 then return 0 end
  -- Recipients held for their quiet hours (KEYS[#KEYS], bot/broadcasts/quiet.py) are still to
  -- be sent; a cancelled broadcast drops them (deleted below), and they leave the count.
  if redis.call('ZCARD', KEYS[#KEYS]) > 0 then return 0 end
  status = 'done'
elseif status ~= 'cancelled' then
  return 0
end
if redis.call('HLEN', KEYS[3]) > 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', status, 'finished_at', ARGV[2])
redis.call('HDEL', KEYS[1], 'held')
if redis.call('GET', KEYS[4]) == ARGV[1] then redis.call('DEL', KEYS[4]) end
for i = 2, #KEYS do
  if i ~= 4 then redis.call('DEL', KEYS[i]) end
end
return 1
"""

# KEYS: job, pending. ARGV: now (ms), id. Returns the status the broadcast had; a broadcast
# cancelled while sending and not yet stopped answers 'sending' again, so a second tap on Stop
# says it is stopping rather than over.
_CANCEL = """
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'cancelled' and redis.call('HEXISTS', KEYS[1], 'finished_at') == 0 then
  return 'sending'
end
if status ~= 'scheduled' and status ~= 'queued' and status ~= 'sending' then
  return status or ''
end
redis.call('HSET', KEYS[1], 'status', 'cancelled')
if redis.call('ZREM', KEYS[2], ARGV[2]) == 1 then
  redis.call('HSET', KEYS[1], 'finished_at', ARGV[1])
end
return status
"""

# KEYS: job. ARGV: now (ms). Takes a broadcast out of /updates, keeping its record and counts:
# 1 the first time, 0 when it was not there (never started, cancelled, or taken out before).
_WITHDRAW = """
local state = redis.call('HMGET', KEYS[1], 'status', 'started_at', 'withdrawn_at')
if not state[2] or state[3] or state[1] == 'cancelled' then return 0 end
redis.call('HSET', KEYS[1], 'withdrawn_at', ARGV[1])
return 1
"""


def now_ms() -> int:
    return int(time.time() * 1000)


class Outcome(StrEnum):
    """What became of one message; each is a counter of the broadcast hash."""

    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    # It may or may not have arrived (a timeout, a crash mid-send): never sent again.
    UNCERTAIN = "uncertain"


class BroadcastStatus(Enum):
    """Where a broadcast is in its life."""

    SCHEDULED = "scheduled"
    QUEUED = "queued"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class CancelResult(Enum):
    """What cancelling found."""

    # It was being sent: the sends in flight finish, then the engine reports.
    STOPPING = "stopping"
    # It was queued or scheduled: over now, nothing sent, nobody else reports it.
    NEVER_STARTED = "never-started"
    # Done, cancelled before, or unknown: nothing changed.
    ALREADY_OVER = "already-over"


_CANCEL_RESULTS = {
    BroadcastStatus.SENDING.value: CancelResult.STOPPING,
    BroadcastStatus.QUEUED.value: CancelResult.NEVER_STARTED,
    BroadcastStatus.SCHEDULED.value: CancelResult.NEVER_STARTED,
}


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
    # When an organizer took it out of /updates; 0 while it is there.
    withdrawn_at: int = 0
    # Subscribers who take digests, so got no message of it (bot/broadcasts/queue.py).
    in_digests: int = 0
    # Quiet hours (bot/broadcasts/quiet.py): ignored when urgent; `held` wait for theirs to end.
    urgent: bool = False
    held: int = 0

    @property
    def in_updates(self) -> bool:
        """Shown by /updates: it went out (or started to), and was neither cancelled nor
        taken out; a sent-by-mistake broadcast must not stay public once stopped."""
        cancelled = self.status is BroadcastStatus.CANCELLED
        return bool(self.started_at) and not cancelled and not self.withdrawn_at

    @property
    def handled(self) -> int:
        return sum(self.counts.get(outcome, 0) for outcome in Outcome)

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.handled)


def _creation_keys() -> list[str]:
    return [keys.broadcast_sequence(), keys.broadcast_archive(), keys.broadcast_pending()]


def _creation(
    content: BroadcastContent, created_by: int, admin_locale: str,
    progress_chat: int, progress_message: int, send_at: int | None, urgent: bool = False,
) -> tuple[list[str | int], list[str | int]]:
    """The creation script's first arguments (prefix, created, due), and the fields."""
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
    if urgent:
        # Ignores quiet hours (bot/broadcasts/quiet.py).
        fields["urgent"] = 1
    pairs = [item for pair in fields.items() for item in pair]
    return [keys.broadcast_prefix(), created, send_at or created], pairs


class BroadcastStore:
    """Creates, starts, feeds and closes broadcasts; each step one atomic script."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._activate = redis.register_script(_ACTIVATE)
        self._finalize = redis.register_script(_FINALIZE)
        self._cancel = redis.register_script(_CANCEL)
        self._create = redis.register_script(_CREATE)
        self._withdraw = redis.register_script(_WITHDRAW)

    async def create(
        self, content: BroadcastContent, *, created_by: int, admin_locale: str,
        progress_chat: int, progress_message: int, send_at: int | None = None,
    ) -> int:
        """Store the broadcast and queue it (or schedule it) in one step."""
        head, fields = _creation(
            content, created_by, admin_locale, progress_chat, progress_message, send_at
        )
        answer = await self._create(keys=_creation_keys(), args=[*head, "", 0, *fields])
        return int(answer[1])

    async def create_from_draft(
        self, token: str, content: BroadcastContent, *, created_by: int, admin_locale: str,
        progress_chat: int, progress_message: int, send_at: int | None = None,
        urgent: bool = False,
    ) -> Settlement:
        """The broadcast of the draft with this token, created by the first of any number of
        taps or retries; the others get the same broadcast id back (`now` False)."""
        return await self.create_once(
            keys.broadcast_draft(created_by), token, content, created_by=created_by,
            admin_locale=admin_locale, progress_chat=progress_chat,
            progress_message=progress_message, send_at=send_at, urgent=urgent,
        )

    async def create_once(
        self, marker: str, token: str, content: BroadcastContent, *, created_by: int,
        admin_locale: str, progress_chat: int, progress_message: int, send_at: int | None = None,
        urgent: bool = False,
    ) -> Settlement:
        """The broadcast a durable marker stands for (a hash whose `token` field is `token`: a
        draft, or a need just filled), created once: the marker is deleted in the same step."""
        head, fields = _creation(
            content, created_by, admin_locale, progress_chat, progress_message, send_at, urgent
        )
        answer = await self._create(
            keys=[*_creation_keys(), marker, keys.broadcast_draft_outcome(token)],
            args=[*head, token, OUTCOME_TTL_SECONDS, *fields],
        )
        return settlement_of(answer)

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
            counts={outcome.value: number(outcome) for outcome in Outcome},
            total=number("total"),
            started_at=number("started_at"),
            finished_at=number("finished_at"),
            withdrawn_at=number("withdrawn_at"),
            in_digests=number("digest"),
            urgent=fields.get("urgent") == "1",
            held=number("held"),
        )

    async def active_id(self) -> int | None:
        raw = as_text(await self._redis.get(keys.broadcast_active()))
        return int(raw) if raw else None

    async def forget_active(self) -> None:
        """The active broadcast has no record (removed by hand): let the next one start."""
        await self._redis.delete(keys.broadcast_active())

    async def start_due(self) -> int | None:
        """Start the next due broadcast unless one is already being sent."""
        due = await self._redis.zrangebyscore(
            keys.broadcast_pending(), "-inf", now_ms(), start=0, num=1
        )
        if not due:
            return None
        broadcast_id = int(text_of(due[0]))
        started = await self._activate(
            keys=[
                keys.broadcast_active(), keys.broadcast_pending(), keys.broadcast(broadcast_id),
                keys.broadcast_stream(broadcast_id), keys.subscribers_clock(),
                *(keys.subscribers(locale) for locale in SUPPORTED_LOCALES),
            ],
            args=[broadcast_id, now_ms(), CONSUMER_GROUP],
        )
        return broadcast_id if started else None

    async def finalize(self, broadcast_id: int) -> bool:
        """True for exactly one caller, once the broadcast is over."""
        snapshots = [
            keys.broadcast_recipients(broadcast_id, locale) for locale in SUPPORTED_LOCALES
        ]
        finalized = await self._finalize(
            keys=[
                keys.broadcast(broadcast_id), keys.broadcast_stream(broadcast_id),
                keys.broadcast_in_flight(broadcast_id), keys.broadcast_active(),
                keys.broadcast_retried(broadcast_id), *snapshots,
                keys.broadcast_donors_reached(broadcast_id), keys.broadcast_held(broadcast_id),
            ],
            args=[broadcast_id, now_ms()],
        )
        return bool(finalized)

    async def cancel(self, broadcast_id: int) -> CancelResult:
        """Stop a broadcast, whether it is being sent or still waits to start."""
        previous = await self._cancel(
            keys=[keys.broadcast(broadcast_id), keys.broadcast_pending()],
            args=[now_ms(), broadcast_id],
        )
        return _CANCEL_RESULTS.get(str(as_text(previous) or ""), CancelResult.ALREADY_OVER)

    async def take_progress_turn(self, broadcast_id: int, holder: str, ttl_ms: int) -> bool:
        """True for one process per `ttl_ms`: the one that edits the progress message."""
        lock = keys.broadcast_lock(broadcast_id, "progress")
        return bool(await self._redis.set(lock, holder, nx=True, px=ttl_ms))

    async def archive(self, offset: int, count: int) -> tuple[list[Broadcast], int]:
        """Broadcasts that went out (or started to), newest first, and how many there are."""
        started = [found for found in await self._newest_first() if found.started_at]
        return started[offset : offset + count], len(started)

    async def public_archive(self, offset: int, count: int) -> tuple[list[Broadcast], int]:
        """What /updates shows, newest first, and how many there are; read from each one's
        status, so a broadcast cancelled before withdrawals existed is left out too."""
        shown = [found for found in await self._newest_first() if found.in_updates]
        return shown[offset : offset + count], len(shown)

    async def withdraw(self, broadcast_id: int) -> bool:
        """Take a broadcast out of /updates for everyone; True only for the call that did."""
        return bool(await self._withdraw(keys=[keys.broadcast(broadcast_id)], args=[now_ms()]))

    async def _newest_first(self) -> list[Broadcast]:
        ids = await self._redis.zrevrange(keys.broadcast_archive(), 0, -1)
        found = [await self.get(int(text_of(raw))) for raw in ids]
        return [broadcast for broadcast in found if broadcast is not None]

"""The recipients stream of a broadcast being sent: fed, read, marked in flight, recorded.

The one door to a broadcast's Redis Stream and its in-flight marks. The consumer group hands each
entry to one sender; the sender marks it in flight once its send turn is granted, right before
the send, and records the outcome after, and only while the mark is still its own; a send that
must wait again (a 429, a network error) gives its mark back first. An entry read by a process
that died is claimed back after the recovery time: if its mark is still there, nobody can know
whether the message left, so it is counted uncertain and never handed out again; if not, it was
never sent, and is sent now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bot.broadcasts.closing import FEED_DONORS, donor_feed_args, donor_feed_keys
from bot.broadcasts.feeding import FEED, REMOVE
from bot.broadcasts.preferences import DIGESTS
from bot.broadcasts.quiet import NO_QUIET_ARGS, HeldRecipients, QuietClock, wall_ms
from bot.broadcasts.store import CONSUMER_GROUP, Outcome, now_ms
from bot.i18n import SUPPORTED_LOCALES
from bot.storage import keys
from bot.storage.connection import text_of

if TYPE_CHECKING:
    from bot.broadcasts.digest_delivery import DigestDelivery

# KEYS: in-flight hash, job, stream, entries tried again, then the subscriber set of each
# locale, the donors a closing report queued, the daily and weekly digest lists.
# ARGV: now (ms), deadline (ms), group, then per sender a triple: the entry it just sent ('' if
# none), that send's outcome ('' to only give the mark back: the message did not leave), the
# entry it sends next ('').
# The outcome counts only if the mark was still ours, so a slow sender and a reclaimer never both
# count (answer 1, else 0). The next entry is answered with a Claim value; its first mark is
# taken only if its chat is still on a list (of any language): who unsubscribed, blocked the bot
# or used /forget since the broadcast started is dropped unsent and leaves the total. A send
# that gave its mark back is tried again whatever the lists say (a migrated group is on them
# under its new id only).
# Recording one send and marking the next in one call halves the round trips of a broadcast.
_STEP = """
-- Quiet hours (bot/broadcasts/quiet.py): after the donors come the held set and, per step, the
-- hash of the user it sends to next (the held set again when none); after the steps, ARGV holds
-- the campaign's wall-clock time now (ms; '' for no quiet hours) and the default window ('' for
-- none). Taken off both lists here, so the lines below read them as they always did. An entry
-- about to be marked for the first time, whose user is inside their window and the broadcast not
-- urgent, is moved to the held set instead, scored by the window's end: never sent before then.
local quiet_default = table.remove(ARGV)
local wall_now = tonumber(table.remove(ARGV))
local quiet_users = {}
for j = (#ARGV - 3) / 3, 1, -1 do quiet_users[j] = table.remove(KEYS) end
local held = table.remove(KEYS)
local urgent = redis.call('HGET', KEYS[2], 'urgent') == '1'
local function window_of(text)
  local a, b, c, d = string.match(text or '', '^(%d%d):(%d%d)%-(%d%d):(%d%d)$')
  if not a then return nil end
  local start, finish = a * 60 + b, c * 60 + d
  if a + 0 > 23 or c + 0 > 23 or b + 0 > 59 or d + 0 > 59 or start == finish then return nil end
  return start, finish
end
local function hold(step, entry, fields)
  if urgent or not wall_now or quiet_users[step] == held then return false end
  if redis.call('SISMEMBER', KEYS[4], entry) == 1 then return false end
  local own = redis.call('HGET', quiet_users[step], 'quiet')
  if own == 'off' then return false end
  local start, finish = window_of(own)
  if not start then start, finish = window_of(quiet_default) end
  if not start then return false end
  local minute = math.floor(wall_now / 60000) % 1440
  local inside = minute >= start or minute < finish
  if start < finish then inside = minute >= start and minute < finish end
  if not inside then return false end
  local ends = wall_now - wall_now % 86400000 + finish * 60000
  if finish <= minute then ends = ends + 86400000 end
  redis.call('ZADD', held, ends, cjson.encode({entry, fields}))
  redis.call('HINCRBY', KEYS[2], 'held', 1)
  redis.call('XACK', KEYS[3], ARGV[3], entry)
  redis.call('XDEL', KEYS[3], entry)
  return true
end
local sending = redis.call('HGET', KEYS[2], 'status') == 'sending'
-- Digest subscribers (bot/broadcasts/preferences.py) get no immediate broadcast: the last two
-- KEYS are the daily and weekly lists, each scored by when its member chose it. Who chose
-- before this broadcast started waits for their digest (counted `digest`, out of the total);
-- who chose while it goes out still gets it: a change takes effect for the next broadcast.
-- Urgent or not, the same. A closing report's entry for a donor stands: it is theirs. Both
-- lists are taken off KEYS here, so the lines below read KEYS as they always did.
local weekly_list = table.remove(KEYS)
local daily_list = table.remove(KEYS)
local started = tonumber(redis.call('HGET', KEYS[2], 'started_at') or '0')
local function in_digest(fields)
  local chat
  for j = 1, #fields, 2 do
    if fields[j] == 'donor' then return false end
    if fields[j] == 'chat' then chat = fields[j + 1] end
  end
  for _, list in ipairs({daily_list, weekly_list}) do
    local chosen = redis.call('ZSCORE', list, chat)
    if chosen and tonumber(chosen) <= started then return true end
  end
  return false
end
local digest = redis.call('HMGET', KEYS[2], 'audience', 'cut', 'run')
local function subscribed(fields)
  for j = 1, #fields, 2 do
    if fields[j] == 'chat' then
      for k = 5, #KEYS - 1 do
        if redis.call('ZSCORE', KEYS[k], fields[j + 1]) then return true end
      end
    end
  end
  return false
end
-- A closing report (bot/broadcasts/closing.py) queues its donors first: KEYS[#KEYS] holds them.
-- A donor's entry stands while its chat is there (/forget takes it out); a subscriber's entry
-- for one of them is dropped: the donor's carries the message.
local function reachable(fields)
  local entry = {}
  for j = 1, #fields, 2 do entry[fields[j]] = fields[j + 1] end
  local donor = redis.call('SISMEMBER', KEYS[#KEYS], entry.chat) == 1
  if entry.donor then return donor end
  return not donor and subscribed(fields)
end
local answers = {}
for i = 4, #ARGV, 3 do
  local done, outcome, entry = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local counted = 0
  if done ~= '' and redis.call('HDEL', KEYS[1], done) == 1 then
    if outcome ~= '' then
      redis.call('HINCRBY', KEYS[2], outcome, 1)
      redis.call('XACK', KEYS[3], ARGV[3], done)
      redis.call('XDEL', KEYS[3], done)
    else
      redis.call('SADD', KEYS[4], done)
    end
    counted = 1
  end
  answers[#answers + 1] = counted
  local deadline = entry ~= '' and redis.call('HGET', KEYS[1], entry)
  local queued = entry ~= '' and not deadline and redis.call('XRANGE', KEYS[3], entry, entry)[1]
  if entry == '' then
    answers[#answers + 1] = -1
  elseif not deadline and not queued then
    -- Already sent and recorded by a sender that took the entry over: never again.
    answers[#answers + 1] = 2
  elseif not deadline and redis.call('HEXISTS', KEYS[2], 'erased:' .. entry) == 1 then
    -- Its chat used /forget while an earlier try was on the wire: never tried again.
    redis.call('HINCRBY', KEYS[2], 'total', -1)
    redis.call('XACK', KEYS[3], ARGV[3], entry)
    redis.call('XDEL', KEYS[3], entry)
    answers[#answers + 1] = 2
  elseif not deadline and not sending then
    redis.call('XACK', KEYS[3], ARGV[3], entry)
    redis.call('XDEL', KEYS[3], entry)
    answers[#answers + 1] = 3
  elseif not deadline and not reachable(queued[2])
      and redis.call('SISMEMBER', KEYS[4], entry) == 0 then
    redis.call('HINCRBY', KEYS[2], 'total', -1)
    redis.call('XACK', KEYS[3], ARGV[3], entry)
    redis.call('XDEL', KEYS[3], entry)
    answers[#answers + 1] = 3
  -- A digest run (bot/broadcasts/digest_delivery.py): the recipient's last-digest marks move
  -- to the run's cut in the step that marks the send, so a crash can neither repeat nor drop
  -- an update; a chat this run reached already (fed twice) is dropped, unless this is a send
  -- of it tried again (whose content the marks before this run still give).
  elseif not deadline and digest[1] == 'digest' then
    -- The recipient's hash comes in KEYS with the quiet hours' (one per step).
    local user = quiet_users[(i - 1) / 3]
    local marks = redis.call('HMGET', user, 'digest_at', 'digest_run')
    if marks[2] == digest[3] and redis.call('SISMEMBER', KEYS[4], entry) == 0 then
      redis.call('HINCRBY', KEYS[2], 'total', -1)
      redis.call('XACK', KEYS[3], ARGV[3], entry)
      redis.call('XDEL', KEYS[3], entry)
      answers[#answers + 1] = 3
    else
      if marks[2] ~= digest[3] then
        redis.call(
          'HSET', user, 'digest_prev', marks[1] or '', 'digest_at', digest[2],
          'digest_run', digest[3]
        )
      end
      redis.call('HSET', KEYS[1], entry, ARGV[2])
      answers[#answers + 1] = 1
    end
  elseif not deadline and redis.call('SISMEMBER', KEYS[4], entry) == 0
      and in_digest(queued[2]) then
    redis.call('HINCRBY', KEYS[2], 'digest', 1)
    redis.call('HINCRBY', KEYS[2], 'total', -1)
    redis.call('XACK', KEYS[3], ARGV[3], entry)
    redis.call('XDEL', KEYS[3], entry)
    answers[#answers + 1] = 3
  elseif not deadline and hold((i - 1) / 3, entry, queued[2]) then
    answers[#answers + 1] = 4
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

# The most entries one reclaim round takes over.
RECLAIM_BATCH = 100


class Claim(Enum):
    """The step script's answer for the entry a sender asked to send next."""

    # The step asked for no next entry.
    NONE = -1
    # A sender died mid-send (its mark outlived the deadline): counted uncertain, never resent.
    ABANDONED = 0
    # Marked in flight for this sender: send it now.
    SEND = 1
    # Another sender is on it, or has already sent and recorded it.
    TAKEN = 2
    # Dropped unsent: the broadcast was cancelled, the chat left the lists since it started, or
    # it takes a digest instead.
    DROPPED = 3
    # Moved to the held set: the subscriber is in quiet hours (bot/broadcasts/quiet.py).
    HELD = 4


@dataclass(frozen=True)
class Step:
    """One sender's move: the send it finished (entry id, outcome), the entry it takes next;
    or, alone, the entry whose mark it gives back because the message did not leave."""

    done: tuple[str, Outcome] | None
    next_entry: str | None
    release: str | None = None
    # The next entry's chat, whose quiet hours the step reads.
    next_chat: int | None = None


@dataclass(frozen=True)
class StepAnswer:
    """Whether the finished send was counted (the mark given back), and the next entry's claim."""

    counted: bool
    claim: Claim


@dataclass(frozen=True)
class Recipient:
    """One entry of the stream: who receives the message, in which language."""

    entry_id: str
    chat_id: int
    locale: str


class RecipientQueue:
    """Feeds, reads and reclaims a broadcast's stream; records each send with one script."""

    def __init__(
        self, redis: Redis, quiet: QuietClock | None = None,
        digests: DigestDelivery | None = None,
    ) -> None:
        self._redis = redis
        # Without it (a queue that never sends), nobody is held.
        self._quiet = quiet
        self._held = HeldRecipients(redis)
        self._digests = digests
        self._feed = redis.register_script(FEED)
        self._feed_donors = redis.register_script(FEED_DONORS)
        self._step = redis.register_script(_STEP)
        self._remove = redis.register_script(REMOVE)

    async def feed(self, broadcast_id: int, chunk: int) -> int | None:
        """Queue up to `chunk` more of the audience; 0 once everyone was queued, None once the
        broadcast stopped. A closing report's donors come before its subscribers."""
        # A digest run (bot/broadcasts/digest_delivery.py) is fed from its digest list instead.
        if self._digests is not None:
            digest, fed = await self._digests.feed(broadcast_id, chunk)
            if digest:
                return fed
        while True:
            queued, done = await self._feed_donors(
                keys=donor_feed_keys(broadcast_id), args=donor_feed_args(chunk)
            )
            if int(queued) < 0:
                return None
            if int(queued) or int(done):
                break
        if int(queued):
            return int(queued)
        added = int(
            await self._feed(
                keys=[
                    keys.broadcast(broadcast_id), keys.broadcast_stream(broadcast_id),
                    *_sources(broadcast_id),
                ],
                args=[chunk, *SUPPORTED_LOCALES],
            )
        )
        return None if added < 0 else added

    async def backlog(self, broadcast_id: int) -> int:
        """Entries queued and not yet recorded."""
        return int(await self._redis.xlen(keys.broadcast_stream(broadcast_id)))

    async def read(
        self, broadcast_id: int, consumer: str, count: int, block_ms: int
    ) -> list[Recipient] | None:
        """Entries no sender has read yet, waiting up to `block_ms`; None once the broadcast was
        finalized (its stream and group are gone)."""
        try:
            reply: Any = await self._redis.xreadgroup(
                CONSUMER_GROUP, consumer, {keys.broadcast_stream(broadcast_id): ">"},
                count=count, block=block_ms,
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            return None
        return [_recipient(*entry) for _, batch in reply or [] for entry in batch]

    async def reclaim(self, broadcast_id: int, consumer: str, idle_ms: int) -> list[Recipient]:
        """Take over entries another consumer read over `idle_ms` ago and never recorded."""
        reply: Any = await self._redis.xautoclaim(
            keys.broadcast_stream(broadcast_id), CONSUMER_GROUP, consumer, idle_ms, "0-0",
            count=RECLAIM_BATCH,
        )
        # Entries deleted since they were read come back without fields.
        return [_recipient(entry_id, fields) for entry_id, fields in reply[1] if fields]

    async def step(
        self, broadcast_id: int, steps: Sequence[Step], deadline_ms: int
    ) -> list[StepAnswer]:
        """Record finished sends (or give marks back) and mark the next ones in flight until
        `deadline_ms`."""
        args: list[str | int] = [now_ms(), deadline_ms, CONSUMER_GROUP]
        held = keys.broadcast_held(broadcast_id)
        users: list[str] = []
        for step in steps:
            done, outcome = (step.done[0], step.done[1].value) if step.done else ("", "")
            args += [done or step.release or "", outcome, step.next_entry or ""]
            users.append(held if step.next_chat is None else keys.user(step.next_chat))
        args += self._quiet.step_args() if self._quiet else NO_QUIET_ARGS
        answers = await self._step(
            keys=[
                keys.broadcast_in_flight(broadcast_id), keys.broadcast(broadcast_id),
                keys.broadcast_stream(broadcast_id), keys.broadcast_retried(broadcast_id),
                *(keys.subscribers(locale) for locale in SUPPORTED_LOCALES),
                # The digest lists, then the quiet hours' keys: the script takes them off
                # the end in the opposite order.
                keys.broadcast_donors_reached(broadcast_id),
                *(keys.digest_subscribers(cadence) for cadence in DIGESTS), held, *users,
            ],
            args=args,
        )
        return [
            StepAnswer(bool(answers[i]), Claim(int(answers[i + 1])))
            for i in range(0, len(answers), 2)
        ]

    async def drop(self, broadcast_id: int) -> None:
        """Empty the stream of a cancelled broadcast: what is still queued is never sent."""
        await self._redis.xtrim(keys.broadcast_stream(broadcast_id), maxlen=0)


    async def remove(self, broadcast_id: int, chat_id: int) -> int:
        """Take a chat out of a broadcast still being sent (for /forget); returns how many of
        its entries will now never be sent."""
        removed = await self._remove(
            keys=[
                keys.broadcast(broadcast_id), keys.broadcast_stream(broadcast_id),
                keys.broadcast_in_flight(broadcast_id), *_sources(broadcast_id),
            ],
            args=[chat_id, CONSUMER_GROUP, *SUPPORTED_LOCALES],
        )
        # After its entries left the stream: a closing report never holds the chat again.
        await self._redis.srem(keys.broadcast_donors_reached(broadcast_id), chat_id)
        return int(removed) + await self._held.forget(broadcast_id, chat_id)

    async def park(self, broadcast_id: int) -> int:
        """Step aside while only held recipients are left (bot/broadcasts/quiet.py)."""
        return await self._held.park(broadcast_id)

    async def parked(self) -> list[int]:
        return await self._held.parked()

    async def resume_parked(self) -> int | None:
        """A parked broadcast with work again, made the one being sent."""
        if self._quiet is None:
            return None
        return await self._held.resume(wall_ms(self._quiet.now()))

    async def release_held(self, broadcast_id: int) -> int:
        """Put the recipients whose quiet hours have ended back into the stream."""
        if self._quiet is None:
            return 0
        return await self._held.release_due(broadcast_id, wall_ms(self._quiet.now()))


def _sources(broadcast_id: int) -> list[str]:
    """Per locale, its subscriber set and the broadcast's snapshot (an earlier release's)."""
    sources: list[str] = []
    for locale in SUPPORTED_LOCALES:
        sources += [keys.subscribers(locale), keys.broadcast_recipients(broadcast_id, locale)]
    return sources


def _recipient(entry_id: object, fields: dict[Any, Any]) -> Recipient:
    decoded = {text_of(k): text_of(v) for k, v in fields.items()}
    return Recipient(text_of(entry_id), int(decoded["chat"]), decoded["locale"])

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
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bot.broadcasts.store import CONSUMER_GROUP, Outcome, now_ms
from bot.i18n import SUPPORTED_LOCALES
from bot.storage import keys
from bot.storage.connection import text_of

# Where the feed stands in a subscriber set: after the last chat it queued, by (join score, chat
# id), the chat perhaps gone since.
_PLACES = """
-- The order of members of equal score in a sorted set: their bytes, then their length.
local function later(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end
-- The rank of the first member after (score, chat); ties are searched by halves.
local function first_after(key, score, chat)
  if not score then return 0 end
  local low = redis.call('ZCOUNT', key, '-inf', '(' .. score)
  local high = redis.call('ZCOUNT', key, '-inf', score)
  while low < high do
    local middle = math.floor((low + high) / 2)
    if later(redis.call('ZRANGE', key, middle, middle)[1], chat) then
      high = middle
    else
      low = middle + 1
    end
  end
  return low
end
"""

# KEYS: job, stream, then per locale its subscriber set and (from the release before this one)
# the broadcast's recipients snapshot. ARGV: chunk size, then the locales in that order.
# Queues up to a chunk more of the audience (join score at or below the cut-off) in the order of
# (join score, chat id) over every language at once, after the last one queued: a subscriber
# moving to another language keeps their score, so stays behind or ahead of that point, and
# who leaves or joins anywhere never shifts it. Reads its own cursor, so two feeders at once
# cannot queue anyone twice. Finding nobody left, it marks the broadcast fed (answer 0) and
# takes out of the total whoever left before being reached.
_FEED = _PLACES + """
if redis.call('HGET', KEYS[1], 'status') ~= 'sending' then return -1 end
local chunk = tonumber(ARGV[1])
local function queue(chat, locale)
  redis.call('XADD', KEYS[2], '*', 'chat', chat, 'locale', locale)
end
local cutoff = redis.call('HGET', KEYS[1], 'cutoff')
if not cutoff then
  -- Started by the release before this one: fed from its snapshots, language after language.
  for i = 3, #KEYS, 2 do
    local locale = ARGV[(i + 1) / 2]
    local fed = tonumber(redis.call('HGET', KEYS[1], 'cursor:' .. locale) or '0')
    local ids = redis.call('ZRANGE', KEYS[i + 1], fed, fed + chunk - 1)
    if #ids > 0 then
      for _, id in ipairs(ids) do queue(id, locale) end
      redis.call('HSET', KEYS[1], 'cursor:' .. locale, fed + #ids)
      return #ids
    end
  end
  redis.call('HSET', KEYS[1], 'fed', 1)
  return 0
end
cutoff = tonumber(cutoff)
local last = redis.call('HMGET', KEYS[1], 'fed-score', 'fed-chat')
-- A share of the chunk from each list, merged by score until one that may hold more runs out:
-- fetching a whole chunk from each cost more than the merge itself.
local share = math.ceil(chunk / ((#KEYS - 2) / 2))
local lists = {}
for i = 3, #KEYS, 2 do
  local first = first_after(KEYS[i], last[1], last[2])
  local found = redis.call('ZRANGE', KEYS[i], first, first + share - 1, 'WITHSCORES')
  lists[#lists + 1] = {
    found = found, at = 1, score = tonumber(found[2]), more = #found == 2 * share,
    locale = ARGV[(i + 1) / 2],
  }
end
local count, score, chat = 0, nil, nil
while count < chunk do
  local pick
  for _, list in ipairs(lists) do
    if list.score and list.score <= cutoff and (not pick or list.score < pick.score
        or (list.score == pick.score and later(pick.found[pick.at], list.found[list.at]))) then
      pick = list
    end
  end
  if not pick then break end
  chat, score = pick.found[pick.at], pick.found[pick.at + 1]
  queue(chat, pick.locale)
  count = count + 1
  pick.at = pick.at + 2
  pick.score = tonumber(pick.found[pick.at + 1])
  if not pick.score and pick.more then break end
end
if count > 0 then
  redis.call('HSET', KEYS[1], 'fed-score', score, 'fed-chat', chat)
  redis.call('HINCRBY', KEYS[1], 'unfed', -count)
elseif redis.call('HSETNX', KEYS[1], 'fed', 1) == 1 then
  local unfed = tonumber(redis.call('HGET', KEYS[1], 'unfed') or '0')
  redis.call('HINCRBY', KEYS[1], 'total', -unfed)
  redis.call('HDEL', KEYS[1], 'unfed')
end
return count
"""

# KEYS: in-flight hash, job, stream, then the subscriber set of each locale. ARGV: now (ms),
# deadline (ms), group, then per sender a triple: the entry it just sent ('' if none), that
# send's outcome ('' to only give the mark back: the message did not leave), the entry it sends
# next ('').
# The outcome counts only if the mark was still ours, so a slow sender and a reclaimer never both
# count (answer 1, else 0). The next entry is answered with a Claim value; it is marked only if
# its chat is still on a list (of any language): who unsubscribed, blocked the bot or used
# /forget since the broadcast started is dropped unsent and leaves the total.
# Recording one send and marking the next in one call halves the round trips of a broadcast.
_STEP = """
local sending = redis.call('HGET', KEYS[2], 'status') == 'sending'
local function subscribed(fields)
  for j = 1, #fields, 2 do
    if fields[j] == 'chat' then
      for k = 4, #KEYS do
        if redis.call('ZSCORE', KEYS[k], fields[j + 1]) then return true end
      end
    end
  end
  return false
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
  elseif not deadline and not subscribed(queued[2]) then
    redis.call('HINCRBY', KEYS[2], 'total', -1)
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

# KEYS: job, stream, in-flight, then per locale its subscriber set and (from the release before
# this one) the broadcast's recipients snapshot. ARGV: chat id, group, then the locales.
# For /forget, once the chat has left the subscriber lists (so the feed never reaches it): the
# chat leaves the stream, so no sender reaches it (one holding the entry finds it gone when it
# marks it), and the feed's place, should it name the chat, names the chat before it at the
# same score instead ('' if none), which stands at the same place: the id stays nowhere. A send
# already on the wire is left to finish and be recorded, never to be tried again if it must
# wait (`erased:<entry>`, which the step script reads). A snapshot's feed cursor moves back for
# a removal behind it, so nobody after the chat is skipped; what is taken out unsent leaves the
# total too. Returns how many.
_REMOVE = _PLACES + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last = redis.call('HMGET', KEYS[1], 'fed-score', 'fed-chat')
if last[2] == ARGV[1] then
  local before = ''
  for i = 4, #KEYS, 2 do
    local rank = first_after(KEYS[i], last[1], last[2])
    local prior = rank > 0 and redis.call('ZRANGE', KEYS[i], rank - 1, rank - 1, 'WITHSCORES')
    if prior and tonumber(prior[2]) == tonumber(last[1]) and later(prior[1], before) then
      before = prior[1]
    end
  end
  redis.call('HSET', KEYS[1], 'fed-chat', before)
end
local removed = 0
for i = 5, #KEYS, 2 do
  local rank = redis.call('ZRANK', KEYS[i], ARGV[1])
  if rank then
    redis.call('ZREM', KEYS[i], ARGV[1])
    local cursor = 'cursor:' .. ARGV[(i + 1) / 2]
    local fed = tonumber(redis.call('HGET', KEYS[1], cursor) or '0')
    if rank < fed then
      redis.call('HSET', KEYS[1], cursor, fed - 1)
    else
      removed = removed + 1
    end
  end
end
for _, entry in ipairs(redis.call('XRANGE', KEYS[2], '-', '+')) do
  local fields = entry[2]
  for j = 1, #fields, 2 do
    if fields[j] == 'chat' and fields[j + 1] == ARGV[1] then
      if redis.call('HEXISTS', KEYS[3], entry[1]) == 1 then
        redis.call('HSET', KEYS[1], 'erased:' .. entry[1], 1)
      else
        redis.pcall('XACK', KEYS[2], ARGV[2], entry[1])
        redis.call('XDEL', KEYS[2], entry[1])
        removed = removed + 1
      end
    end
  end
end
if removed > 0 then redis.call('HINCRBY', KEYS[1], 'total', -removed) end
return removed
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
    # Dropped unsent: the broadcast was cancelled, or the chat left the lists since it started.
    DROPPED = 3


@dataclass(frozen=True)
class Step:
    """One sender's move: the send it finished (entry id, outcome), the entry it takes next;
    or, alone, the entry whose mark it gives back because the message did not leave."""

    done: tuple[str, Outcome] | None
    next_entry: str | None
    release: str | None = None


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

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._feed = redis.register_script(_FEED)
        self._step = redis.register_script(_STEP)
        self._remove = redis.register_script(_REMOVE)

    async def feed(self, broadcast_id: int, chunk: int) -> int | None:
        """Queue up to `chunk` more of the audience; 0 once everyone was queued, None once the
        broadcast stopped."""
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
        for step in steps:
            done, outcome = (step.done[0], step.done[1].value) if step.done else ("", "")
            args += [done or step.release or "", outcome, step.next_entry or ""]
        answers = await self._step(
            keys=[
                keys.broadcast_in_flight(broadcast_id), keys.broadcast(broadcast_id),
                keys.broadcast_stream(broadcast_id),
                *(keys.subscribers(locale) for locale in SUPPORTED_LOCALES),
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
        return int(removed)


def _sources(broadcast_id: int) -> list[str]:
    """Per locale, its subscriber set and the broadcast's snapshot (an earlier release's)."""
    sources: list[str] = []
    for locale in SUPPORTED_LOCALES:
        sources += [keys.subscribers(locale), keys.broadcast_recipients(broadcast_id, locale)]
    return sources


def _recipient(entry_id: object, fields: dict[Any, Any]) -> Recipient:
    decoded = {text_of(k): text_of(v) for k, v in fields.items()}
    return Recipient(text_of(entry_id), int(decoded["chat"]), decoded["locale"])

"""A digest run in the engine: its audience fed from the digest list, each recipient's content
built from the updates since their last digest.

Each recipient's last digest lives in their hash: `digest_at` (the cut of that run),
`digest_prev` (the mark before it) and `digest_run`. The step script moves them together with
the send's in-flight mark (bot/broadcasts/queue.py), so a crash after the mark never repeats
those updates (the send counts uncertain, as any broadcast's), and one before it sends the
same updates again: the content is read from the marks, and a retried send of this run reads
`digest_prev`. The updates one digest covered are those of its run that started after
`digest_prev`, up to `digest_at`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from bot.broadcasts.digest_content import Part, digest_parts
from bot.broadcasts.digests import AUDIENCE, DIGEST
from bot.broadcasts.feeding import _PLACES
from bot.broadcasts.preference_row import preference_rows
from bot.broadcasts.queue import Recipient
from bot.broadcasts.store import CONSUMER_GROUP, Broadcast, BroadcastStore, now_ms
from bot.i18n import SUPPORTED_LOCALES, Localizer
from bot.storage import keys
from bot.storage.connection import as_text, text_of

# The parts of one recipient's digest; None: nothing new for them, the entry is dropped unsent.
Compose = Callable[[Recipient], Awaitable[list[Part] | None]]

# KEYS: job, stream, the run's digest list, then the subscriber set of each locale.
# ARGV: chunk, then the locales in that order. Answers {queued, done}; {-1, 1} once the run
# stopped; {0, 0} for a broadcast that is not a digest (its own feed runs). Walks the digest list
# by (score, chat) after the last one queued, like the subscribers' feed, and queues who still
# subscribes, in the language of their list: the total is who was queued.
FEED_DIGEST = _PLACES + """
local job = redis.call('HMGET', KEYS[1], 'status', 'audience', 'digest-score', 'digest-chat')
if job[1] ~= 'sending' then return {-1, 1} end
if job[2] ~= 'digest' then return {0, 0} end
if redis.call('HGET', KEYS[1], 'fed') == '1' then return {0, 1} end
if redis.call('HSETNX', KEYS[1], 'digest-started', 1) == 1 then
  redis.call('HSET', KEYS[1], 'total', 0)
  redis.call('HDEL', KEYS[1], 'unfed')
end
local first = first_after(KEYS[3], job[3], job[4])
local found = redis.call('ZRANGE', KEYS[3], first, first + tonumber(ARGV[1]) - 1, 'WITHSCORES')
local queued = 0
for i = 1, #found, 2 do
  for k = 4, #KEYS do
    if redis.call('ZSCORE', KEYS[k], found[i]) then
      redis.call('XADD', KEYS[2], '*', 'chat', found[i], 'locale', ARGV[k - 2])
      queued = queued + 1
      break
    end
  end
end
if #found == 0 then
  redis.call('HSET', KEYS[1], 'fed', 1)
  return {0, 1}
end
redis.call('HSET', KEYS[1], 'digest-score', found[#found], 'digest-chat', found[#found - 1])
redis.call('HINCRBY', KEYS[1], 'total', queued)
return {queued, 0}
"""

# KEYS: job, stream, in-flight. ARGV: entry, group, now (ms). A recipient with nothing new:
# out of the run unsent and out of its total. A send of it still on the wire is left to its
# sender (0); one whose mark outlived its deadline (its sender died) is counted uncertain, as
# the step script would, so the entry never waits for a content it can no longer have.
_DROP = """
local deadline = redis.call('HGET', KEYS[3], ARGV[1])
if deadline and tonumber(deadline) > tonumber(ARGV[3]) then return 0 end
redis.call('XACK', KEYS[2], ARGV[2], ARGV[1])
local removed = redis.call('XDEL', KEYS[2], ARGV[1]) == 1
if deadline then
  redis.call('HDEL', KEYS[3], ARGV[1])
  if removed then redis.call('HINCRBY', KEYS[1], 'uncertain', 1) end
elseif removed then
  redis.call('HINCRBY', KEYS[1], 'total', -1)
end
return 1
"""


class DigestDelivery:
    """Feeds digest runs and builds each recipient's digest; the engine asks for both."""

    def __init__(
        self, redis: Redis, broadcasts: BroadcastStore, l10n: Localizer, zone: ZoneInfo
    ) -> None:
        self._redis = redis
        self._broadcasts = broadcasts
        self._l10n = l10n
        self._zone = zone
        # Every broadcast's "Fewer messages" / "Stop" row, under each digest's last message.
        self._rows = preference_rows(l10n)
        self._feed = redis.register_script(FEED_DIGEST)
        self._drop = redis.register_script(_DROP)

    async def feed(self, broadcast_id: int, chunk: int) -> tuple[bool, int | None]:
        """(False, _) for a broadcast that is not a digest; else what queue.feed answers:
        how many were queued, 0 once everyone was, None once the run stopped."""
        cadence = as_text(await self._redis.hget(keys.broadcast(broadcast_id), "cadence"))
        if not cadence:
            return False, None
        while True:
            queued, done = await self._feed(
                keys=[
                    keys.broadcast(broadcast_id), keys.broadcast_stream(broadcast_id),
                    keys.digest_subscribers(cadence),
                    *(keys.subscribers(locale) for locale in SUPPORTED_LOCALES),
                ],
                args=[chunk, *SUPPORTED_LOCALES],
            )
            if int(queued) < 0:
                return True, None
            if int(queued) or int(done):
                return True, int(queued)

    async def composer(self, broadcast_id: int) -> Compose | None:
        """How this run's recipients get their content; None for any other broadcast."""
        audience, cadence, cut = await self._redis.hmget(
            keys.broadcast(broadcast_id), AUDIENCE, "cadence", "cut"
        )
        if as_text(audience) != DIGEST or cadence is None or cut is None:
            return None
        updates = await self._updates(int(text_of(cut)))
        run = str(broadcast_id)
        cadence_text = text_of(cadence)
        # Most recipients share their last digest, so the same few contents serve them all.
        built: dict[tuple[str, int], list[Part]] = {}

        async def compose(recipient: Recipient) -> list[Part] | None:
            since = await self._since(recipient, cadence_text, run)
            fresh = [update for update in updates if update.started_at > since]
            if not fresh:
                await self._drop(
                    keys=[
                        keys.broadcast(broadcast_id), keys.broadcast_stream(broadcast_id),
                        keys.broadcast_in_flight(broadcast_id),
                    ],
                    args=[recipient.entry_id, CONSUMER_GROUP, now_ms()],
                )
                return None
            key = (recipient.locale, len(fresh))
            if key not in built:
                built[key] = digest_parts(
                    self._l10n, recipient.locale, cadence_text, fresh, self._zone,
                    self._rows[recipient.locale],
                )
            return built[key]

        return compose

    async def _updates(self, cut: int) -> list[Broadcast]:
        """What /updates shows that started by the cut, oldest first."""
        shown, _ = await self._broadcasts.public_archive(0, 1_000_000)
        return sorted(
            (update for update in shown if update.started_at <= cut),
            key=lambda update: (update.started_at, update.broadcast_id),
        )

    async def _since(self, recipient: Recipient, cadence: str, run: str) -> int:
        """The start (ms) of what the recipient's digest holds: their last digest's cut, or
        the mark before it for a send of this run tried again; else when they chose the
        digest. (Not when they joined: join scores run ahead of the clock in a burst.)"""
        chat = recipient.chat_id
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hmget(keys.user(chat), "digest_at", "digest_prev", "digest_run")
            pipe.zscore(keys.digest_subscribers(cadence), chat)
            (last, previous, last_run), chosen = await pipe.execute()
        mark = previous if as_text(last_run) == run else last
        return int(text_of(mark)) if mark else int(chosen or 0)

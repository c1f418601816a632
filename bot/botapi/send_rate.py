"""One send schedule for every process: BROADCAST_RATE messages per second, and Telegram's 429.

A send is granted only when Redis's clock has reached the schedule's next slot (GCRA with a
small tolerance), so processes sharing the Redis share the limit without talking to each other
and the grants, not just the reservations, are spaced; a 429 pauses every sender.

A grant that reaches its sender late is thrown away: the schedule spaces grants, and only a
grant used at once keeps the sends spaced too (see LATE_GRANT_SECONDS).

An answer to a supporter never waits for a slot: it takes the schedule's next one away from the
broadcasts and notices (their next slot moves one interval later) and goes at once, so the
budget is shared while answers come first (see `charge_answer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass

from redis.asyncio import Redis
from telegram.error import RetryAfter

from bot.metrics import Metrics
from bot.storage import keys
from bot.storage.connection import StorageUnavailable

# Slots are spaced at 1/(rate - 0.6), so `rate` + 1 sends span `rate` intervals: 1,020 ms at
# 30/s. A send leaves at most TOLERANCE_US before and LATE_GRANT_SECONDS after its slot, so any
# one-second window holds at most `rate` sends with 12 ms to spare for the network, while the
# schedule itself runs at 98 % of the limit.
RATE_HEADROOM = 0.6

# A grant may come this much before its slot, so a sender waking a little late does not lose
# the slot's time for good (the schedule, not the wake-up, sets the next slot). At 1 ms, wake-ups
# later than that cost 1.2 % of the slots at 30/s.
TOLERANCE_US = 3_000

# Measured from before the grant was asked for, so it bounds the time from the grant (on
# Redis's clock) to the send whatever the two clocks say. A grant received later than this
# (the process stalled: a busy event loop, the OS) is not used: sending it would put this
# message right next to the following one. Its slot is lost; the sender asks again.
LATE_GRANT_SECONDS = 0.005

# Unpaced senders (unlimited mode, answers) have no slot to ask for, only Telegram's 429 pause:
# asking Redis for it on every message serialised all senders behind one round trip each, so it
# is read at most this often (a pause set by this process applies at once; one set by another
# within this delay). The answers' charges to the schedule go with that read.
PAUSE_CHECK_SECONDS = 0.1

# Answers push the schedule at most this far ahead of now: a burst of a thousand answers holds
# broadcasts and notices back for this long after it, not for the half minute its share of
# Telegram's budget would be (the schedule's key lives a minute).
CHARGE_HORIZON_US = 10_000_000

# KEYS: next slot, pause. ARGV: interval (µs, 0 = unlimited), tolerance (µs).
# Returns 0 when the caller may send now, else µs to wait before asking again.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local start = math.max(slot - tonumber(ARGV[2]), pause)
if start > now then return string.format('%.0f', start - now) end
local interval = tonumber(ARGV[1])
if interval > 0 then
  redis.call('SET', KEYS[1], string.format('%.0f', slot + interval), 'PX', 60000)
end
return 0
"""

# KEYS: next slot, pause. ARGV: slots taken by answers (µs, 0 for none), horizon (µs).
# Moves the next slot later by the answers' share, never past now + horizon and never earlier;
# returns µs until the pause ends (0 if none).
_CHARGE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local charge = tonumber(ARGV[1])
if charge > 0 then
  local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
  local moved = math.max(slot, math.min(slot + charge, now + tonumber(ARGV[2])))
  redis.call('SET', KEYS[1], string.format('%.0f', moved), 'PX', 60000)
end
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
if pause > now then return string.format('%.0f', pause - now) end
return 0
"""

# KEYS: pause. ARGV: seconds. Only ever pushes the pause later.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_us = now + tonumber(ARGV[1]) * 1000000
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_us > current then
  local ttl = tonumber(ARGV[1]) * 1000 + 1000
  redis.call('SET', KEYS[1], string.format('%.0f', until_us), 'PX', ttl)
end
return 1
"""


@dataclass(frozen=True)
class Grant:
    """Permission to send one message, good only if used at once (see LATE_GRANT_SECONDS)."""

    usable_until: float

    def fresh(self) -> bool:
        return asyncio.get_running_loop().time() <= self.usable_until


UNLIMITED = Grant(math.inf)


class SendRate:
    """Waits for this process's turn in the shared send schedule."""

    def __init__(self, redis: Redis, messages_per_second: float, metrics: Metrics) -> None:
        self._take = redis.register_script(_TAKE)
        # One coroutine per process asks Redis at a time; the others queue here instead of
        # polling, which keeps the event loop quiet and the grant-to-send delay short.
        self._turn = asyncio.Lock()
        self._pause = redis.register_script(_PAUSE)
        self._charge = redis.register_script(_CHARGE)
        effective = max(messages_per_second - RATE_HEADROOM, messages_per_second / 2)
        self._interval_us = int(1_000_000 / effective) if messages_per_second else 0
        # For unpaced senders and answers, on the event loop's clock: until when the pause read
        # from Redis holds, and until when that reading is trusted. Not read under `_turn`:
        # paced senders hold it while they sleep until their slot, and answers never wait there.
        self._paused_until = 0.0
        self._checked_until = 0.0
        self._reading: asyncio.Future[None] | None = None
        # Answers sent since the last read, charged to the schedule with the next one.
        self._owed = 0
        self._flush: asyncio.Task[None] | None = None
        self._metrics = metrics

    @property
    def limited(self) -> bool:
        """False with BROADCAST_RATE=0: only Telegram's 429 holds the senders back."""
        return bool(self._interval_us)

    async def fresh_grant(self, grant: Grant | None = None) -> Grant:
        """`grant` if it may still be used, else a new one (the stale one's slot is lost)."""
        if grant is not None:
            if grant.fresh():
                return grant
            self._metrics.late_send_grants.inc()
        return await self.wait_turn()

    async def wait_turn(self) -> Grant:
        """Return once this process may send one message (past any 429 pause)."""
        if not self._interval_us:
            await self.wait_unpaused()
            return UNLIMITED
        loop = asyncio.get_running_loop()
        async with self._turn:
            while True:
                asked_at = loop.time()
                wait_us = int(
                    await self._take(
                        keys=[keys.send_schedule(), keys.send_pause()],
                        args=[self._interval_us, TOLERANCE_US],
                    )
                )
                if wait_us > 0:
                    await asyncio.sleep(wait_us / 1_000_000)
                elif loop.time() - asked_at <= LATE_GRANT_SECONDS:
                    return Grant(asked_at + LATE_GRANT_SECONDS)
                else:
                    # A steady count on /metrics means an overloaded process.
                    self._metrics.late_send_grants.inc()

    def charge_answer(self) -> None:
        """An answer goes now, outside the schedule: the next paced send moves one slot later."""
        if not self._interval_us:
            return
        self._owed += 1
        if self._flush is None:
            self._flush = asyncio.create_task(self._flush_owed(), name="send-rate-charge")

    async def wait_unpaused(self, *, through_outage: bool = False) -> None:
        """Return once Telegram's 429 pause is over, reading it from Redis at most every 0.1 s.

        `through_outage`: if Redis cannot be read, go by this process's own pauses (an answer
        such as "I can't reach my records" must still go out).
        """
        loop = asyncio.get_running_loop()
        while True:
            if loop.time() >= self._checked_until:
                try:
                    await self._read_pause()
                except StorageUnavailable:
                    if not through_outage:
                        raise
                    self._checked_until = loop.time() + PAUSE_CHECK_SECONDS
            delay = self._paused_until - loop.time()
            if delay <= 0:
                return
            await asyncio.sleep(delay)
            # The pause may have been pushed later meanwhile: read it again before sending.
            self._checked_until = 0.0

    async def _read_pause(self) -> None:
        """One read of the pause (charging the answers owed) at a time, shared by every waiter.

        The waiters resume together when it ends, so the calls a pause held leave as one wave:
        queued one by one behind a lock, the first one's next 429 stopped all the others.
        """
        reading = self._reading
        if reading is None:
            reading = self._reading = asyncio.ensure_future(self._charge_and_read())
            reading.add_done_callback(self._read_done)
        await asyncio.shield(reading)

    def _read_done(self, reading: asyncio.Future[None]) -> None:
        self._reading = None
        if not reading.cancelled():
            # Marked retrieved: its waiters got the error, or none was left to care.
            reading.exception()

    async def _charge_and_read(self) -> None:
        owed, self._owed = self._owed, 0
        try:
            wait_us = int(
                await self._charge(
                    keys=[keys.send_schedule(), keys.send_pause()],
                    args=[owed * self._interval_us, CHARGE_HORIZON_US],
                )
            )
        except BaseException:
            self._owed += owed
            raise
        now = asyncio.get_running_loop().time()
        # max: a pause this process set a moment ago may not be in what Redis answered.
        self._paused_until = max(self._paused_until, now + wait_us / 1_000_000)
        self._checked_until = now + PAUSE_CHECK_SECONDS

    async def _flush_owed(self) -> None:
        try:
            await asyncio.sleep(PAUSE_CHECK_SECONDS)
            if self._owed:
                await self._read_pause()
        except StorageUnavailable:
            # The charges wait for the next read; broadcasts cannot run without Redis anyway.
            pass
        finally:
            self._flush = None

    async def aclose(self) -> None:
        """Charge the answers not yet charged, so no task outlives the Redis client."""
        flush, self._flush = self._flush, None
        if flush is not None:
            flush.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flush
        if self._owed:
            with contextlib.suppress(*StorageUnavailable):
                await self._read_pause()

    async def pause_all(self, seconds: float) -> None:
        """Telegram said 429: every sender in every process waits `retry_after`."""
        whole_seconds = max(1, int(seconds + 0.999))
        # This process's unpaced senders stop at once, without waiting for the next read.
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + whole_seconds)
        self._checked_until = max(self._checked_until, loop.time() + PAUSE_CHECK_SECONDS)
        await self._pause(keys=[keys.send_pause()], args=[whole_seconds])


def retry_after_seconds(error: RetryAfter) -> float:
    """Telegram's retry_after, whichever type this PTB version gives it (int or timedelta)."""
    value: object = error.retry_after
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]

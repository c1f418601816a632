"""One send schedule for every process: BROADCAST_RATE messages per second, and Telegram's 429.

A sender reserves the schedule's next slot on Redis's clock (one script, so processes sharing
the Redis share the limit without talking to each other), then sleeps until it on its own
clock: the round trip to Redis is made while the previous slot's message leaves, so only the
sender's wake-up lateness is left between the slot and the send. A slot is spaced so that any
`rate` + 1 consecutive sends span more than a second plus a margin for the network, at
Telegram's clock, even when each leaves up to LATE_TOLERANCE_SECONDS after its slot.

A sender that wakes later than that moves its slot to now instead of losing it, as long as no
other sender has reserved the next one (the schedule then follows the moved slot); only then
is the slot lost. A 429 pauses every sender.

An answer to a supporter never waits for a slot: it takes the schedule's next one away from the
broadcasts and notices (their next slot moves one interval later) and goes at once, so the
budget is shared while answers come first (see `charge_answer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from telegram.error import RetryAfter

from bot.metrics import Metrics
from bot.storage import keys
from bot.storage.connection import StorageUnavailable

# Margin for the time from the send to Telegram counting it (the network, its servers) varying
# between two messages.
JITTER_MARGIN_SECONDS = 0.010

# How late after its slot a send may leave: asyncio's timers fire up to a millisecond late on an
# idle loop. `rate` intervals make 1 s plus this and the jitter margin: 1,013 ms at any rate, so
# the schedule runs at 98.7 % of the limit.
LATE_TOLERANCE_SECONDS = 0.003

# A turn is handed to its sender at most this long before its slot, for the Redis step that
# must come between the reservation and the send (the broadcast's mark, the notice's claim): a
# process killed in between leaves a mark on a message it never sent, so not for long; yet at
# 30/s a whole interval, as an fsync on a busy disk took 25 ms and more.
MARK_LEAD_SECONDS = 0.1

# A sender that reserved a slot holds up this process's next reservation until it sends or
# gives the slot up (so a late one can move its slot), for at most this long past the slot.
HOLD_SECONDS = 1.0

# A late sender moves its slot at most this many times before giving it up (its loop keeps
# stalling past each moved slot).
MOVES = 3

# Redis's clock is read against this process's from the latest reservations: the fastest of
# them says best when Redis read its clock.
CLOCK_SAMPLES = 32


def slot_interval(messages_per_second: float) -> float:
    """Seconds between two slots: `rate` of them span 1 s and the margins."""
    return (1 + JITTER_MARGIN_SECONDS + LATE_TOLERANCE_SECONDS) / messages_per_second


# Unpaced senders (unlimited mode, answers) have no slot to ask for, only Telegram's 429 pause:
# asking Redis for it on every message serialised all senders behind one round trip each, so it
# is read at most this often (a pause set by this process applies at once; one set by another
# within this delay). The answers' charges to the schedule go with that read.
PAUSE_CHECK_SECONDS = 0.1

# Answers push the schedule at most this far ahead of now: a burst of a thousand answers holds
# broadcasts and notices back for this long after it, not for the half minute its share of
# Telegram's budget would be (the schedule's key lives a minute).
CHARGE_HORIZON_US = 10_000_000

# Every schedule script starts here: `now` in µs on Redis's clock, the one all processes share.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

# KEYS: next slot, pause. ARGV: interval, ahead (µs). Reserves the next free slot, no earlier
# than `ahead` from now (the reply must reach the sender first) nor than the pause's end.
# Returns {now, slot} (µs on Redis's clock).
_TAKE = _NOW + """
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now + tonumber(ARGV[2]), pause)
redis.call('SET', KEYS[1], string.format('%.0f', slot + tonumber(ARGV[1])), 'PX', 60000)
redis.call('SET', KEYS[3], string.format('%.0f', slot), 'PX', 60000)
return {string.format('%.0f', now), string.format('%.0f', slot)}
"""

# KEYS: next slot, pause, last reserved. ARGV: the late sender's slot, interval, ahead (µs).
# If nobody has reserved a slot after it (nor paused), moves it to `ahead` from now, the next
# free slot no earlier than one interval after it (answers charged meanwhile keep their share);
# returns {now, slot}, slot -1 when it is lost.
_MOVE = _NOW + """
local slot = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
if last ~= slot or pause > now then
  return {string.format('%.0f', now), '-1'}
end
local after = tonumber(redis.call('GET', KEYS[1]) or '0')
slot = math.max(slot, now + tonumber(ARGV[3]))
redis.call('SET', KEYS[1], string.format('%.0f', math.max(after, slot + interval)), 'PX', 60000)
redis.call('SET', KEYS[3], string.format('%.0f', slot), 'PX', 60000)
return {string.format('%.0f', now), string.format('%.0f', slot)}
"""

# KEYS: next slot, pause. ARGV: slots taken by answers (µs, 0 for none), horizon (µs).
# Moves the next slot later by the answers' share, never past now + horizon and never earlier;
# returns µs until the pause ends (0 if none).
_CHARGE = _NOW + """
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
_PAUSE = _NOW + """
local until_us = now + tonumber(ARGV[1]) * 1000000
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_us > current then
  local ttl = tonumber(ARGV[1]) * 1000 + 1000
  redis.call('SET', KEYS[1], string.format('%.0f', until_us), 'PX', ttl)
end
return 1
"""


class Turn:
    """One reserved slot: `go()` at it, or `settle()` to give it up unused."""

    def __init__(self, rate: SendRate | None, slot_us: int, at: float) -> None:
        # None: unlimited, no slot to keep.
        self._rate = rate
        self.slot_us = slot_us
        # The slot on the event loop's clock.
        self.at = at
        self.settled = asyncio.Event()

    async def go(self) -> bool:
        """Sleep until the slot; True: send now. False: the slot is lost (a 429 pause, or the
        sender woke too late with the next slot taken); reserve another."""
        if self._rate is None:
            return True
        try:
            return await self._rate.keep(self)
        finally:
            self.settled.set()

    def settle(self) -> None:
        """Used or given up: this process may reserve its next slot."""
        self.settled.set()


UNLIMITED = Turn(None, 0, 0.0)


class SendRate:
    """Reserves this process's turns in the shared send schedule."""

    def __init__(self, redis: Redis, messages_per_second: float, metrics: Metrics) -> None:
        self._take = redis.register_script(_TAKE)
        self._move = redis.register_script(_MOVE)
        # One reservation at a time per process, each after the previous turn is settled: the
        # schedule's latest slot is then this process's own unless another process took one.
        self._turn = asyncio.Lock()
        self._previous: Turn | None = None
        self._pause = redis.register_script(_PAUSE)
        self._charge = redis.register_script(_CHARGE)
        self._interval_us = (
            round(slot_interval(messages_per_second) * 1_000_000) if messages_per_second else 0
        )
        # Per reservation, Redis's clock minus the loop's when asked, and the round trip: their
        # minimums (the least delayed readings) map slots to this clock and say how soon a
        # reply can arrive.
        self._offsets: deque[float] = deque(maxlen=CLOCK_SAMPLES)
        self._trips: deque[float] = deque(maxlen=CLOCK_SAMPLES)
        # When this process last sent, on its own clock. The mapping of Redis's clock moves when
        # the fastest reading ages out of the samples (by tens of milliseconds on a busy loop),
        # and a slot mapped that much earlier would follow the previous send too closely.
        self._last_sent = -math.inf
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

    async def wait_turn(self) -> None:
        """Return once this process may send one message now (past any 429 pause)."""
        while not await (await self.reserve()).go():
            pass

    async def reserve(self) -> Turn:
        """This process's next slot, returned MARK_LEAD_SECONDS before it (past any pause)."""
        if not self._interval_us:
            await self.wait_unpaused()
            return UNLIMITED
        loop = asyncio.get_running_loop()
        async with self._turn:
            previous = self._previous
            if previous is not None and not previous.settled.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        previous.settled.wait(), previous.at + HOLD_SECONDS - loop.time()
                    )
            slot_us = await self._call(self._take, [self._interval_us])
            turn = self._previous = Turn(self, slot_us, self._local(slot_us))
        try:
            delay = turn.at - MARK_LEAD_SECONDS - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        except BaseException:
            turn.settle()
            raise
        return turn

    async def keep(self, turn: Turn) -> bool:
        """`Turn.go`: on time, or moved to now when late and nobody has the next slot."""
        loop = asyncio.get_running_loop()
        turn.at = max(turn.at, self._last_sent + self._interval_us / 1_000_000)
        for moves in range(MOVES + 1):
            delay = turn.at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            if now < self._paused_until:
                return False
            if now - turn.at <= LATE_TOLERANCE_SECONDS:
                self._last_sent = now
                return True
            if not moves:
                # A steady count on /metrics means an overloaded process.
                self._metrics.late_send_grants.inc()
            if moves == MOVES:
                break
            slot_us = await self._call(self._move, [turn.slot_us, self._interval_us])
            if slot_us < 0:
                break
            turn.slot_us = slot_us
            turn.at = max(self._local(slot_us), self._last_sent + self._interval_us / 1_000_000)
        return False

    async def _call(self, script: AsyncScript, args: list[int]) -> int:
        """Run a schedule script (its last argument: how soon a reply can arrive), learn the
        clocks from its answer and return its slot."""
        loop = asyncio.get_running_loop()
        ahead_us = round(min(self._trips, default=0.0) * 1_000_000)
        asked = loop.time()
        now_us, slot_us = (
            int(value) for value in await script(
                keys=[keys.send_schedule(), keys.send_pause(), keys.send_last_reserved()],
                args=[*args, ahead_us],
            )
        )
        self._trips.append(loop.time() - asked)
        self._offsets.append(now_us / 1_000_000 - asked)
        return slot_us

    def _local(self, slot_us: int) -> float:
        """A slot on Redis's clock, on the event loop's."""
        return slot_us / 1_000_000 - min(self._offsets)

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

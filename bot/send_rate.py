"""One send schedule for every process: BROADCAST_RATE messages per second, and Telegram's 429.

Each send reserves the next free slot on Redis's clock (a GCRA-style schedule), so processes
sharing the Redis share the limit without talking to each other; a 429 pauses every sender.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from bot import keys

# Slots are spaced slightly wider than 1/rate, so jitter in the event loop can never put more
# than `rate` messages into any one-second window as Telegram measures it.
RATE_SAFETY = 0.98

# KEYS: next slot, pause. ARGV: interval (µs, 0 = unlimited). Returns µs to wait for our slot.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, slot, pause)
local interval = tonumber(ARGV[1])
if interval > 0 then
  redis.call('SET', KEYS[1], string.format('%.0f', start + interval), 'PX', 60000)
end
return string.format('%.0f', start - now)
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


class SendRate:
    """Waits for this process's turn in the shared send schedule."""

    def __init__(self, redis: Redis, messages_per_second: float) -> None:
        self._redis = redis
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)
        self._interval_us = (
            int(1_000_000 / (messages_per_second * RATE_SAFETY)) if messages_per_second else 0
        )
        self._unlimited = messages_per_second == 0

    async def wait_turn(self) -> None:
        """Sleep until our reserved slot (and past any 429 pause)."""
        while True:
            wait_us = int(
                await self._reserve(
                    keys=[keys.send_schedule(), keys.send_pause()], args=[self._interval_us]
                )
            )
            if wait_us <= 0:
                return
            await asyncio.sleep(wait_us / 1_000_000)
            # A 429 may have arrived while we slept: a slot reserved before it is void.
            if not await self._redis.exists(keys.send_pause()):
                return

    async def pause_all(self, seconds: float) -> None:
        """Telegram said 429: every sender in every process waits `retry_after`."""
        await self._pause(keys=[keys.send_pause()], args=[max(1, int(seconds + 0.999))])

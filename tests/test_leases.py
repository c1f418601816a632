"""Leases: one holder at a time, renewed by its holder only, taken over once expired."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from bot.storage.leases import Lease


async def test_one_holder_at_a_time_and_a_successor_after_expiry(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        first = Lease(redis, "polling", "process-a", ttl_ms=300)
        second = Lease(redis, "polling", "process-b", ttl_ms=300)
        assert await first.take()
        assert not await second.take(), "held by process-a"
        assert await first.take(), "renewed by its holder"
        assert await second.holder() == "process-a"
        await asyncio.sleep(0.4)
        assert await second.take(), "process-a stopped renewing: its lease expired"
        assert not await first.take(), "a stalled holder cannot take back a successor's lease"
        assert not await first.release(), "nor release it"
        assert await second.holder() == "process-b"
        assert await second.release()
        assert await first.take(), "released: free at once, no expiry to wait out"
    finally:
        await redis.aclose()

"""Periodic jobs across several processes on one Redis: each period's run once, taken over.

A run is a job and its period ("daily-summary" of "2026-12-01"). Its holder keeps a lease on it,
renewed while the work goes on, and marks the run begun, then done. Every process asks for the
run when its schedule says so: the first takes it, the others find it held and ask again a little
later (their catch-up jobs), until it is done. A holder that stops renewing (killed, frozen, cut
off from Redis) loses the lease, and the next process to ask takes the run over. A job that must
not repeat what a dead holder already did records its own progress as it goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis

from bot.storage import keys
from bot.storage.connection import as_text
from bot.storage.leases import Lease

log = logging.getLogger(__name__)

T = TypeVar("T")

BEGUN = "begun"
DONE = "done"


def lease_seconds(recovery_seconds: int) -> float:
    """How long a run's lease outlives its holder's last renewal, and how often the others ask
    again: a run a dead process left is taken over within BROADCAST_RECOVERY_SECONDS."""
    return recovery_seconds / 2


class _LeaseLost(Exception):
    """The holder could not renew in time: another process may hold the run now."""


class JobRuns:
    """Runs a job alone, or once per period, among every process sharing this Redis."""

    def __init__(self, redis: Redis, ttl_seconds: float, owner: str | None = None) -> None:
        self._redis = redis
        self._ttl_ms = int(ttl_seconds * 1000)
        # Renewed three times per lease: one slow renewal does not lose it.
        self._renew_seconds = ttl_seconds / 3
        self.owner = owner or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._here: set[str] = set()

    async def once(
        self, job: str, period: str, work: Callable[[], Awaitable[None]], kept_seconds: int
    ) -> bool:
        """Run `work` for `period` unless it is done, or another process is at it right now;
        True if this process completed it."""
        run = f"{job}:{period}"
        state = keys.job_run(run)
        if as_text(await self._redis.get(state)) == DONE:
            return False
        async with self._holding(run) as lease:
            # Again under the lease: a holder marks the run done before it lets go.
            if lease is None or as_text(await self._redis.get(state)) == DONE:
                return False
            await self._redis.set(state, BEGUN, ex=kept_seconds)
            try:
                await self._while_held(run, lease, work)
            except _LeaseLost:
                return False
            await self._redis.set(state, DONE, ex=kept_seconds)
            return True

    async def unfinished(self, job: str, period: str) -> bool:
        """A process began this run and none completed it: its holder is at it, or died."""
        return as_text(await self._redis.get(keys.job_run(f"{job}:{period}"))) == BEGUN

    async def alone(self, role: str, work: Callable[[], Awaitable[T]]) -> T | None:
        """Run `work` now unless another process is running it (then None)."""
        async with self._holding(role) as lease:
            if lease is None:
                return None
            try:
                return await self._while_held(role, lease, work)
            except _LeaseLost:
                return None

    @contextlib.asynccontextmanager
    async def _holding(self, role: str) -> AsyncIterator[Lease | None]:
        """The role's lease while the block runs, or None if another job or process has it."""
        # The lease is this process's whichever job asks: two jobs of one process asking for the
        # same run at once (its scheduled time and its catch-up) are told apart here.
        if role in self._here:
            yield None
            return
        self._here.add(role)
        lease = Lease(self._redis, role, self.owner, self._ttl_ms)
        try:
            if not await lease.take():
                yield None
                return
            try:
                yield lease
            finally:
                await lease.release()
        finally:
            self._here.discard(role)

    async def _while_held(
        self, role: str, lease: Lease, work: Callable[[], Awaitable[T]]
    ) -> T:
        """Await `work`, renewing the lease; cut it short if a renewal finds the lease gone."""

        async def working() -> T:
            return await work()

        task = asyncio.create_task(working())
        try:
            while True:
                finished, _ = await asyncio.wait({task}, timeout=self._renew_seconds)
                if finished:
                    return task.result()
                if not await lease.renew():
                    log.warning("job lease lost role=%s owner=%s", role, self.owner)
                    raise _LeaseLost
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

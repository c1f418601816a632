"""Rewriting the server's append-only file after /forget, so the disk forgets what Redis did.

The append-only file logs every write, the words and ids /forget deleted included, until the
server rewrites it from the data as it is now (BGREWRITEAOF: the old files are then deleted).
Erasures ask for a rewrite that starts after their writes; they are coalesced into at most one
rewrite a minute, since each rewrites the whole database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from redis.asyncio import Redis
from redis.exceptions import NoPermissionError, ResponseError

from bot.storage.connection import StorageUnavailable

log = logging.getLogger(__name__)

REWRITE_EVERY_SECONDS = 60.0
# How often to look again while a rewrite that began before the erasure is still running.
IN_PROGRESS_POLL_SECONDS = 1.0
# A rewrite of a large database can take minutes; past this, the next erasure asks again.
IN_PROGRESS_WAIT_SECONDS = 600.0


class AofRewrites:
    """Asks for one rewrite after each batch of erasures; a server that refuses it is told once."""

    def __init__(
        self, redis: Redis, every: float = REWRITE_EVERY_SECONDS,
        poll: float = IN_PROGRESS_POLL_SECONDS,
    ) -> None:
        self._redis = redis
        self._every = every
        self._poll = poll
        self._wanted = False
        self._refused = False
        self._last_started = float("-inf")
        self._task: asyncio.Task[None] | None = None

    def request(self) -> None:
        """Have a rewrite start after this moment (soon, or once a minute has passed)."""
        if self._refused:
            return
        self._wanted = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="aof-rewrite")

    async def stop(self) -> None:
        """Drop a rewrite still waiting for its minute; one already started runs on in Redis."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while self._wanted and not self._refused:
            delay = self._last_started + self._every - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            # Requests from here on are covered by the rewrite about to start, or ask again.
            self._wanted = False
            await self._rewrite()

    async def _rewrite(self) -> None:
        deadline = time.monotonic() + IN_PROGRESS_WAIT_SECONDS
        try:
            if not await self._append_only():
                return
            while True:
                try:
                    await self._redis.bgrewriteaof()
                except ResponseError as error:
                    # That rewrite copies the data from before the erasure: wait, then ask again.
                    if "in progress" in str(error) and time.monotonic() < deadline:
                        await asyncio.sleep(self._poll)
                        continue
                    raise
                self._last_started = time.monotonic()
                return
        except NoPermissionError as error:
            self._refuse(error)
        except ResponseError as error:
            if "unknown command" in str(error).lower():
                self._refuse(error)
            else:
                log.warning("append-only file not rewritten after /forget error=%s", error)
        except StorageUnavailable as error:
            log.warning(
                "append-only file not rewritten after /forget error=%s", type(error).__name__
            )

    async def _append_only(self) -> bool:
        """Whether the server keeps an append-only file (a server that hides INFO: assume so)."""
        try:
            persistence = await self._redis.info("persistence")
        except ResponseError:
            return True
        return str(persistence.get("aof_enabled", "1")) != "0"

    def _refuse(self, error: ResponseError) -> None:
        self._refused = True
        log.warning(
            "the redis server refuses BGREWRITEAOF: its append-only file keeps what /forget "
            "erased until the server rewrites it error=%s", error,
        )

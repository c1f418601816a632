"""Polling Telegram from one process of several: the one holding the "polling" lease.

Telegram serves one getUpdates caller per bot: a newer call ends the one in progress with a 409
Conflict. Processes sharing a Redis therefore take turns through a lease. Its holder polls and
renews it; the others serve everything else and try for it now and then, so a dead holder's role
passes on once its lease expires, and a clean stop hands it over at a sibling's next try.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from typing import Final

from redis.asyncio import Redis
from telegram import Update
from telegram.error import Conflict, TelegramError
from telegram.ext import Updater

from bot.storage.connection import StorageUnavailable
from bot.storage.leases import Lease

log = logging.getLogger(__name__)

ROLE: Final = "polling"
# A holder renews every RENEW_SECONDS and keeps the role through two missed renewals; a sibling
# tries every RETRY_SECONDS, so a SIGKILLed poller is replaced within TTL + RETRY = 10 s.
LEASE_TTL_MS: Final = 8_000
RENEW_SECONDS: Final = 2.5
RETRY_SECONDS: Final = 2.0
# One Redis call may not hold the loop past a renewal: past that, Redis counts as unreachable.
LEASE_CALL_SECONDS: Final = RENEW_SECONDS
# A rogue poller (another deployment with the same token) conflicts every few seconds: one
# WARNING a minute, and meanwhile the turns it causes are logged at DEBUG only.
CONFLICT_WARNING_SECONDS: Final = 60.0
# Where PTB 22's Updater keeps the last getUpdates its stop() makes (a private slot).
_FINAL_CALL_SLOT: Final = "_Updater__polling_cleanup_cb"


def polling_lease(redis: Redis) -> Lease:
    """The polling role's lease, owned by this process under a name an operator can trace."""
    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    return Lease(redis, ROLE, owner, LEASE_TTL_MS)


async def _no_final_call() -> None:
    """Stand-in for the Updater's last getUpdates when another process polls now."""


class Poller:
    """Runs PTB's Updater while this process holds the polling lease, and stands by otherwise."""

    def __init__(self, updater: Updater, lease: Lease, poll_timeout: int) -> None:
        self._updater = updater
        self._lease = lease
        self._poll_timeout = poll_timeout
        self._standing_by = False
        self._conflicted = False
        self._conflicts = 0
        self._warned_at: float | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Poll at once if the lease is free, then keep renewing it or trying for it."""
        await self._settle(starting=True)
        self._task = asyncio.create_task(self._run(), name="telegram-poller")

    async def stop(self) -> None:
        """Stop polling with the last updates confirmed to Telegram, then free the lease."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            # The loop ends after its current step; a Redis call that hangs is cut short.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, LEASE_CALL_SECONDS + 1)
        if self._updater.running:
            await self._updater.stop()
            await self._lease.release()

    async def _run(self) -> None:
        while not self._stopping:
            pause = RENEW_SECONDS if self._updater.running else RETRY_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)
            self._wake.clear()
            if self._stopping:
                return
            if self._conflicted:
                self._conflicted = False
                await self._step_back(release=True)
                continue
            try:
                await self._settle(starting=False)
            except Exception as error:  # the loop must outlive any one step
                log.error("telegram poller step failed error=%s", type(error).__name__)

    async def _settle(self, *, starting: bool) -> None:
        """Take or renew the lease, and poll or stand by accordingly."""
        polling = self._updater.running
        try:
            held = await asyncio.wait_for(self._lease.take(), LEASE_CALL_SECONDS)
        except StorageUnavailable:
            # While Redis is away nobody can take the role: keep what we had. A process starting
            # then polls, as a lone one must, to tell people it cannot reach its records.
            held = polling or starting
        if held and not polling:
            await self._begin(starting)
        elif not held and (polling or not self._standing_by):
            await self._step_back(release=False)

    async def _begin(self, starting: bool) -> None:
        try:
            await self._updater.start_polling(
                poll_interval=0,
                timeout=self._poll_timeout,
                allowed_updates=Update.ALL_TYPES,
                error_callback=self._polling_failed,
            )
        except TelegramError as error:
            with contextlib.suppress(*StorageUnavailable):
                await self._lease.release()
            if starting:
                raise
            log.warning("telegram polling did not start error=%s", type(error).__name__)
            return
        self._standing_by = False
        log.log(self._turn_level(), "telegram polling started owner=%s", self._lease.owner)

    async def _step_back(self, *, release: bool) -> None:
        """Stop polling without another getUpdates, which would end the new poller's call."""
        if self._updater.running:
            # PTB's stop() ends with one more getUpdates to confirm what it fetched; every
            # fetched update was confirmed already by the offset of the long poll it cancels.
            with contextlib.suppress(AttributeError):
                setattr(self._updater, _FINAL_CALL_SLOT, _no_final_call)
            await self._updater.stop()
        if release:
            with contextlib.suppress(*StorageUnavailable):
                await self._lease.release()
        if not self._standing_by:
            self._standing_by = True
            log.log(self._turn_level(), "another process polls telegram; this one stands by")

    def _turn_level(self) -> int:
        """INFO for a turn, DEBUG for the turns of a conflict already warned about."""
        recent = self._warned_at is not None and (
            time.monotonic() - self._warned_at < CONFLICT_WARNING_SECONDS
        )
        return logging.DEBUG if recent else logging.INFO

    def _polling_failed(self, error: TelegramError) -> None:
        """PTB's error callback, from inside its polling task: a conflict makes us step back."""
        if not isinstance(error, Conflict):
            # PTB retries with a growing pause (up to 30 s); its default logs a traceback each.
            log.warning("telegram polling failed error=%s", type(error).__name__)
            return
        self._conflicted = True
        self._wake.set()
        self._conflicts += 1
        now = time.monotonic()
        if self._warned_at is not None and now - self._warned_at < CONFLICT_WARNING_SECONDS:
            return
        log.warning(
            "telegram polling conflict: another getUpdates caller or a webhook uses this token, "
            "stepping back conflicts=%d description=%r", self._conflicts, error.message,
        )
        self._conflicts = 0
        self._warned_at = now

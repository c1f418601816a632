"""The broadcast worker every bot process runs: feed, send at the shared rate, report, finish."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from yarl import URL

from bot.botapi.send_rate import Grant, SendRate, retry_after_seconds
from bot.botapi.transport import BotApiRequest
from bot.broadcasts.call_batching import CallBatcher
from bot.broadcasts.queue import RECLAIM_BATCH, Claim, Recipient, RecipientQueue, Step, StepAnswer
from bot.broadcasts.store import (
    Broadcast,
    BroadcastContent,
    BroadcastStatus,
    BroadcastStore,
    Outcome,
    now_ms,
)
from bot.broadcasts.subscribers import Subscribers
from bot.i18n import SUPPORTED_LOCALES
from bot.metrics import Metrics
from bot.storage.connection import StorageUnavailable

log = logging.getLogger(__name__)

# Messages in flight at once. Paced, they take turns anyway; unpaced (paid broadcasts, up to
# 1,000/s over Telegram's 50-100 ms), 1,000/s needs 50-100 in flight. Also the most messages a
# crash can leave uncertain per process. 32 left a third of the CPU idle on the round trips.
SENDERS = 64
READ_BATCH = 25
READ_BLOCK_MS = 500
FEED_CHUNK = 500
# Keep only this many recipients queued in the stream, so Redis and the bot hold a window of
# the audience, never all of it.
FEED_LOW_WATER = 2_000
# A send not finished by its deadline was cut short by a crash; its entry is then reclaimed.
# BROADCAST_RECOVERY_SECONDS sets both (default 15 s): how long a crash delays the rest.
DEFAULT_RECOVERY_MS = 15_000
RECLAIM_EVERY_SECONDS = 5.0
PROGRESS_EVERY_SECONDS = 3.0
PROGRESS_TURN_MS = 2_500
IDLE_POLL_SECONDS = 1.0
NETWORK_RETRIES = 3

ReportCallback = Callable[[Broadcast, bool], Awaitable[None]]


class _Over(asyncio.Event):
    """Set when the broadcast needs no more work; `finalized` for the process that ended it."""

    finalized = False


@dataclass(frozen=True)
class _Job:
    """One broadcast as this process works on it: the content, the end signal, the batchers."""

    broadcast: Broadcast
    over: _Over
    # The senders' steps go to Redis together (bot/broadcasts/call_batching.py).
    step: CallBatcher[Step, StepAnswer]
    # sendMessage or sendPhoto, and per locale its form without the chat_id, encoded once: the
    # same bytes go to every subscriber of that language.
    endpoint: URL
    forms: dict[str, bytes]


class BroadcastEngine:
    """Runs in every process; several engines on one Redis share a broadcast without overlap."""

    def __init__(
        self, store: BroadcastStore, queue: RecipientQueue, request: BotApiRequest, api_url: str,
        subscribers: Subscribers, rate: SendRate, report: ReportCallback, metrics: Metrics,
        recovery_ms: int = DEFAULT_RECOVERY_MS,
    ) -> None:
        self._recovery_ms = recovery_ms
        self._metrics = metrics
        # Posts the sends straight to the Bot API at `api_url`; its owner opens and closes it.
        self._request = request
        self._api_url = api_url
        self._store = store
        self._queue = queue
        self._subscribers = subscribers
        self._rate = rate
        self._report = report
        self._consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        # Everything loaded at start-up lives as long as the process: leaving it out of the
        # garbage collector's full passes keeps those passes from stalling paced sends by tens
        # of milliseconds (which cost schedule slots and bunch the sends that follow).
        gc.freeze()
        self._task = asyncio.create_task(self._run(), name="broadcast-engine")

    async def stop(self) -> None:
        """Stop taking new recipients; sends already started finish (or are reclaimed later)."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 8)
            except TimeoutError:
                log.warning("broadcast engine did not stop in time")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                broadcast_id = await self._store.active_id() or await self._store.start_due()
                if broadcast_id is None:
                    await self._sleep(IDLE_POLL_SECONDS)
                    continue
                await self._work_on(broadcast_id)
            except StorageUnavailable as exc:
                log.warning("broadcast engine waiting for redis error=%s", type(exc).__name__)
                await self._sleep(IDLE_POLL_SECONDS)
            except Exception:
                log.exception("broadcast engine error")
                await self._sleep(IDLE_POLL_SECONDS)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _work_on(self, broadcast_id: int) -> None:
        broadcast = await self._store.get(broadcast_id)
        if broadcast is None:
            await self._store.forget_active()
            return
        over = _Over()

        async def step(steps: list[Step]) -> list[StepAnswer]:
            return await self._queue.step(broadcast_id, steps, now_ms() + self._recovery_ms)

        method = "sendPhoto" if broadcast.content.photo else "sendMessage"
        job = _Job(
            broadcast, over, CallBatcher(step), URL(f"{self._api_url}/{method}"),
            _forms(broadcast.content),
        )
        async with asyncio.TaskGroup() as group:
            group.create_task(self._feed(broadcast_id, over))
            group.create_task(self._reclaim(job))
            group.create_task(self._show_progress(broadcast_id, over))
            for _ in range(SENDERS):
                group.create_task(self._send_loop(job))
        # Reported after every task has ended, so nothing can cancel the report half-way.
        if over.finalized:
            final = await self._store.get(broadcast_id)
            if final is not None:
                await self._report(final, True)

    def _finished(self, over: _Over) -> bool:
        return over.is_set() or self._stopping.is_set()

    async def _feed(self, broadcast_id: int, over: _Over) -> None:
        """Top up the stream from the snapshots, a chunk at a time."""
        locales = list(SUPPORTED_LOCALES)
        while not self._finished(over) and locales:
            if await self._queue.backlog(broadcast_id) >= FEED_LOW_WATER:
                await self._sleep(0.2)
                continue
            added = await self._queue.feed(broadcast_id, locales[0], FEED_CHUNK)
            if added is None:
                return
            if added == 0:
                locales.pop(0)
        if not locales:
            await self._store.mark_fed(broadcast_id)

    async def _send_loop(self, job: _Job) -> None:
        broadcast_id, over = job.broadcast.broadcast_id, job.over
        # Paced, a sender waits its turn for each message: reading ahead would only leave
        # entries idle long enough for another sender to take them over.
        read_batch = READ_BATCH if not self._rate.limited else 1
        while not self._finished(over):
            recipients = await self._queue.read(
                broadcast_id, self._consumer, read_batch, READ_BLOCK_MS
            )
            if recipients is None:
                # Another sender finished the broadcast and removed its queue.
                over.set()
                return
            await self._deliver_all(job, recipients)
            if not recipients:
                await self._check_over(broadcast_id, over)

    async def _check_over(self, broadcast_id: int, over: _Over) -> None:
        current = await self._store.get(broadcast_id)
        if current is None or current.status not in (
            BroadcastStatus.SENDING, BroadcastStatus.CANCELLED
        ):
            over.set()
            return
        if current.status is BroadcastStatus.CANCELLED:
            # Whatever is still queued will never be sent.
            with contextlib.suppress(*StorageUnavailable):
                await self._queue.drop(broadcast_id)
        if await self._store.finalize(broadcast_id):
            over.finalized = True
            over.set()
        elif current.finished_at:
            over.set()

    async def _reclaim(self, job: _Job) -> None:
        """Take over entries a crashed or stopped process had read but not finished."""
        broadcast_id, over = job.broadcast.broadcast_id, job.over
        full = False
        while not self._finished(over):
            # A killed process leaves up to SENDERS x READ_BATCH entries read: a full batch
            # means more wait, taken at once rather than 100 every few seconds (minutes).
            if not full:
                await self._sleep(RECLAIM_EVERY_SECONDS)
            if self._finished(over):
                return
            try:
                recipients = await self._queue.reclaim(
                    broadcast_id, self._consumer, self._recovery_ms
                )
            except StorageUnavailable:
                full = False
                continue
            full = len(recipients) == RECLAIM_BATCH
            await self._deliver_all(job, recipients)

    async def _show_progress(self, broadcast_id: int, over: _Over) -> None:
        """One process at a time edits the organizer's progress message."""
        while not self._finished(over):
            await self._sleep(PROGRESS_EVERY_SECONDS)
            if self._finished(over):
                return
            if not await self._store.take_progress_turn(
                broadcast_id, self._consumer, PROGRESS_TURN_MS
            ):
                continue
            current = await self._store.get(broadcast_id)
            if current is not None and current.status is BroadcastStatus.SENDING:
                await self._report(current, False)

    async def _deliver_all(self, job: _Job, recipients: list[Recipient]) -> None:
        """Send to each in turn. Unpaced, each outcome is recorded with the mark of the next send
        (one round trip per message); paced, the next turn may be a second away, so at once."""
        done: tuple[str, Outcome] | None = None
        for recipient in recipients:
            done = await self._deliver(job, done, recipient)
            if done is not None and self._rate.limited:
                await self._step(job, Step(done, None))
                done = None
        if done is not None:
            await self._step(job, Step(done, None))

    async def _deliver(
        self, job: _Job, done: tuple[str, Outcome] | None, recipient: Recipient
    ) -> tuple[str, Outcome] | None:
        # Marked right before its send, once the schedule has granted the send: a crash leaves
        # at most one message per sender whose fate nobody knows, and a mark never waits for a
        # turn. Returns the outcome left to record.
        grant = await self._rate.wait_turn()
        answer = await self._step(job, Step(done, recipient.entry_id))
        if answer.claim is Claim.ABANDONED:
            self._metrics.broadcast_messages.labels(Outcome.UNCERTAIN.value).inc()
        if answer.claim is not Claim.SEND:
            return None
        outcome = await self._send(job, recipient, grant)
        return None if outcome is None else (recipient.entry_id, outcome)

    async def _step(self, job: _Job, step: Step) -> StepAnswer:
        answer = await job.step(step)
        if answer.counted and step.done is not None:
            self._metrics.broadcast_messages.labels(step.done[1].value).inc()
        return answer

    async def _send(
        self, job: _Job, recipient: Recipient, grant: Grant | None
    ) -> Outcome | None:
        """Send one message; returns the outcome, None if another process took the entry over."""
        chat_id = recipient.chat_id
        broadcast_id = job.broadcast.broadcast_id
        failures = 0
        migrated = False
        while True:
            # The mark cost a round trip since the grant: still in time, or a new turn. One
            # grant, one request: a retry waits for a turn of its own.
            await self._rate.fresh_grant(grant)
            grant = None
            try:
                await self._request.post_form(
                    job.endpoint, b"chat_id=%d&%b" % (chat_id, job.forms[recipient.locale])
                )
                return Outcome.SENT
            except RetryAfter as exc:
                wait = retry_after_seconds(exc)
                await self._rate.pause_all(wait)
                deadline = now_ms() + int(wait * 1000) + self._recovery_ms
                if not await self._queue.extend(broadcast_id, recipient.entry_id, deadline):
                    return None
            except Forbidden:
                await self._subscribers.mark_blocked(chat_id)
                return Outcome.BLOCKED
            except ChatMigrated as exc:
                if migrated:
                    return Outcome.FAILED
                migrated = True
                await self._subscribers.migrate(chat_id, exc.new_chat_id, recipient.locale)
                chat_id = exc.new_chat_id
            except BadRequest as exc:
                if "chat not found" in exc.message.lower():
                    await self._subscribers.mark_blocked(chat_id)
                    return Outcome.BLOCKED
                log.warning("broadcast message refused chat_id=%s error=%s", chat_id, exc.message)
                return Outcome.FAILED
            except TimedOut:
                # The request may have reached Telegram: never risk a second copy.
                return Outcome.UNCERTAIN
            except NetworkError as exc:
                failures += 1
                if failures > NETWORK_RETRIES:
                    log.warning("broadcast send failed chat_id=%s error=%s", chat_id,
                                type(exc).__name__)
                    return Outcome.FAILED
                backoff = 2 ** (failures - 1)
                deadline = now_ms() + backoff * 1000 + self._recovery_ms
                if not await self._queue.extend(broadcast_id, recipient.entry_id, deadline):
                    return None
                await asyncio.sleep(backoff)
            except TelegramError as exc:
                log.warning("broadcast send failed chat_id=%s error=%s", chat_id,
                            type(exc).__name__)
                return Outcome.FAILED


def _forms(content: BroadcastContent) -> dict[str, bytes]:
    """Per locale, the URL-encoded form of the message, all but its chat_id."""
    forms = {}
    for locale in SUPPORTED_LOCALES:
        text = content.text_for(locale)
        fields = (
            {"photo": content.photo, "caption": text} if content.photo else {"text": text}
        )
        forms[locale] = urlencode({**fields, "parse_mode": "HTML"}).encode()
    return forms

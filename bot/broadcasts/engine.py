"""The broadcast worker every bot process runs: feed, send at the shared rate, report, finish."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from yarl import URL

from bot.botapi.send_rate import SendRate, Turn
from bot.botapi.transport import BotApiRequest
from bot.broadcasts.digest_delivery import Compose, DigestDelivery
from bot.broadcasts.queue import RECLAIM_BATCH, Claim, Recipient, RecipientQueue, Step, StepAnswer
from bot.broadcasts.quiet import PARKED_NOW
from bot.broadcasts.sending import MessagePoster, Tries, message_forms
from bot.broadcasts.store import Broadcast, BroadcastStatus, BroadcastStore, Outcome, now_ms
from bot.broadcasts.subscribers import Subscribers
from bot.metrics import Metrics
from bot.storage.call_batching import CallBatcher
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
TAKEN_OVER_POLL_SECONDS = 0.1
PROGRESS_EVERY_SECONDS = 3.0
PROGRESS_TURN_MS = 2_500
IDLE_POLL_SECONDS = 1.0
# How often each process looks for recipients whose quiet hours have ended.
RELEASE_EVERY_SECONDS = 1.0

ReportCallback = Callable[[Broadcast, bool], Awaitable[None]]
# How long stop() lets the sends on the wire finish and be recorded (a read times out in 5 s).
STOP_SECONDS = 8


class _Over(asyncio.Event):
    """Set when the broadcast needs no more work; `finalized` for the process that ended it."""

    finalized = False


@dataclass(frozen=True)
class _Job:
    """One broadcast as this process works on it: the content, the end signal, the batchers."""

    broadcast: Broadcast
    over: _Over
    # The senders' steps go to Redis together (bot/storage/call_batching.py).
    step: CallBatcher[Step, StepAnswer]
    # sendMessage or sendPhoto, and per locale its form without the chat_id, encoded once: the
    # same bytes go to every subscriber of that language.
    endpoint: URL
    forms: dict[str, bytes]
    # Entries the reclaimer took over from a stopped or crashed process, for the senders to
    # share: one task sending them in turn took minutes for what a process had read ahead.
    taken_over: deque[Recipient]
    # A digest run's content, built per recipient (bot/broadcasts/digest_delivery.py).
    compose: Compose | None = None


class BroadcastEngine:
    """Runs in every process; several engines on one Redis share a broadcast without overlap."""

    def __init__(
        self, store: BroadcastStore, queue: RecipientQueue, request: BotApiRequest, api_url: str,
        subscribers: Subscribers, rate: SendRate, report: ReportCallback, metrics: Metrics,
        rows: Mapping[str, str], recovery_ms: int = DEFAULT_RECOVERY_MS,
        digests: DigestDelivery | None = None,
    ) -> None:
        # Per locale, the "Fewer messages" / "Stop" row every message carries.
        self._rows = rows
        self._digests = digests
        self._recovery_ms = recovery_ms
        self._metrics = metrics
        # Posts the sends straight to the Bot API at `api_url`.
        self._poster = MessagePoster(request, subscribers, rate)
        self._api_url = api_url
        self._store = store
        self._queue = queue
        self._rate = rate
        self._report = report
        self._consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Senders waiting for a send turn: they hold no mark, so stopping wakes them at once.
        self._awaiting_turn: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        # Everything loaded at start-up lives as long as the process: leaving it out of the
        # garbage collector's full passes keeps those passes from stalling paced sends by tens
        # of milliseconds (which cost schedule slots and bunch the sends that follow).
        gc.freeze()
        self._task = asyncio.create_task(self._run(), name="broadcast-engine")

    async def stop(self) -> None:
        """Stop taking work: sends on the wire finish and are recorded; what is left stays
        queued, unmarked, for whichever process resumes the broadcast."""
        self._stopping.set()
        for waiting in list(self._awaiting_turn):
            waiting.cancel()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, STOP_SECONDS)
            except TimeoutError:
                log.warning("broadcast engine did not stop in time")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                broadcast_id = (
                    await self._store.active_id() or await self._store.start_due()
                    or await self._queue.resume_parked()
                )
                if broadcast_id is None:
                    await self._sleep(IDLE_POLL_SECONDS)
                    continue
                await self._work_on(broadcast_id)
            except Exception as exc:
                lost, other = _storage_errors(exc)
                if other is not None:
                    log.error("broadcast engine error", exc_info=other)
                elif self._stopping.is_set():
                    # A supervisor that stops every process at once stopped Redis too: what
                    # could not be recorded is resumed (or counted uncertain) on restart.
                    log.info("broadcast engine stopped without redis error=%s", lost)
                else:
                    log.warning("broadcast engine waiting for redis error=%s", lost)
                await self._sleep(IDLE_POLL_SECONDS)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _sleep_while_on(self, over: _Over, seconds: float) -> None:
        """Sleep, cut short once the broadcast needs no more work or the engine stops."""
        # The final report waits for every task of the job: a reclaimer asleep for 5 s held
        # it back that long.
        wakers = [asyncio.ensure_future(event.wait()) for event in (over, self._stopping)]
        try:
            await asyncio.wait(wakers, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waker in wakers:
                waker.cancel()

    async def _work_on(self, broadcast_id: int) -> None:
        broadcast = await self._store.get(broadcast_id)
        if broadcast is None:
            await self._store.forget_active()
            return
        over = _Over()

        async def step(steps: list[Step]) -> list[StepAnswer]:
            return await self._queue.step(broadcast_id, steps, now_ms() + self._recovery_ms)

        method = "sendPhoto" if broadcast.content.photo else "sendMessage"
        compose = await self._digests.composer(broadcast_id) if self._digests else None
        job = _Job(
            broadcast, over, CallBatcher(step), URL(f"{self._api_url}/{method}"),
            message_forms(broadcast.content, self._rows) if compose is None else {}, deque(),
            compose,
        )
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._feed(broadcast_id, over))
                group.create_task(self._reclaim(job))
                group.create_task(self._show_progress(broadcast_id, over))
                group.create_task(self._release_held(broadcast_id, over))
                for _ in range(SENDERS):
                    group.create_task(self._send_loop(job))
        finally:
            # Reported after every task has ended, so nothing can cancel the report half-way,
            # and even if a sender failed after the broadcast ended: nobody else reports it.
            if over.finalized:
                final = await self._store.get(broadcast_id)
                if final is not None:
                    await self._report(final, True)

    def _finished(self, over: _Over) -> bool:
        return over.is_set() or self._stopping.is_set()

    async def _feed(self, broadcast_id: int, over: _Over) -> None:
        """Top up the stream from the subscriber lists, a chunk at a time, until everyone in
        the audience is queued (which the feed itself records)."""
        while not self._finished(over):
            if await self._queue.backlog(broadcast_id) >= FEED_LOW_WATER:
                await self._sleep(0.2)
                continue
            if not await self._queue.feed(broadcast_id, FEED_CHUNK):
                return

    async def _send_loop(self, job: _Job) -> None:
        broadcast_id, over = job.broadcast.broadcast_id, job.over
        # Paced, a sender waits its turn for each message: reading ahead would only leave
        # entries idle long enough for another sender to take them over.
        read_batch = READ_BATCH if not self._rate.limited else 1
        while not self._finished(over):
            if job.taken_over:
                count = min(read_batch, len(job.taken_over))
                await self._deliver_all(job, [job.taken_over.popleft() for _ in range(count)])
                continue
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
        elif current.held and (parked := await self._queue.park(broadcast_id)):
            # Only the held are left, perhaps for hours: the next broadcast need not wait. The
            # organizer sees who waits; the broadcast comes back when a window ends.
            over.set()
            waiting = await self._store.get(broadcast_id)
            if parked == PARKED_NOW and waiting is not None:
                await self._report(waiting, False)

    async def _reclaim(self, job: _Job) -> None:
        """Take over entries a crashed or stopped process had read but not finished."""
        broadcast_id, over = job.broadcast.broadcast_id, job.over
        full = False
        while not self._finished(over):
            # A killed process leaves up to SENDERS x READ_BATCH entries read: a full batch
            # means more wait, taken at once rather than 100 every few seconds (minutes).
            if not full:
                await self._sleep_while_on(over, RECLAIM_EVERY_SECONDS)
            # Taken over only as fast as the senders send: what waits here ages, and after
            # the recovery time another process may take it over too (and be refused).
            while job.taken_over and not self._finished(over):
                await self._sleep_while_on(over, TAKEN_OVER_POLL_SECONDS)
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
            job.taken_over.extend(recipients)

    async def _release_held(self, broadcast_id: int, over: _Over) -> None:
        """Put who was held for quiet hours back into the stream once their window ends; every
        process does, each batch one script, so none is moved twice."""
        while not self._finished(over):
            # First at once: a broadcast resumed for its held finds them queued.
            with contextlib.suppress(*StorageUnavailable):
                await self._queue.release_held(broadcast_id)
            await self._sleep_while_on(over, RELEASE_EVERY_SECONDS)

    async def _show_progress(self, broadcast_id: int, over: _Over) -> None:
        """One process at a time edits the organizer's progress message."""
        while not self._finished(over):
            await self._sleep_while_on(over, PROGRESS_EVERY_SECONDS)
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
        """Send to each in turn until the engine stops: the rest stay queued, never marked.
        Unpaced, each outcome is recorded with the mark of the next send (one round trip per
        message); paced, or paused by a 429, the next turn may be seconds away, so at once."""
        done: tuple[str, Outcome] | None = None
        for recipient in recipients:
            if self._finished(job.over):
                break
            done = await self._deliver(job, done, recipient)
            if done is not None and (self._rate.limited or self._poster.paused()):
                await self._step(job, Step(done, None))
                done = None
        if done is not None:
            await self._step(job, Step(done, None))

    async def _deliver(
        self, job: _Job, done: tuple[str, Outcome] | None, recipient: Recipient
    ) -> tuple[str, Outcome] | None:
        """Send one message; returns the outcome left to record (`done`, still unrecorded, if
        the engine stopped first). A mark exists only while the message is on the wire: the
        turn's slot is reserved first, the mark (recording `done`) comes in the moments before
        it and the POST at it, and a send that must wait again gives its mark back first."""
        parts = await self._parts(job, recipient)
        if not parts:
            return done
        tries = Tries(recipient.chat_id)
        while True:
            turn = await self._turn()
            if turn is None:
                return done
            try:
                answer = await self._step(
                    job, Step(done, recipient.entry_id, next_chat=recipient.chat_id)
                )
                done = None
                if answer.claim is Claim.ABANDONED:
                    self._metrics.broadcast_messages.labels(Outcome.UNCERTAIN.value).inc()
                if answer.claim is not Claim.SEND:
                    return None
                if not await turn.go():
                    # The slot is lost (a 429, or a stall past it with the next one taken):
                    # the mark is not held through the wait for another.
                    await self._step(job, Step(None, None, release=recipient.entry_id))
                    continue
            finally:
                turn.settle()
            result = await self._poster.post(*parts[0], recipient.locale, tries)
            if isinstance(result, Outcome):
                if result is Outcome.SENT:
                    await self._post_rest(parts[1:], recipient, tries)
                return recipient.entry_id, result
            # Refused (429, migrated chat) or failed as a retry is made for (5xx, connection):
            # nothing is on the wire while the send waits for its next turn.
            await self._step(job, Step(None, None, release=recipient.entry_id))
            if result:
                await self._sleep(result)

    async def _parts(self, job: _Job, recipient: Recipient) -> list[tuple[URL, bytes]]:
        """The calls that deliver the message to `recipient`: one, but for a digest, which
        may be cut in several or have nothing new for them (none: dropped unsent)."""
        if job.compose is None:
            return [(job.endpoint, job.forms[recipient.locale])]
        composed = await job.compose(recipient) or []
        return [(URL(f"{self._api_url}/{method}"), form) for method, form in composed]

    async def _post_rest(
        self, parts: list[tuple[URL, bytes]], recipient: Recipient, tries: Tries
    ) -> None:
        """A digest's later parts, each at a send turn of its own; the mark stays held, since
        the first part arrived: a crash meanwhile counts it uncertain, never sends it again."""
        for endpoint, form in parts:
            while True:
                turn = await self._turn()
                if turn is None:
                    return
                try:
                    if not await turn.go():
                        continue
                finally:
                    turn.settle()
                result = await self._poster.post(endpoint, form, recipient.locale, tries)
                if isinstance(result, Outcome):
                    break
                if result:
                    await self._sleep(result)

    async def _turn(self) -> Turn | None:
        """The next send turn; None once the engine stops, even while waiting for it."""
        task = asyncio.current_task()
        if self._stopping.is_set() or task is None:
            return None
        self._awaiting_turn.add(task)
        try:
            return await self._rate.reserve()
        except asyncio.CancelledError:
            if not self._stopping.is_set():
                raise
            # Cancelled by stop(): this sender holds no mark and simply ends.
            task.uncancel()
            return None
        finally:
            self._awaiting_turn.discard(task)

    async def _step(self, job: _Job, step: Step) -> StepAnswer:
        answer = await job.step(step)
        if answer.counted and step.done is not None:
            self._metrics.broadcast_messages.labels(step.done[1].value).inc()
        return answer


def _storage_errors(error: Exception) -> tuple[str, BaseException | None]:
    """The type of a Redis outage's first error, and what else went wrong (None: nothing).
    The senders run in a task group, so their errors arrive grouped."""
    lost: BaseException | None
    other: BaseException | None
    if isinstance(error, ExceptionGroup):
        lost, other = error.split(StorageUnavailable)
    elif isinstance(error, StorageUnavailable):
        lost, other = error, None
    else:
        return "", error
    first: BaseException | None = lost
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    return type(first).__name__, other

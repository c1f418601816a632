"""The outbox's notices (thank-yous, failed payments, ended gifts) on their way to donors.

A notice is written to Redis by the same script that records the gift it is about, so none is
lost. The courier delivers them off PTB's update queue and on the send schedule broadcasts use:
Telegram's limit counts every message the bot sends, and a burst of gifts (the campaign on the
radio) must neither trip it nor keep supporters' own commands waiting behind a thousand
thank-yous. A notice leaves the outbox once sent, or once it can never be sent.

A notice is claimed only once its send turn is granted, and the claim is renewed while the send
is under way: a process killed while waiting for a turn holds nothing, and one killed mid-send
frees the notice within BROADCAST_RECOVERY_SECONDS (claim lapse plus the next sweep).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from redis.exceptions import RedisError
from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.botapi.flood_control import Lane
from bot.botapi.send_rate import SendRate, Turn
from bot.donations.outbox import Notice, Outbox

log = logging.getLogger(__name__)

# Deliveries in flight at once: enough to keep up with Telegram's 30/s over its latency.
COURIERS = 8
# The outbox is read whole at least this often, for notices a restart or a failed send left
# behind; and twice per recovery time, for those a crashed process had claimed.
SWEEP_SECONDS = 60.0
DEFAULT_RECOVERY_SECONDS = 15
# How long stop() lets deliveries in flight finish, so none is cut between send and record.
STOP_GRACE_SECONDS = 5.0

Compose = Callable[[Notice], tuple[str, InlineKeyboardMarkup | None]]


class NoticeCourier:
    """Delivers queued notices in order, at the shared send rate, in every bot process."""

    def __init__(
        self, outbox: Outbox, rate: SendRate, recovery_seconds: int = DEFAULT_RECOVERY_SECONDS
    ) -> None:
        self._outbox = outbox
        self._rate = rate
        # Half the recovery time to lapse, half for the next sweep to find the notice again.
        self._claim_ms = recovery_seconds * 1000 // 2
        self._sweep_seconds = min(SWEEP_SECONDS, recovery_seconds / 2)
        self._owner = uuid.uuid4().hex
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        # A cancellation meeting Redis going away can come out as a redis error, which the
        # loops outlive (seen after a restart of Redis mid-run): they also check this flag.
        self._stopping = False
        self._in_flight: set[asyncio.Task[bool]] = set()
        self._bot: ExtBot[Any] | None = None
        self._compose: Compose | None = None

    def deliver_soon(self, notice_ids: Iterable[str]) -> None:
        """Queue notices just recorded (or found in the outbox); each is queued once, and not
        again while a courier of this process has it in hand."""
        for notice_id in notice_ids:
            if notice_id not in self._queued:
                self._queued.add(notice_id)
                self._queue.put_nowait(notice_id)

    async def queue(self, notice: Notice) -> bool:
        """Queue a notice not owed by a Stripe event (see Outbox.queue: once per id, whichever
        process asks), and deliver it soon; True if it was queued now."""
        queued = await self._outbox.queue(notice)
        if queued:
            self.deliver_soon([notice.notice_id])
        return queued

    def start(self, bot: ExtBot[Any], compose: Compose) -> None:
        """Start delivering; `compose` writes a notice's text and buttons."""
        self._bot, self._compose = bot, compose
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._deliver_queued(), name=f"notice-courier-{n}")
            for n in range(COURIERS)
        ]
        self._tasks.append(asyncio.create_task(self._sweep(), name="notice-sweep"))

    async def stop(self) -> None:
        """Let deliveries in flight finish (within a grace period); the rest wait in Redis."""
        self._stopping = True
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=STOP_GRACE_SECONDS)

    async def _sweep(self) -> None:
        delay = 1.0
        while not self._stopping:
            await asyncio.sleep(delay)
            delay = self._sweep_seconds
            try:
                # Ids only: after a burst of gifts thousands wait, each read when its turn comes.
                owed = await self._outbox.owed_ids()
            except RedisError as exc:
                log.warning("notice outbox unreadable error=%s", type(exc).__name__)
                continue
            self.deliver_soon(owed)

    async def _deliver_queued(self) -> None:
        while not self._stopping:
            notice_id = await self._queue.get()
            try:
                again = await self._deliver_next(notice_id)
            finally:
                # Until here a sweep does not queue it a second time in this process.
                self._queued.discard(notice_id)
            if again:
                self.deliver_soon([notice_id])

    async def _deliver_next(self, notice_id: str) -> bool:
        """Deliver one notice once its turn comes; True if it should go back in line."""
        if self._compose is None:
            raise RuntimeError("NoticeCourier is not started")
        try:
            # Cancelled by stop() while waiting: nothing is claimed yet, the notice waits in
            # the outbox for the next sweep, here or in another process.
            notice = await self._outbox.unclaimed(notice_id)
            if notice is None:
                return False
            # Written before the turn: between the reservation and the send, only the claim.
            text, markup = self._compose(notice)
            turn = await self._rate.reserve()
        except RedisError as exc:
            log.warning("notice delivery waits for redis error=%s", type(exc).__name__)
            return False
        delivery = asyncio.create_task(self._deliver(notice, text, markup, turn))
        self._in_flight.add(delivery)
        delivery.add_done_callback(self._in_flight.discard)
        try:
            # Shielded: cancelled by stop(), a delivery already started still completes.
            return await asyncio.shield(delivery)
        except RedisError as exc:
            log.warning("notice delivery waits for redis error=%s", type(exc).__name__)
        except Exception:
            log.exception("notice delivery failed id=%s", notice_id)
        return False

    async def _deliver(
        self, notice: Notice, text: str, markup: InlineKeyboardMarkup | None, turn: Turn
    ) -> bool:
        notice_id = notice.notice_id
        try:
            if not await self._outbox.claim_owed(notice_id, self._owner, self._claim_ms):
                return False
            if not await turn.go():
                # The slot is lost (a 429, or a stall past it with the next one taken):
                # waiting for another turn would hold the claim. Back in line instead.
                await self._outbox.release(notice_id, self._owner)
                return True
        finally:
            turn.settle()
        finished = asyncio.Event()
        keeper = asyncio.create_task(self._keep_claim(notice_id, finished))
        try:
            return await self._send(notice, text, markup)
        finally:
            finished.set()
            keeper.cancel()

    async def _keep_claim(self, notice_id: str, finished: asyncio.Event) -> None:
        # A send may wait out Telegram's pauses and retries far longer than the claim lives.
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), self._claim_ms / 3000)
            if finished.is_set():
                return
            try:
                if not await self._outbox.renew(notice_id, self._owner, self._claim_ms):
                    log.warning("notice claim lapsed id=%s", notice_id)
                    return
            except RedisError as exc:
                log.warning("notice claim not renewed error=%s", type(exc).__name__)

    async def _send(self, notice: Notice, text: str, markup: InlineKeyboardMarkup | None) -> bool:
        if self._bot is None:
            raise RuntimeError("NoticeCourier is not started")
        notice_id = notice.notice_id
        try:
            await self._bot.send_message(
                notice.chat_id, text, reply_markup=markup, rate_limit_args=Lane.SCHEDULED
            )
        except RetryAfter:
            # Telegram's pause outlasted the retries; it holds every sender. Back in line.
            await self._outbox.release(notice_id, self._owner)
            return True
        except (Forbidden, BadRequest) as exc:
            # Blocked the bot or chat gone: retrying would never succeed.
            log.warning("notice undeliverable id=%s error=%s", notice_id, type(exc).__name__)
        except TelegramError as exc:
            log.warning("notice delivery deferred id=%s error=%s", notice_id, type(exc).__name__)
            await self._outbox.release(notice_id, self._owner)
            return False
        await self._outbox.done(notice_id)
        return False

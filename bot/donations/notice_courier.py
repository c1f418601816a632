"""The outbox's notices (thank-yous, failed payments, ended gifts) on their way to donors.

A notice is written to Redis by the same script that records the gift it is about, so none is
lost. The courier delivers them off PTB's update queue and on the send schedule broadcasts use:
Telegram's limit counts every message the bot sends, and a burst of gifts (the campaign on the
radio) must neither trip it nor keep supporters' own commands waiting behind a thousand
thank-yous. A notice leaves the outbox once sent, or once it can never be sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from redis.exceptions import RedisError
from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.botapi.send_rate import SendRate, retry_after_seconds
from bot.donations.outbox import Notice, Outbox

log = logging.getLogger(__name__)

# Deliveries in flight at once: enough to keep up with Telegram's 30/s over its latency.
COURIERS = 8
# The outbox is read whole this often, for notices a restart or a failed send left behind.
SWEEP_SECONDS = 60.0
# How long stop() lets deliveries in flight finish, so none is cut between send and record.
STOP_GRACE_SECONDS = 5.0

Compose = Callable[[Notice], tuple[str, InlineKeyboardMarkup | None]]


class NoticeCourier:
    """Delivers queued notices in order, at the shared send rate, in every bot process."""

    def __init__(self, outbox: Outbox, rate: SendRate) -> None:
        self._outbox = outbox
        self._rate = rate
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._in_flight: set[asyncio.Task[None]] = set()
        self._bot: ExtBot[None] | None = None
        self._compose: Compose | None = None

    def deliver_soon(self, notice_ids: Iterable[str]) -> None:
        """Queue notices just recorded (or found in the outbox); each is queued once."""
        for notice_id in notice_ids:
            if notice_id not in self._queued:
                self._queued.add(notice_id)
                self._queue.put_nowait(notice_id)

    def start(self, bot: ExtBot[None], compose: Compose) -> None:
        """Start delivering; `compose` writes a notice's text and buttons."""
        self._bot, self._compose = bot, compose
        self._tasks = [
            asyncio.create_task(self._deliver_queued(), name=f"notice-courier-{n}")
            for n in range(COURIERS)
        ]
        self._tasks.append(asyncio.create_task(self._sweep(), name="notice-sweep"))

    async def stop(self) -> None:
        """Let deliveries in flight finish (within a grace period); the rest wait in Redis."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=STOP_GRACE_SECONDS)

    async def _sweep(self) -> None:
        delay = 1.0
        while True:
            await asyncio.sleep(delay)
            delay = SWEEP_SECONDS
            try:
                pending = await self._outbox.pending()
            except RedisError as exc:
                log.warning("notice outbox unreadable error=%s", type(exc).__name__)
                continue
            self.deliver_soon(notice.notice_id for notice in pending)

    async def _deliver_queued(self) -> None:
        while True:
            notice_id = await self._queue.get()
            self._queued.discard(notice_id)
            delivery = asyncio.create_task(self._deliver(notice_id))
            self._in_flight.add(delivery)
            delivery.add_done_callback(self._in_flight.discard)
            try:
                # Shielded: cancelled by stop(), a delivery already started still completes.
                await asyncio.shield(delivery)
            except RedisError as exc:
                log.warning("notice delivery waits for redis error=%s", type(exc).__name__)
            except Exception:
                log.exception("notice delivery failed id=%s", notice_id)

    async def _deliver(self, notice_id: str) -> None:
        if self._bot is None or self._compose is None:
            raise RuntimeError("NoticeCourier is not started")
        if not await self._outbox.claim(notice_id):
            return
        notice = await self._outbox.get(notice_id)
        if notice is None:
            await self._outbox.release(notice_id)
            return
        text, markup = self._compose(notice)
        await self._rate.wait_turn()
        try:
            await self._bot.send_message(notice.chat_id, text, reply_markup=markup)
        except RetryAfter as exc:
            # Every sender in every process waits; this notice goes back in line.
            await self._rate.pause_all(retry_after_seconds(exc))
            await self._outbox.release(notice_id)
            self.deliver_soon([notice_id])
            return
        except (Forbidden, BadRequest) as exc:
            # Blocked the bot or chat gone: retrying would never succeed.
            log.warning("notice undeliverable id=%s error=%s", notice_id, type(exc).__name__)
        except TelegramError as exc:
            log.warning("notice delivery deferred id=%s error=%s", notice_id, type(exc).__name__)
            await self._outbox.release(notice_id)
            return
        await self._outbox.done(notice_id)


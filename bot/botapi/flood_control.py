"""The one way out for the application bot's Bot API calls: Telegram's 429, per-chat pace, retries.

PTB hands every call of the application's bot (replies, photos, documents, edits, callback
answers, menus, reports, notices; never getUpdates) to `FloodControl.process_request`. A 429
pauses every sender of every process through the shared schedule (bot/botapi/send_rate.py),
then the call is made again, uploads included: PTB rebuilds the request from the same
`InputFile`s, whose content is bytes read once. Broadcasts post their sends on their own pool
and obey the same pause through the same schedule.

An answer to someone never queues behind a broadcast: it takes the schedule's next slot away
from the paced senders and goes at once (`SendRate.charge_answer`). Notices have waited their
turn on the schedule already and say so with `rate_limit_args=Lane.SCHEDULED`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

from bot.botapi.send_rate import SendRate, retry_after_seconds
from bot.storage.connection import StorageUnavailable

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
Answer = bool | JSONDict | list[JSONDict]

# After a 429 the call is made again this many times at most, and never once the pauses it met
# add up to more than MAX_FLOOD_WAIT_SECONDS: a longer retry_after (Telegram's answer to spam)
# is not waited out inside one update.
FLOOD_RETRIES = 3
MAX_FLOOD_WAIT_SECONDS = 30.0
# 5xx answers and failed connections: retried after 0.5 s, then 1 s.
NETWORK_RETRIES = 2
NETWORK_BACKOFF_SECONDS = 0.5

# Telegram's per-chat limits: about one message a second in a private chat, twenty a minute in
# a group. Five may go at once, so /start's photo and the menus that follow do not crawl (and
# a test acting faster than any person does not either); after that, one per interval. In a
# group, 5 at once and one every 4 s still make at most 20 in any minute.
# TELEGRAM_CHAT_PACE_SECONDS sets the private interval (the group's scales with it); tests
# that are not about the pace set it to 0.
CHAT_BURST = 5
PRIVATE_CHAT_INTERVAL = 1.0
GROUP_CHAT_INTERVAL = 60 / (20 - CHAT_BURST)
# The pace of chats idle for a whole interval is forgotten this often (in reservations).
PRUNE_EVERY = 1_000

# Calls that put a message in a chat or change one: the ones Telegram's limits count.
_MESSAGE_PREFIXES = ("send", "edit", "copy", "forward")
_NOT_MESSAGES = frozenset({"sendChatAction"})


class Lane(StrEnum):
    """A call's `rate_limit_args`: how it shares Telegram's budget with the paced senders."""

    # The default: answers take the schedule's next slot and go at once.
    ANSWER = "answer"
    # The caller already waited for a slot of the schedule (notices): no second one.
    SCHEDULED = "scheduled"


def counts_as_message(endpoint: str) -> bool:
    """Whether Telegram's message limits count this Bot API method."""
    return endpoint.startswith(_MESSAGE_PREFIXES) and endpoint not in _NOT_MESSAGES


class ChatPace:
    """Telegram's per-chat limits, for this process (GCRA, in memory).

    A chat's answers come from the process handling its updates, so they need no Redis; a
    broadcast reaches a chat once, on its own schedule.
    """

    def __init__(self, private_interval: float = PRIVATE_CHAT_INTERVAL) -> None:
        self._private = private_interval
        self._group = private_interval * GROUP_CHAT_INTERVAL / PRIVATE_CHAT_INTERVAL
        # Per chat: when its next message is due if none were allowed early (loop clock).
        self._due: dict[int | str, float] = {}
        self._reserved = 0

    def reserve(self, chat_id: int | str, now: float) -> float:
        """Take the chat's next turn; returns how long to wait for it (0 within the burst)."""
        # Users' ids are positive; groups' and channels' negative, or an @username.
        private = isinstance(chat_id, int) and chat_id > 0
        interval = self._private if private else self._group
        due = max(self._due.get(chat_id, now), now)
        self._due[chat_id] = due + interval
        self._reserved += 1
        if self._reserved % PRUNE_EVERY == 0:
            self._due = {chat: at for chat, at in self._due.items() if at > now}
        return max(0.0, due - (CHAT_BURST - 1) * interval - now)


class FloodControl(BaseRateLimiter[Lane]):
    """PTB's rate limiter hook, sharing Telegram's budget and pause with every bot process."""

    def __init__(
        self, send_rate: Callable[[], SendRate], chat_interval: float = PRIVATE_CHAT_INTERVAL
    ) -> None:
        # Looked up at each call: the schedule is built with the services, after the bot.
        self._send_rate = send_rate
        self._pace = ChatPace(chat_interval)

    async def initialize(self) -> None:
        """Nothing to open: the schedule's Redis client belongs to the services."""

    async def shutdown(self) -> None:
        """Charge the answers not charged yet, before the Redis client closes."""
        await self._send_rate().aclose()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Lane | None,
    ) -> Answer:
        """Call the Bot API once the chat's pace and any 429 pause allow, retrying as it may."""
        rate = self._send_rate()
        message = counts_as_message(endpoint)
        chat_id = data.get("chat_id") if message else None
        if isinstance(chat_id, int | str):
            delay = self._pace.reserve(chat_id, asyncio.get_running_loop().time())
            if delay:
                await asyncio.sleep(delay)
        answer = rate_limit_args is not Lane.SCHEDULED
        floods = failures = 0
        flood_wait = 0.0
        while True:
            if not answer and floods:
                # A notice sent again after a pause takes a turn of its own, like a broadcast.
                await rate.wait_turn()
            else:
                await rate.wait_unpaused(through_outage=True)
            if message and answer:
                rate.charge_answer()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                floods += 1
                flood_wait += seconds
                await _pause_everyone(rate, seconds)
                if floods > FLOOD_RETRIES or flood_wait > MAX_FLOOD_WAIT_SECONDS:
                    raise
                log.info(
                    "telegram flood pause endpoint=%s retry_after=%s attempt=%s",
                    endpoint, seconds, floods,
                )
            except (BadRequest, TimedOut):
                # Refused for good, or maybe delivered: a timed-out call may have reached
                # Telegram, and sending it again could show the person the message twice.
                raise
            except NetworkError as exc:
                # A 5xx answer (Telegram did not act on the call) or a failed connection. A
                # connection lost while the answer was on its way is retried too: PTB's error
                # does not tell it apart, and it is far rarer than a refused connection.
                failures += 1
                if failures > NETWORK_RETRIES:
                    raise
                log.info(
                    "telegram call retried endpoint=%s error=%s attempt=%s",
                    endpoint, type(exc).__name__, failures,
                )
                await asyncio.sleep(NETWORK_BACKOFF_SECONDS * 2 ** (failures - 1))


async def _pause_everyone(rate: SendRate, seconds: float) -> None:
    try:
        await rate.pause_all(seconds)
    except StorageUnavailable as exc:
        # This process pauses all the same; the others meet their own 429.
        log.warning("flood pause not shared error=%s", type(exc).__name__)

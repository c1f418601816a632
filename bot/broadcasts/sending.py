"""One broadcast message over HTTP: the request, and what each of Telegram's answers means."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
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

from bot.botapi.send_rate import SendRate, retry_after_seconds
from bot.botapi.transport import BotApiRequest
from bot.broadcasts.store import BroadcastContent, Outcome
from bot.broadcasts.subscribers import Subscribers
from bot.i18n import SUPPORTED_LOCALES

log = logging.getLogger(__name__)

NETWORK_RETRIES = 3


@dataclass
class Tries:
    """One recipient's attempts: the chat (a migrated group moves) and the network failures."""

    chat_id: int
    failures: int = 0
    migrated: bool = False


class MessagePoster:
    """Posts a broadcast's message to one chat; every 429 pauses every sender."""

    def __init__(
        self, request: BotApiRequest, subscribers: Subscribers, rate: SendRate
    ) -> None:
        # Posts straight to the Bot API; its owner opens and closes it.
        self._request = request
        self._subscribers = subscribers
        self._rate = rate
        # Until when (event loop clock) a 429 this process received pauses every send.
        self._paused_until = 0.0

    def paused(self) -> bool:
        """A 429 seen here still holds: the next send turn is at least that far away."""
        return asyncio.get_running_loop().time() < self._paused_until

    async def post(
        self, endpoint: URL, form: bytes, locale: str, tries: Tries
    ) -> Outcome | float:
        """One request: its outcome, or the seconds to wait before the next try (0: at once)."""
        chat_id = tries.chat_id
        try:
            await self._request.post_form(endpoint, b"chat_id=%d&%b" % (chat_id, form))
            return Outcome.SENT
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            loop = asyncio.get_running_loop()
            self._paused_until = max(self._paused_until, loop.time() + wait)
            await self._rate.pause_all(wait)
            # The next turn waits the pause out.
            return 0.0
        except Forbidden:
            await self._subscribers.mark_blocked(chat_id)
            return Outcome.BLOCKED
        except ChatMigrated as exc:
            if tries.migrated:
                return Outcome.FAILED
            tries.migrated = True
            await self._subscribers.migrate(chat_id, exc.new_chat_id, locale)
            tries.chat_id = exc.new_chat_id
            return 0.0
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
            tries.failures += 1
            if tries.failures > NETWORK_RETRIES:
                log.warning("broadcast send failed chat_id=%s error=%s", chat_id,
                            type(exc).__name__)
                return Outcome.FAILED
            return float(2 ** (tries.failures - 1))
        except TelegramError as exc:
            log.warning("broadcast send failed chat_id=%s error=%s", chat_id,
                        type(exc).__name__)
            return Outcome.FAILED


def message_forms(content: BroadcastContent, rows: Mapping[str, str]) -> dict[str, bytes]:
    """Per locale, the URL-encoded form of the message, all but its chat_id; `rows` is each
    locale's button row (bot/broadcasts/preference_row.py)."""
    forms = {}
    for locale in SUPPORTED_LOCALES:
        text = content.text_for(locale)
        fields = (
            {"photo": content.photo, "caption": text} if content.photo else {"text": text}
        )
        forms[locale] = urlencode(
            {**fields, "parse_mode": "HTML", "reply_markup": rows[locale]}
        ).encode()
    return forms

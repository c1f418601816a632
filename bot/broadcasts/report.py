"""The organizer's view of a broadcast: one message edited as it goes, then the final report."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot.botapi.callback_data import CallbackFormat
from bot.broadcasts.store import Broadcast, now_ms
from bot.i18n import Localizer

log = logging.getLogger(__name__)

# The Stop button on the progress message (handled in handlers/broadcast_confirm).
STOP = CallbackFormat("bc:stop", broadcast="[0-9]{1,9}")
# Telegram's refusals of an edit that no retry can ever make succeed (lowercase).
_NEVER_EDITABLE = (
    "message to edit not found", "message can't be edited", "message_id_invalid",
    "there is no text in the message to edit",
)


class BroadcastReporter:
    """Edits the progress message; the engine calls it every few seconds and once at the end."""

    def __init__(self, bot: ExtBot[None], l10n: Localizer, configured_rate: float) -> None:
        self._bot = bot
        self._l10n = l10n
        self._rate = configured_rate

    def _eta_seconds(self, broadcast: Broadcast) -> int:
        rate = self._rate
        if not rate:
            elapsed = max(1, now_ms() - broadcast.started_at) / 1000
            rate = max(1.0, broadcast.handled / elapsed)
        # Who is held for quiet hours goes out when their window ends, not at this pace.
        return int(max(0, broadcast.remaining - broadcast.held) / rate + 0.999)

    async def __call__(self, broadcast: Broadcast, final: bool) -> None:
        if not broadcast.progress_chat:
            # A digest run (bot/broadcasts/digests.py): no organizer follows it.
            return
        locale = broadcast.admin_locale
        counts = {
            "id": broadcast.broadcast_id, "total": broadcast.total,
            "remaining": broadcast.remaining, **broadcast.counts,
        }
        markup = None
        if final:
            text = self._l10n.format(
                locale, "broadcast-report", status=broadcast.status.value, **counts
            )
        else:
            text = self._l10n.format(
                locale, "broadcast-progress", eta=self._eta_seconds(broadcast), **counts
            )
            if broadcast.held:
                # Counted apart until their quiet hours end, then as sent, failed or blocked.
                text += "\n" + self._l10n.format(locale, "quiet-held", count=broadcast.held)
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(
                self._l10n.format(locale, "broadcast-button-stop"),
                callback_data=STOP.data(broadcast=broadcast.broadcast_id),
            )]])
        if broadcast.in_digests:
            # Neither sent nor left to send: their digest (bot/broadcasts/queue.py) carries it.
            text += "\n" + self._l10n.format(
                locale, "settings-report-digests", count=broadcast.in_digests
            )
        try:
            await self._bot.edit_message_text(
                text, broadcast.progress_chat, broadcast.progress_message, reply_markup=markup
            )
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return
            if final and _can_never_be_edited(exc):
                # The progress message is gone: the report must still reach the organizer.
                await self._send_report(broadcast.progress_chat, text)
                return
            log.warning("progress update refused broadcast=%s final=%s error=%s",
                        broadcast.broadcast_id, final, exc.message)
        except TelegramError as exc:
            # 429s and network errors were already retried by the bot's outgoing path; a
            # second message now would go out into the same flood, or duplicate the edit.
            log.warning("progress update failed broadcast=%s final=%s error=%s",
                        broadcast.broadcast_id, final, type(exc).__name__)

    async def _send_report(self, chat_id: int, text: str) -> None:
        try:
            await self._bot.send_message(chat_id, text)
        except TelegramError as exc:
            log.error("broadcast report undeliverable error=%s", type(exc).__name__)


def _can_never_be_edited(error: BadRequest) -> bool:
    description = error.message.lower()
    return any(reason in description for reason in _NEVER_EDITABLE)

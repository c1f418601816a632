"""The one error handler: log with context (never secrets or message text), apologise politely."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import RetryAfter, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.botapi.send_rate import retry_after_seconds
from bot.context import CampaignContext
from bot.i18n import resolve_locale
from bot.storage.connection import StorageUnavailable

log = logging.getLogger(__name__)


async def on_error(update: object, context: CampaignContext) -> None:
    """Log the failure by update id and error type, and tell the user in their language."""
    error = context.error
    if isinstance(error, RetryAfter):
        # Telegram's flood limit outlasted the bot's retries (bot/botapi/flood_control.py): not
        # a bug, and an apology now would only meet the same limit.
        log.warning(
            "telegram flood limit update_id=%s retry_after=%s",
            update.update_id if isinstance(update, Update) else None,
            retry_after_seconds(error),
        )
        if isinstance(update, Update):
            raise ApplicationHandlerStop
        return
    if not isinstance(update, Update):
        log.error("background error error=%s", type(error).__name__, exc_info=error)
        return
    user = update.effective_user
    unavailable = isinstance(error, StorageUnavailable)
    if unavailable:
        # An outage, not a bug: one line per update, no traceback flooding the log.
        log.warning(
            "redis unavailable update_id=%s error=%s", update.update_id, type(error).__name__
        )
    else:
        log.error(
            "handler failed update_id=%s user_id=%s error=%s",
            update.update_id, user.id if user else None, type(error).__name__,
            exc_info=error,
        )
    chat = update.effective_chat
    if chat is not None and chat.type == "private":
        await _apologise(update, context, unavailable)
    # One failure ends the update: later handler groups would fail the same way and apologise
    # a second time.
    raise ApplicationHandlerStop


async def _apologise(update: Update, context: CampaignContext, unavailable: bool) -> None:
    user = update.effective_user
    chat = update.effective_chat
    if chat is None:
        return
    # Redis may be the thing that failed, so the stored language cannot be read: guess it.
    locale = resolve_locale(user.language_code if user else None)
    message_id = "common-unavailable" if unavailable else "common-error"
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(context.text(locale, message_id), show_alert=True)
        else:
            await context.bot.send_message(chat.id, context.text(locale, message_id))
    except TelegramError as exc:
        log.warning(
            "could not apologise update_id=%s error=%s", update.update_id, type(exc).__name__
        )

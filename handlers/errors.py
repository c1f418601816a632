"""The one error handler: log with context (never secrets or message text), apologise politely."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.context import CampaignContext
from bot.i18n import resolve_locale
from bot.storage.connection import StorageUnavailable

log = logging.getLogger(__name__)


async def on_error(update: object, context: CampaignContext) -> None:
    """Log the failure by update id and error type, and tell the user in their language."""
    error = context.error
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

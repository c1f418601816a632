"""Exports hold personal data (donors' names, addresses, Stripe ids): they go to the organizer's
own chat only, whichever chat the command was typed in."""

from __future__ import annotations

from telegram import InputFile, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden

from bot.context import CampaignContext


async def send_to_organizer(
    update: Update, context: CampaignContext, locale: str, document: InputFile, caption: str
) -> None:
    """The document in the organizer's private chat; a group it was asked for in is told only
    where it went, or that the organizer must open a private chat with the bot first."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    if chat.type == ChatType.PRIVATE:
        await context.bot.send_document(user.id, document, caption=caption)
        return
    try:
        await context.bot.send_document(user.id, document, caption=caption)
    except (Forbidden, BadRequest):
        # Never started, or blocked: Telegram lets no bot write first.
        await context.bot.send_message(chat.id, context.text(locale, "export-private-first"))
        return
    await context.bot.send_message(chat.id, context.text(locale, "export-sent-privately"))

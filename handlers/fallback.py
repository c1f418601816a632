"""Whatever no feature claimed: a short localised hint, never silence, never a traceback."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.context import CampaignApplication, CampaignContext


async def unknown_command(update: Update, context: CampaignContext) -> None:
    """An unknown command gets a pointer to /help."""
    await context.reply(update, "common-unknown-command")


async def free_text(update: Update, context: CampaignContext) -> None:
    """Free text or media in a private chat gets a pointer to /help and /donate."""
    await context.reply(update, "common-free-text")


async def expired_button(update: Update, context: CampaignContext) -> None:
    """Callback data the bot does not know (old, foreign or tampered with)."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    await query.answer(context.text(locale, "common-button-expired"), show_alert=True)


def register(application: CampaignApplication) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    application.add_handler(
        MessageHandler(private & ~filters.COMMAND & ~filters.StatusUpdate.ALL, free_text)
    )
    application.add_handler(CallbackQueryHandler(expired_button))

"""Whatever no feature claimed: a short localised hint, never silence, never a traceback."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

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
    # A command the bot has but whose access filter refused the sender (handlers/access) is
    # answered as unknown, in the beneficiaries' groups too, where commands the bot lacks are
    # left for other bots; any other sender was claimed by the command's own handler above.
    known = {
        command
        for handler in application.handlers.get(0, [])
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }
    if known:
        application.add_handler(CommandHandler(known, unknown_command))
    application.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    application.add_handler(
        MessageHandler(private & ~filters.COMMAND & ~filters.StatusUpdate.ALL, free_text)
    )
    application.add_handler(CallbackQueryHandler(expired_button))

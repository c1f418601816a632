"""/help: what the bot can do, in the user's language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import CampaignApplication, CampaignContext
from bot.reports.receipts import tax_receipt_line


async def show_help(update: Update, context: CampaignContext) -> None:
    """List the commands with one line each, then whether gifts give a tax receipt."""
    chat = update.effective_chat
    if chat is None:
        return
    locale = await context.locale_for(update)
    issuer = context.settings.campaign.receipt_issuer
    text = context.text(locale, "help-text")
    await context.bot.send_message(
        chat.id, f"{text}\n\n{tax_receipt_line(context.l10n, issuer, locale)}"
    )


def register(application: CampaignApplication) -> None:
    application.add_handler(CommandHandler("help", show_help))

"""/help: what the bot can do, in the user's language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import CampaignApplication, CampaignContext


async def show_help(update: Update, context: CampaignContext) -> None:
    """List the commands with one line each."""
    await context.reply(update, "help-text")


def register(application: CampaignApplication) -> None:
    application.add_handler(CommandHandler("help", show_help))

"""The one ordered registry of every handler the bot has."""

from __future__ import annotations

from bot.context import CampaignApplication
from handlers import errors, fallback, help, language, start, story


def register_handlers(application: CampaignApplication) -> None:
    """Register every feature's handlers; order matters where noted."""
    start.register(application)
    story.register(application)
    language.register(application)
    help.register(application)
    # Last: catches commands, text and buttons no feature above claimed.
    fallback.register(application)
    application.add_error_handler(errors.on_error)

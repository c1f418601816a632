"""The one ordered registry of every handler the bot has.

A module of its own, not the package's __init__: each feature imports its siblings through the
package, which must not import every feature back.
"""

from __future__ import annotations

from bot.config import Settings
from bot.context import CampaignApplication
from handlers import (
    allocate,
    beneficiary,
    broadcast_compose,
    callbacks,
    close,
    digests,
    donate,
    errors,
    fallback,
    forget,
    gate,
    help,
    insight,
    language,
    monthly,
    monthly_change,
    monthly_end,
    monthly_pause,
    mygift,
    needs,
    progress,
    receipts,
    reconcile,
    share,
    spending,
    spent,
    start,
    story,
    subscriptions,
    thanks,
    typed_input,
    updates_archive,
)

# `settings` below is the bot's configuration.
from handlers import settings as subscriber_settings


def register_handlers(application: CampaignApplication, settings: Settings) -> None:
    """Register every feature's handlers; order matters where noted."""
    # Group -10: which chats the bot answers, edited messages, the per-user rate limit.
    gate.register(application)
    # Group -5: a button with no data, which PTB would give to the first button handler.
    callbacks.register(application)
    # Group -1: text the bot asked for must not be taken for free text.
    typed_input.register(application)
    start.register(application)
    story.register(application)
    language.register(application)
    donate.register(application)
    monthly.register(application)
    monthly_change.register(application)
    monthly_pause.register(application)
    mygift.register(application)
    receipts.register(application)
    needs.register(application)
    thanks.register(application)
    progress.register(application)
    subscriptions.register(application)
    subscriber_settings.register(application)
    share.register(application)
    updates_archive.register(application, settings)
    spending.register(application, settings)
    # Organizers only (and /stats for beneficiaries too): declared in handlers/access.
    broadcast_compose.register(application, settings)
    close.register(application, settings)
    insight.register(application, settings)
    allocate.register(application, settings)
    spent.register(application, settings)
    forget.register(application)
    beneficiary.register(application)
    digests.register(application)
    reconcile.register(application)
    monthly_end.register(application)
    help.register(application)
    # Last: catches commands, text and buttons no feature above claimed.
    fallback.register(application)
    application.add_error_handler(errors.on_error)

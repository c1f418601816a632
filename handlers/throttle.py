"""Before anything else: a person sending more than 20 messages or taps a minute is paused."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.context import CampaignApplication, CampaignContext
from bot.rate_limit import UserRateLimit

# Runs before every other group, so a flood costs one Redis call per update and nothing more.
THROTTLE_GROUP = -10


async def throttle(update: Update, context: CampaignContext) -> None:
    """Let the update through, or stop it (with one polite answer per window)."""
    user = update.effective_user
    if user is None or (update.message is None and update.callback_query is None):
        return
    if user.id in context.settings.admin_ids:
        return
    allowed, first_refusal = await UserRateLimit(context.services.redis).check(user.id)
    if allowed:
        return
    if first_refusal:
        locale = await context.locale_for(update)
        if update.callback_query is not None:
            await update.callback_query.answer(
                context.text(locale, "rate-limited"), show_alert=True
            )
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await context.bot.send_message(user.id, context.text(locale, "rate-limited"))
    raise ApplicationHandlerStop


def register(application: CampaignApplication) -> None:
    application.add_handler(TypeHandler(Update, throttle), group=THROTTLE_GROUP)

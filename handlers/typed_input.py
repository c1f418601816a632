"""Text the bot asked for (an amount, words of support) goes to the feature that asked."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, CommandHandler, MessageHandler, filters

from bot.context import CampaignApplication, CampaignContext
from handlers import broadcast_compose, donate, monthly_change, settings, spent, thanks

# Runs before the ordinary handlers, so an expected answer never reaches the free-text hint.
TYPED_INPUT_GROUP = -1


async def route_typed_input(update: Update, context: CampaignContext) -> None:
    """Hand the text to whichever question is pending; otherwise let other handlers see it."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    state = await context.state_of(user)
    expected = state.awaiting
    if expected is None:
        return
    locale = state.locale
    if expected.startswith(donate.AWAITING_AMOUNT):
        await donate.amount_typed(message, context, locale, expected)
    elif expected.startswith(monthly_change.AWAITING_AMOUNT):
        await monthly_change.amount_typed(message, context, locale, expected)
    elif expected.startswith(thanks.AWAITING_WORDS):
        await thanks.words_typed(message, context, locale, expected)
    elif expected.startswith(broadcast_compose.AWAITING):
        await broadcast_compose.draft_input(message, context, locale, expected)
    elif expected.startswith(spent.AWAITING):
        await spent.draft_input(message, context, locale, expected)
    elif expected.startswith(settings.AWAITING):
        await settings.quiet_typed(message, context, locale, expected)
    else:
        await context.users.clear_expected_input(user.id)
        return
    raise ApplicationHandlerStop


def register(application: CampaignApplication) -> None:
    application.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & (filters.TEXT | filters.PHOTO) & ~filters.COMMAND,
            route_typed_input,
        ),
        group=TYPED_INPUT_GROUP,
    )
    # /cancel in the middle of /spent is that flow's; otherwise it goes on to /broadcast's.
    application.add_handler(
        CommandHandler("cancel", spent.cancel_spent, filters=filters.ChatType.PRIVATE),
        group=TYPED_INPUT_GROUP,
    )
    # Other media only /spent's steps answer (a file or sticker where a photo is wanted).
    application.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & (
                filters.Document.ALL | filters.Sticker.ALL | filters.VIDEO | filters.ANIMATION
            ),
            spent.not_a_photo,
        ),
        group=TYPED_INPUT_GROUP,
    )

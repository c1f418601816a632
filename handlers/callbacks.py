"""The main menu's buttons: built by several features (welcome, story, progress, thank-you)
and each handled by the one that owns it, so their formats sit here rather than in any one.

Also the guard every button passes first: PTB hands a callback with no data to the first
CallbackQueryHandler whatever its pattern, so such a tap is stopped here before any feature.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler

from bot.botapi.callback_data import CallbackFormat
from bot.context import CampaignApplication, CampaignContext

DONATE = CallbackFormat("donate")
STORY = CallbackFormat("story")
FOLLOW = CallbackFormat("follow")
LANGUAGE = CallbackFormat("language")
# /mygift, from the thank-you and from /donate.
MY_GIFTS = CallbackFormat("mygift")
# /needs, from /start and /progress.
NEEDS = CallbackFormat("needs")

# After the gate (rate limit, chats), before typed input and every feature.
NO_DATA_GROUP = -5


class NoDataCallbackHandler(CallbackQueryHandler[CampaignContext, None]):
    """Claims only callback queries that carry neither data nor a game."""

    def check_update(self, update: object) -> bool | object | None:
        query = update.callback_query if isinstance(update, Update) else None
        return query is not None and not query.data and not query.game_short_name


async def ignore_empty_button(update: Update, context: CampaignContext) -> None:
    """Stop the client's spinner and do nothing else: no button of the bot sends no data."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    raise ApplicationHandlerStop


def register(application: CampaignApplication) -> None:
    application.add_handler(NoDataCallbackHandler(ignore_empty_button), group=NO_DATA_GROUP)

"""Before any feature sees an update: which chats the bot talks in, and how fast people may go.

The bot lives in private chats; groups are silent except the beneficiaries' groups (for /stats).
Edited messages are ignored: re-running a command because a typo was fixed would surprise.
A person sending more than 20 messages or taps a minute is paused, with one polite answer.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.context import CampaignApplication, CampaignContext
from handlers import donate

# Runs before every other group, so a flood costs one Redis call per update and nothing more;
# that call is the update's one read (bot/storage/update_state), which the handlers after reuse.
GATE_GROUP = -10


async def gate(update: Update, context: CampaignContext) -> None:
    """Let the update through, or stop it here."""
    if update.edited_message is not None or update.edited_channel_post is not None:
        raise ApplicationHandlerStop
    chat = update.effective_chat
    if (
        chat is not None and chat.type != "private"
        and chat.id not in context.settings.beneficiary_chat_ids
        and update.my_chat_member is None
    ):
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is None or (update.message is None and update.callback_query is None):
        return
    organizer = user.id in context.settings.admin_ids
    # A tap on an amount counts its Checkout Session in the same call (bot/storage/rate_limit).
    state = await context.read_state(
        user, counted=not organizer, asks_for_session=donate.asks_for_session(update)
    )
    if organizer:
        return
    allowed, first_refusal = context.rate_limit.verdict(state.count)
    if allowed:
        return
    if first_refusal:
        locale = state.locale
        if update.callback_query is not None:
            await update.callback_query.answer(
                context.text(locale, "rate-limited"), show_alert=True
            )
        elif chat is not None and chat.type == "private":
            await context.bot.send_message(user.id, context.text(locale, "rate-limited"))
    raise ApplicationHandlerStop


def register(application: CampaignApplication) -> None:
    application.add_handler(TypeHandler(Update, gate), group=GATE_GROUP)

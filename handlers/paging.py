"""Pages one item at a time (/updates, /spending): which page an update asks for."""

from __future__ import annotations

from telegram import Update

from bot.context import CampaignContext


async def requested_page(update: Update, context: CampaignContext) -> tuple[int, int, str] | None:
    """The page asked for (0, the newest, for the command; a ← → button names its own), the
    chat to show it in and the reader's language; a button's tap is answered here."""
    query = update.callback_query
    page = 0
    if query is not None:
        page = int(context.matched("page"))
        await query.answer()
    chat = update.effective_chat
    if chat is None:
        return None
    return page, chat.id, await context.locale_for(update)

"""The closing report's preview buttons: drawn by the broadcast composer's preview for a closing
draft (handlers/broadcast_compose), handled by handlers/close and handlers/broadcast_confirm."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.botapi.callback_data import CallbackFormat
from bot.broadcasts.drafts import Draft
from bot.context import CampaignContext
from handlers.broadcast_confirm import CONFIRM, DISCARD

# Write the closing report again, from the bot's lines (handlers/close).
EDIT_REPORT = CallbackFormat("cl:edit")


def closing_preview(
    context: CampaignContext, locale: str, draft: Draft, subscribers: int, monthly: int
) -> tuple[str, InlineKeyboardMarkup]:
    """The summary under the report's previews: who gets it, the `monthly` gifts it stops, and
    Close and send, Edit, Cancel. Never scheduled: the campaign closes when the organizer
    confirms."""
    buttons = [
        [InlineKeyboardButton(
            context.text(locale, "closing-button-confirm"),
            callback_data=CONFIRM.data(draft=draft.token),
        )],
        [
            InlineKeyboardButton(
                context.text(locale, "broadcast-button-edit"), callback_data=EDIT_REPORT.data()
            ),
            InlineKeyboardButton(
                context.text(locale, "broadcast-button-cancel"),
                callback_data=DISCARD.data(draft=draft.token),
            ),
        ],
    ]
    text = context.text(locale, "closing-preview-summary", subscribers=subscribers)
    if monthly:
        text += "\n\n" + context.text(locale, "closing-preview-monthly", count=monthly)
    return text, InlineKeyboardMarkup(buttons)

"""/progress: raised, goal, percentage, donors, a progress bar and the latest words of support."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.context import CampaignApplication, CampaignContext
from bot.reports.progress import progress_line
from bot.reports.spending import spending_line
from handlers import callbacks
from handlers.needs import board_button

WORDS_SHOWN = 3


async def show_progress(update: Update, context: CampaignContext) -> None:
    """The campaign's numbers and the last public words, escaped as they are user text."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    state = await context.state_of(user)
    locale, totals = state.locale, state.totals
    lines = [
        context.text(locale, "progress-title"),
        progress_line(context.l10n, locale, totals, context.settings.campaign),
    ]
    spent = await context.spending.summary()
    if spent.count:
        lines.append(spending_line(
            context.l10n, locale, totals.raised, spent, context.settings.campaign.currency
        ))
    words = await context.ledger.recent_words(WORDS_SHOWN)
    if words:
        lines += ["", context.text(locale, "progress-words-title")]
        anonymous = context.text(locale, "progress-anonymous")
        lines += [
            context.text(
                locale, "progress-word", words=html.escape(text),
                name=html.escape(name) if name else anonymous,
            )
            for name, text in words
        ]
    await message.reply_text(
        "\n".join(lines),
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(
            context.text(locale, "start-button-donate"), callback_data=callbacks.DONATE.data()
        )], *([row] if (row := board_button(context, locale)) else [])]),
    )
    if totals.donations:
        await context.services.charts.send(message.chat_id, locale)


def register(application: CampaignApplication) -> None:
    application.add_handler(CommandHandler("progress", show_progress))

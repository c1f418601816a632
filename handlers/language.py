"""/language: choose French or English; the choice is stored and used for every later message."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.context import CampaignApplication, CampaignContext
from bot.i18n import SUPPORTED_LOCALES
from handlers import callbacks

SET_LANGUAGE = CallbackFormat("language", locale="|".join(SUPPORTED_LOCALES))


async def choose_language(update: Update, context: CampaignContext) -> None:
    """Offer one button per supported language."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is None:
        return
    locale = await context.locale_for(update)
    buttons = [
        InlineKeyboardButton(
            context.text(locale, f"language-button-{option}"),
            callback_data=SET_LANGUAGE.data(locale=option),
        )
        for option in SUPPORTED_LOCALES
    ]
    await context.bot.send_message(
        chat.id, context.text(locale, "language-prompt"),
        reply_markup=InlineKeyboardMarkup([buttons]),
    )


async def set_language(update: Update, context: CampaignContext) -> None:
    """Store the chosen language and confirm in it."""
    query = update.callback_query
    if query is None:
        return
    locale = context.matched("locale")
    await context.users.set_locale(query.from_user.id, locale, chosen=True)
    await context.subscribers.change_locale(query.from_user.id, locale)
    await query.answer()
    await query.edit_message_text(context.text(locale, "language-changed"))


def register(application: CampaignApplication) -> None:
    application.add_handler(CommandHandler("language", choose_language))
    application.add_handler(
        CallbackQueryHandler(choose_language, pattern=callbacks.LANGUAGE.pattern)
    )
    application.add_handler(CallbackQueryHandler(set_language, pattern=SET_LANGUAGE.pattern))

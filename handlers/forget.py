"""/forget: after a confirmation, erase what ties the user to the bot and say what was kept."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.context import CampaignApplication, CampaignContext

CONFIRM = CallbackFormat("forget:yes")
KEEP = CallbackFormat("forget:no")


async def ask_to_forget(update: Update, context: CampaignContext) -> None:
    """Explain what will be erased, warn about a running monthly gift, ask to confirm."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    locale = await context.locale_for(update)
    lines = [context.text(locale, "forget-confirm")]
    if await context.monthly.active(user.id):
        lines.append(context.text(locale, "forget-monthly-warning"))
    issuer = context.settings.campaign.receipt_issuer
    if issuer is not None:
        lines.append(context.text(locale, "receipts-forget", name=html.escape(issuer.name)))
    await context.bot.send_message(
        chat.id, "\n\n".join(lines),
        reply_markup=InlineKeyboardMarkup([[
            InlineKeyboardButton(
                context.text(locale, "forget-button-yes"), callback_data=CONFIRM.data()
            ),
            InlineKeyboardButton(
                context.text(locale, "forget-button-no"), callback_data=KEEP.data()
            ),
        ]]),
    )


async def forget(update: Update, context: CampaignContext) -> None:
    """Erase, then answer in the language read before erasing (and not stored again)."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    await context.erasure.forget(query.from_user.id)
    await query.answer()
    await query.edit_message_text(context.text(locale, "forget-done"))


async def keep(update: Update, context: CampaignContext) -> None:
    """The user changed their mind."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await query.edit_message_text(context.text(await context.locale_for(update), "forget-kept"))


def register(application: CampaignApplication) -> None:
    application.add_handler(CommandHandler("forget", ask_to_forget))
    application.add_handler(CallbackQueryHandler(forget, pattern=CONFIRM.pattern))
    application.add_handler(CallbackQueryHandler(keep, pattern=KEEP.pattern))

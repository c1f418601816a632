"""/updates: past broadcasts, newest first, one per page, in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.context import CampaignApplication, CampaignContext

PAGE = CallbackFormat("upd", page="[0-9]{1,6}")
PHOTO = CallbackFormat("upd:photo", broadcast="[0-9]{1,9}")


async def show_updates(update: Update, context: CampaignContext) -> None:
    """The newest update, or the page a navigation button asks for."""
    query = update.callback_query
    page = 0
    if query is not None:
        page = int(context.matched("page"))
        await query.answer()
    chat = update.effective_chat
    if chat is None:
        return
    locale = await context.locale_for(update)
    shown, total = await context.broadcasts.archive(page, 1)
    if not shown:
        if query is None:
            await context.reply(update, "updates-empty")
        return
    item = shown[0]
    when = datetime.fromtimestamp(item.started_at / 1000, UTC).astimezone(
        context.settings.campaign.timezone
    )
    header = context.text(
        locale, "updates-header", index=page + 1, total=total, date=when.date().isoformat()
    )
    text = f"{header}\n\n{item.content.text_for(locale)}"
    row = []
    if page + 1 < total:
        row.append(InlineKeyboardButton(
            context.text(locale, "updates-button-older"), callback_data=PAGE.data(page=page + 1)
        ))
    if item.content.photo:
        row.append(InlineKeyboardButton(
            context.text(locale, "updates-button-photo"),
            callback_data=PHOTO.data(broadcast=item.broadcast_id),
        ))
    if page > 0:
        row.append(InlineKeyboardButton(
            context.text(locale, "updates-button-newer"), callback_data=PAGE.data(page=page - 1)
        ))
    markup = InlineKeyboardMarkup([row]) if row else None
    if query is not None:
        await query.edit_message_text(text, reply_markup=markup)
    else:
        await context.bot.send_message(chat.id, text, reply_markup=markup)


async def show_photo(update: Update, context: CampaignContext) -> None:
    """The photo that went with an archived update."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    item = await context.broadcasts.get(int(context.matched("broadcast")))
    if item is not None and item.started_at and item.content.photo:
        await context.bot.send_photo(query.from_user.id, item.content.photo)


def register(application: CampaignApplication) -> None:
    application.add_handler(CommandHandler("updates", show_updates))
    application.add_handler(CallbackQueryHandler(show_updates, pattern=PAGE.pattern))
    application.add_handler(CallbackQueryHandler(show_photo, pattern=PHOTO.pattern))

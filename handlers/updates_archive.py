"""/updates: past broadcasts, newest first, one per page, in the reader's language."""

from __future__ import annotations

from datetime import UTC, date, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.botapi.text_split import split_message
from bot.context import CampaignApplication, CampaignContext
from bot.i18n import Localizer

PAGE = CallbackFormat("upd", page="[0-9]{1,6}")
PHOTO = CallbackFormat("upd:photo", broadcast="[0-9]{1,9}")
# The broadcast preview measures a page with numbers this long, so a previewed text keeps
# fitting under its header until the archive holds this many news; past that it is split.
LONGEST_PAGE_NUMBER = 9_999


def archive_page(
    l10n: Localizer, locale: str, index: int, total: int, day: date, body: str
) -> str:
    """One archived broadcast as /updates shows it: the header, then the text."""
    header = l10n.format(locale, "updates-header", index=index, total=total, date=day.isoformat())
    return f"{header}\n\n{body}"


def longest_archive_page(l10n: Localizer, locale: str, day: date, body: str) -> str:
    """The page a broadcast of `day` could ever take in /updates, for the preview to measure."""
    return archive_page(l10n, locale, LONGEST_PAGE_NUMBER, LONGEST_PAGE_NUMBER, day, body)


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
    parts = split_message(archive_page(
        context.l10n, locale, page + 1, total, when.date(), item.content.text_for(locale)
    ))
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
    # A page too long for one message (news sent before the preview measured texts, or page
    # numbers past the preview's bound) comes in several, the buttons under the last; the
    # message whose button was tapped becomes the first of them.
    for index, part in enumerate(parts):
        buttons = markup if index == len(parts) - 1 else None
        if query is not None and index == 0:
            await query.edit_message_text(part, reply_markup=buttons)
        else:
            await context.bot.send_message(chat.id, part, reply_markup=buttons)


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

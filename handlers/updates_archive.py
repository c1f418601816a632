"""/updates: past broadcasts, newest first, one per page, in the reader's language.

Organizers see a Remove button under each update: confirmed, it takes the update out of
/updates for everyone (the broadcast's record and report stay). Cancelled broadcasts are never
shown.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.botapi.text_split import split_message
from bot.config import Settings
from bot.context import CampaignApplication, CampaignContext
from bot.i18n import Localizer
from handlers.access import UserCallbackQueryHandler, organizers
from handlers.paging import requested_page

log = logging.getLogger(__name__)

PAGE = CallbackFormat("upd", page="[0-9]{1,6}")
PHOTO = CallbackFormat("upd:photo", broadcast="[0-9]{1,9}")
# An organizer's Remove under an update, then the question's answers; Keep shows the page again.
REMOVE = CallbackFormat("upd:rm", broadcast="[0-9]{1,9}", page="[0-9]{1,6}")
REMOVE_CONFIRM = CallbackFormat("upd:rm:yes", broadcast="[0-9]{1,9}")
REMOVE_KEEP = CallbackFormat("upd:rm:no", page="[0-9]{1,6}")
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
    await _show_page(update, context, removable=False)


async def show_updates_to_organizer(update: Update, context: CampaignContext) -> None:
    """The same pages with a Remove button under each update (Keep comes back here too)."""
    await _show_page(update, context, removable=True)


async def _show_page(update: Update, context: CampaignContext, removable: bool) -> None:
    requested = await requested_page(update, context)
    if requested is None:
        return
    page, chat_id, locale = requested
    query = update.callback_query
    shown, total = await context.broadcasts.public_archive(page, 1)
    if not shown and total:
        # A button from before an update was taken out can point past the end now.
        page = total - 1
        shown, total = await context.broadcasts.public_archive(page, 1)
    if not shown:
        if query is None:
            await context.reply(update, "updates-empty")
        else:
            await query.edit_message_text(context.text(locale, "updates-empty"))
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
    rows = [row] if row else []
    if removable:
        rows.append([InlineKeyboardButton(
            context.text(locale, "updates-button-remove"),
            callback_data=REMOVE.data(broadcast=item.broadcast_id, page=page),
        )])
    markup = InlineKeyboardMarkup(rows) if rows else None
    # A page too long for one message (news sent before the preview measured texts, or page
    # numbers past the preview's bound) comes in several, the buttons under the last; the
    # message whose button was tapped becomes the first of them.
    for index, part in enumerate(parts):
        buttons = markup if index == len(parts) - 1 else None
        if query is not None and index == 0:
            await query.edit_message_text(part, reply_markup=buttons)
        else:
            await context.bot.send_message(chat_id, part, reply_markup=buttons)


async def show_photo(update: Update, context: CampaignContext) -> None:
    """The photo that went with an archived update."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    item = await context.broadcasts.get(int(context.matched("broadcast")))
    if item is not None and item.in_updates and item.content.photo:
        await context.bot.send_photo(query.from_user.id, item.content.photo)


async def _tapped_update(
    update: Update, context: CampaignContext
) -> tuple[CallbackQuery, str, int] | None:
    """The tap on a removal button, the tapper's locale and the update the button names."""
    query = update.callback_query
    if query is None:
        return None
    return query, await context.locale_for(update), int(context.matched("broadcast"))


async def ask_removal(update: Update, context: CampaignContext) -> None:
    """Remove tapped: ask before taking the update out of /updates for everyone."""
    tapped = await _tapped_update(update, context)
    if tapped is None:
        return
    query, locale, broadcast_id = tapped
    item = await context.broadcasts.get(broadcast_id)
    if item is None or not item.in_updates:
        await query.answer(context.text(locale, "updates-already-removed"), show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(
        context.text(locale, "updates-remove-confirm"),
        reply_markup=InlineKeyboardMarkup([[
            InlineKeyboardButton(
                context.text(locale, "updates-remove-yes"),
                callback_data=REMOVE_CONFIRM.data(broadcast=broadcast_id),
            ),
            InlineKeyboardButton(
                context.text(locale, "updates-remove-keep"),
                callback_data=REMOVE_KEEP.data(page=context.matched("page")),
            ),
        ]]),
    )


async def remove(update: Update, context: CampaignContext) -> None:
    """Removal confirmed: out of /updates once; a second tap says it is gone already."""
    tapped = await _tapped_update(update, context)
    if tapped is None:
        return
    query, locale, broadcast_id = tapped
    if not await context.broadcasts.withdraw(broadcast_id):
        await query.answer(context.text(locale, "updates-already-removed"), show_alert=True)
        return
    log.info("update taken out of /updates broadcast=%s", broadcast_id)
    await query.answer()
    await query.edit_message_text(context.text(locale, "updates-removed"))


def register(application: CampaignApplication, settings: Settings) -> None:
    admins = organizers(settings)
    # Before everyone's: an organizer's pages carry the Remove button.
    application.add_handler(CommandHandler("updates", show_updates_to_organizer, filters=admins))
    application.add_handler(
        UserCallbackQueryHandler(show_updates_to_organizer, PAGE.pattern, admins)
    )
    application.add_handler(CommandHandler("updates", show_updates))
    application.add_handler(CallbackQueryHandler(show_updates, pattern=PAGE.pattern))
    application.add_handler(CallbackQueryHandler(show_photo, pattern=PHOTO.pattern))
    for callback, button in (
        (ask_removal, REMOVE), (remove, REMOVE_CONFIRM), (show_updates_to_organizer, REMOVE_KEEP),
    ):
        application.add_handler(UserCallbackQueryHandler(callback, button.pattern, admins))

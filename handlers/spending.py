"""/spending: what the campaign spent, newest first, one entry a page with its photo; and
"What did my gift pay for?" from /mygift.

Organizers see Correct and Remove under each entry (handlers/spent does those). Each page is a
new message: a page with a photo and one without cannot replace each other in place.
"""

from __future__ import annotations

import asyncio
import html
from datetime import datetime

from fluent.runtime.types import fluent_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.botapi.text_split import split_message
from bot.config import Settings
from bot.context import CampaignApplication, CampaignContext
from bot.donations.needs import find_need
from bot.donations.spending import SpendingEntry
from bot.i18n import money
from handlers.access import UserCallbackQueryHandler, organizers
from handlers.paging import requested_page

PAGE = CallbackFormat("sp", page="[0-9]{1,6}")
ENTRY = "[0-9]{1,9}"
CORRECT = CallbackFormat("sp:ed", entry=ENTRY)
REMOVE = CallbackFormat("sp:rm", entry=ENTRY)
PAID_FOR = CallbackFormat("sp:paid")
# "What did my gift pay for?" names this many entries, then counts the rest.
PAID_FOR_SHOWN = 10


def entry_date(context: CampaignContext, entry: SpendingEntry) -> object:
    """The day an entry was recorded, for Fluent, in the campaign's time zone."""
    zone = context.settings.campaign.timezone
    day = datetime.fromtimestamp(entry.recorded / 1000, zone).date()
    return fluent_date(day, dateStyle="long")


def entry_page(
    context: CampaignContext, locale: str, entry: SpendingEntry, index: int, total: int,
    *, numbered: bool = False,
) -> str:
    """One entry as /spending shows it: date, amount, place, its text (escaped), its need."""
    page = context.text(
        locale, "spending-page", date=entry_date(context, entry),
        amount=money(entry.amount, context.settings.campaign.currency), index=index,
        total=total, text=html.escape(entry.text_for(locale)),
    )
    # A need the campaign file no longer lists is left unsaid rather than shown as an id.
    need = find_need(context.settings.campaign.needs, entry.need)
    if need is not None:
        need_name = html.escape(need.text(locale))
        page = f"{page}\n{context.text(locale, 'spending-page-need', need=need_name)}"
    if numbered:
        page = f"{context.text(locale, 'spending-page-number', entry=entry.entry_id)} {page}"
    return page


async def send_entry(
    context: CampaignContext, chat_id: int, text: str, photo: str | None,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """The entry as a photo with its caption, or as a message when it has no photo."""
    if photo:
        await context.bot.send_photo(chat_id, photo, caption=text, reply_markup=markup)
    else:
        await context.bot.send_message(chat_id, text, reply_markup=markup)


async def show_spending(update: Update, context: CampaignContext) -> None:
    """The newest entry, or the page a navigation button asks for."""
    await _show_page(update, context, organizer=False)


async def show_spending_to_organizer(update: Update, context: CampaignContext) -> None:
    """The same pages, numbered, with Correct and Remove under each entry."""
    await _show_page(update, context, organizer=True)


async def _show_page(update: Update, context: CampaignContext, organizer: bool) -> None:
    requested = await requested_page(update, context)
    if requested is None:
        return
    page, chat_id, locale = requested
    entry, total = await context.spending.page(page)
    if entry is None and total:
        # A button from before an entry was removed can point past the end now.
        page = total - 1
        entry, total = await context.spending.page(page)
    if entry is None:
        await context.bot.send_message(chat_id, context.text(locale, "spending-empty"))
        return
    row = []
    if page + 1 < total:
        row.append(InlineKeyboardButton(
            context.text(locale, "spending-button-older"), callback_data=PAGE.data(page=page + 1)
        ))
    if page > 0:
        row.append(InlineKeyboardButton(
            context.text(locale, "spending-button-newer"), callback_data=PAGE.data(page=page - 1)
        ))
    rows = [row] if row else []
    if organizer:
        rows.append([
            InlineKeyboardButton(
                context.text(locale, "spending-button-correct"),
                callback_data=CORRECT.data(entry=entry.entry_id),
            ),
            InlineKeyboardButton(
                context.text(locale, "spending-button-remove"),
                callback_data=REMOVE.data(entry=entry.entry_id),
            ),
        ])
    text = entry_page(context, locale, entry, page + 1, total, numbered=organizer)
    await send_entry(
        context, chat_id, text, entry.photo, InlineKeyboardMarkup(rows) if rows else None
    )


def paid_for_markup(
    context: CampaignContext, locale: str, markup: InlineKeyboardMarkup | None
) -> InlineKeyboardMarkup:
    """A donor's /mygift buttons with "What did my gift pay for?" under them."""
    rows = list(markup.inline_keyboard) if markup is not None else []
    rows.append((InlineKeyboardButton(
        context.text(locale, "spending-paid-for-button"), callback_data=PAID_FOR.data()
    ),))
    return InlineKeyboardMarkup(rows)


async def paid_for(update: Update, context: CampaignContext) -> None:
    """What the campaign spent since the tapper's first gift, honestly worded: money is
    pooled. Read from the tapper's own gifts, so the button carries nothing to forge."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    user_id = query.from_user.id
    locale = await context.locale_for(update)
    first_once, monthly = await asyncio.gather(
        context.gifts.earliest(user_id), context.monthly.active(user_id)
    )
    starts = [moment for moment in (first_once, *(g.since for g in monthly)) if moment]
    if not starts:
        # No gift of theirs (any more): the button came from an older /mygift.
        await context.bot.send_message(user_id, context.text(locale, "common-button-expired"))
        return
    first = min(starts)
    zone = context.settings.campaign.timezone
    day = fluent_date(datetime.fromtimestamp(first, zone).date(), dateStyle="long")
    since = await context.spending.since(first * 1000, PAID_FOR_SHOWN)
    if not since.count:
        await context.bot.send_message(
            user_id, context.text(locale, "spending-paid-for-none", date=day)
        )
        return
    currency = context.settings.campaign.currency
    spent = money(since.spent, currency)
    lines = [context.text(locale, "spending-paid-for", date=day, spent=spent)]
    lines += [
        context.text(
            locale, "spending-paid-for-item", date=entry_date(context, entry),
            amount=money(entry.amount, currency), text=html.escape(entry.text_for(locale)),
        )
        for entry in since.newest
    ]
    if since.count > len(since.newest):
        lines.append(context.text(
            locale, "spending-paid-for-more", count=since.count - len(since.newest)
        ))
    for part in split_message("\n".join(lines)):
        await context.bot.send_message(user_id, part)


def register(application: CampaignApplication, settings: Settings) -> None:
    admins = organizers(settings)
    # Before everyone's: an organizer's pages carry the Correct and Remove buttons.
    application.add_handler(CommandHandler("spending", show_spending_to_organizer, filters=admins))
    application.add_handler(
        UserCallbackQueryHandler(show_spending_to_organizer, PAGE.pattern, admins)
    )
    application.add_handler(CommandHandler("spending", show_spending))
    application.add_handler(CallbackQueryHandler(show_spending, pattern=PAGE.pattern))
    application.add_handler(CallbackQueryHandler(paid_for, pattern=PAID_FOR.pattern))

"""Tax receipts: the organizer's /export receipts, and a donor's yearly statement from /mygift.

With a receipt issuer in the campaign file the statement gives each gift's receipt number;
without one it says plainly that it is not a tax receipt, and the export says none can be
issued.
"""

from __future__ import annotations

import html
from datetime import datetime

from fluent.runtime.types import fluent_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import CallbackQueryHandler

from bot.botapi.callback_data import CallbackFormat
from bot.context import CampaignApplication, CampaignContext
from bot.donations.receipt_numbers import (
    donor_gifts_between,
    issued_amount,
    kept_amount,
    refund_after_issue,
)
from bot.i18n import money
from bot.reports.receipts import receipts_csv
from handlers.private_document import send_to_organizer

STATEMENT = CallbackFormat("rc:y", year="[0-9]{4}")
# No statement before the bot existed; data is forged easily, and a year is cheap to check.
FIRST_YEAR = 2024


async def export_receipts(update: Update, context: CampaignContext) -> None:
    """The Cerfa-ready list as CSV, in the organizer's private chat: each gift kept, numbered
    the first time it is listed."""
    chat = update.effective_chat
    if chat is None:
        return
    locale = await context.locale_for(update)
    campaign = context.settings.campaign
    issuer = campaign.receipt_issuer
    if issuer is None:
        await context.bot.send_message(chat.id, context.text(locale, "receipts-export-none"))
        return
    gifts = await context.services.receipts.issue(context.ledger.donations())
    content = receipts_csv(
        gifts, issuer, context.l10n, locale, campaign.timezone, campaign.currency
    )
    day = datetime.fromtimestamp(context.services.clock.now(), campaign.timezone)
    await send_to_organizer(
        update, context, locale, InputFile(content, filename=f"receipts-{day:%Y%m%d}.csv"),
        context.text(locale, "receipts-export-caption", count=len(gifts)),
    )


def with_statement_button(
    context: CampaignContext, locale: str, view: tuple[str, InlineKeyboardMarkup | None]
) -> tuple[str, InlineKeyboardMarkup]:
    """A /mygift view with the button to this year's statement under its own buttons."""
    text, markup = view
    year = _this_year(context)
    rows = [list(row) for row in markup.inline_keyboard] if markup is not None else []
    rows.append([InlineKeyboardButton(
        context.text(locale, "receipts-statement-button", year=str(year)),
        callback_data=STATEMENT.data(year=year),
    )])
    return text, InlineKeyboardMarkup(rows)


async def statement(update: Update, context: CampaignContext) -> None:
    """The donor's gifts of one year, what was kept of each, and the total; a receipt issued
    stays listed after a refund, saying what the refund left."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    year = int(context.matched("year"))
    this_year = _this_year(context)
    if not FIRST_YEAR <= year <= this_year:
        await query.answer(context.text(locale, "common-button-expired"), show_alert=True)
        return
    await query.answer()
    campaign = context.settings.campaign
    zone = campaign.timezone
    since = datetime(year, 1, 1, tzinfo=zone).timestamp()
    until = datetime(year + 1, 1, 1, tzinfo=zone).timestamp()
    # Only the tapping user's own gifts are read: a forged year shows nobody else's.
    gifts = await donor_gifts_between(
        context.ledger.donations(since, until - 0.001), query.from_user.id
    )
    issuer = campaign.receipt_issuer
    shown = {"year": str(year)}
    lines = [context.text(locale, "receipts-statement-title", **shown)]
    if issuer is None:
        lines.append(context.text(locale, "receipts-statement-not-receipt"))
    else:
        lines.append(context.text(
            locale, "receipts-statement-issued", name=html.escape(issuer.name)
        ))
    total = 0
    for gift in gifts:
        kept = kept_amount(gift.fields)
        receipt = gift.fields.get("receipt", "") if issuer is not None else ""
        if kept <= 0 and not receipt:
            continue
        total += max(0, kept)
        day = datetime.fromtimestamp(gift.created, zone).date()
        currency = gift.fields.get("currency", campaign.currency)
        issued = issued_amount(kept, gift.fields) if receipt else kept
        lines.append(context.text(
            locale, "receipts-statement-item", date=fluent_date(day, dateStyle="long"),
            amount=money(issued, currency),
            status="none" if issuer is None else "numbered" if receipt else "pending",
            receipt=receipt, after=refund_after_issue(max(0, kept), issued),
            kept=money(max(0, kept), currency),
        ))
    if total:
        lines.append(context.text(
            locale, "receipts-statement-total", total=money(total, campaign.currency), **shown
        ))
    else:
        lines.append(context.text(locale, "receipts-statement-empty", **shown))
    await context.bot.send_message(
        query.from_user.id, "\n".join(lines), reply_markup=_other_years(context, locale, year)
    )


def _other_years(
    context: CampaignContext, locale: str, year: int
) -> InlineKeyboardMarkup | None:
    """The year before (tax returns are made the spring after) and, if any, the year after."""
    row = []
    if year > FIRST_YEAR:
        row.append(InlineKeyboardButton(
            context.text(locale, "receipts-statement-earlier", year=str(year - 1)),
            callback_data=STATEMENT.data(year=year - 1),
        ))
    if year < _this_year(context):
        row.append(InlineKeyboardButton(
            context.text(locale, "receipts-statement-later", year=str(year + 1)),
            callback_data=STATEMENT.data(year=year + 1),
        ))
    return InlineKeyboardMarkup([row]) if row else None


def _this_year(context: CampaignContext) -> int:
    zone = context.settings.campaign.timezone
    return datetime.fromtimestamp(context.services.clock.now(), zone).year


def register(application: CampaignApplication) -> None:
    application.add_handler(CallbackQueryHandler(statement, pattern=STATEMENT.pattern))


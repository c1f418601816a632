"""/mygift: a donor's own gifts, Give again, and the monthly suggestion after a first gift.

A monthly donor sees their monthly gift with its buttons (handlers/monthly), then any one-off
gifts; a one-off donor sees those gifts with Stripe's receipts; anyone else, the donate menu.
Every Checkout goes through /donate's own path, so its cap and idempotency hold here too.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from datetime import datetime

import stripe
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.botapi.callback_data import CallbackFormat
from bot.context import CampaignApplication, CampaignContext
from bot.donations.ledger import StoredDonation
from bot.donations.outbox import Notice
from bot.donations.stripe_client import Frequency
from bot.i18n import Localizer, MoneyAmount, long_date, money
from handlers import callbacks
from handlers.donate import donate_menu, offer_checkout
from handlers.monthly import monthly_view
from handlers.receipts import with_statement_button
from handlers.spending import paid_for_markup

log = logging.getLogger(__name__)

GIFTS_SHOWN = 10
# Stripe answers in well under a second; an outage (with the SDK's retries) must not hold the
# list: it comes without its receipt links instead.
RECEIPTS_WAIT_SECONDS = 5.0
# PaymentIntent ids (pi_ and 24 characters), short enough for a suggestion's data to fit.
DONATION = "[A-Za-z0-9_]{1,40}"
GIVE_AGAIN = CallbackFormat("mg:g", donation=DONATION)
SUGGESTION = CallbackFormat("mg:m", donation=DONATION, amount="[0-9]{1,9}")


def thanks_buttons(
    l10n: Localizer, currency: str, notice: Notice
) -> list[list[InlineKeyboardButton]]:
    """Under a thank-you: the monthly suggestion it carries, if any, then My gifts."""
    locale = notice.locale
    rows = []
    suggested = notice.data.get("suggest_monthly")
    donation_id = str(notice.data.get("donation_id", ""))
    if suggested and re.fullmatch(DONATION, donation_id):
        rows.append([InlineKeyboardButton(
            l10n.format(locale, "mygift-suggest-monthly", amount=money(suggested, currency)),
            callback_data=SUGGESTION.data(donation=donation_id, amount=suggested),
        )])
    rows.append([InlineKeyboardButton(
        l10n.format(locale, "mygift-button"), callback_data=callbacks.MY_GIFTS.data()
    )])
    return rows


async def my_gifts(update: Update, context: CampaignContext) -> None:
    """The donor's monthly gift, then their one-off gifts; the donate menu if they have none."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    user = update.effective_user
    if user is None:
        return
    locale = await context.locale_for(update)
    monthly, once = await asyncio.gather(
        monthly_view(context, locale, user.id), one_off_view(context, locale, user.id)
    )
    views = [view for view in (monthly, once) if view is not None]
    if views:
        text, buttons = with_statement_button(context, locale, views[-1])
        views[-1] = (text, paid_for_markup(context, locale, buttons))
    else:
        views = [await donate_menu(context, locale, user, Frequency.ONCE)]
    for text, markup in views:
        await context.bot.send_message(user.id, text, reply_markup=markup)


async def one_off_view(
    context: CampaignContext, locale: str, user_id: int
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """The donor's newest one-off gifts with their receipts and Give again, or None."""
    gifts, total = await context.gifts.newest(user_id, GIFTS_SHOWN)
    if not gifts:
        return None
    receipts, complete = await _receipts(context, gifts)
    lines = [context.text(locale, "mygift-once-header")]
    lines += [
        _gift_line(context, locale, gift, receipt)
        for gift, receipt in zip(gifts, receipts, strict=True)
    ]
    if total > len(gifts):
        lines.append(context.text(locale, "mygift-once-more", count=total - len(gifts)))
    if not complete:
        lines.append(context.text(locale, "mygift-receipts-unavailable"))
    latest = gifts[0]
    markup = None
    if re.fullmatch(DONATION, latest.donation_id):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(
            context.text(locale, "mygift-give-again", amount=_amount(context, latest)),
            callback_data=GIVE_AGAIN.data(donation=latest.donation_id),
        )]])
    return "\n".join(lines), markup


async def _receipts(
    context: CampaignContext, gifts: list[StoredDonation]
) -> tuple[list[str | None], bool]:
    """Each gift's receipt address, asked of Stripe together, and whether Stripe answered all."""

    async def receipt(gift: StoredDonation) -> str | None:
        payment_intent = gift.fields.get("payment_intent")
        return await context.payments.receipt_url(payment_intent) if payment_intent else None

    try:
        found = await asyncio.wait_for(
            asyncio.gather(*map(receipt, gifts), return_exceptions=True), RECEIPTS_WAIT_SECONDS
        )
    except TimeoutError:
        log.warning("receipts unavailable error=TimeoutError")
        return [None] * len(gifts), False
    failures = [item for item in found if isinstance(item, BaseException)]
    for failure in failures:
        if not isinstance(failure, stripe.StripeError):
            raise failure
    if failures:
        log.warning("receipts unavailable error=%s", type(failures[0]).__name__)
    return [item if isinstance(item, str) else None for item in found], not failures


def _gift_line(
    context: CampaignContext, locale: str, gift: StoredDonation, receipt: str | None
) -> str:
    campaign = context.settings.campaign
    refunded = min(gift.amount, int(gift.fields.get("refunded", 0)))
    status = "refunded" if refunded == gift.amount else "partly" if refunded else "none"
    day = datetime.fromtimestamp(gift.created, campaign.timezone).date()
    line = context.text(
        locale, "mygift-once-item", date=long_date(day, locale),
        amount=_amount(context, gift), status=status,
        refunded=money(refunded, gift.fields.get("currency", campaign.currency)),
    )
    if receipt is None:
        return line
    return f"{line} · {context.text(locale, 'mygift-receipt', url=html.escape(receipt))}"


def _amount(context: CampaignContext, gift: StoredDonation) -> MoneyAmount:
    return money(gift.amount, gift.fields.get("currency", context.settings.campaign.currency))


async def give_again(update: Update, context: CampaignContext) -> None:
    """A one-off Checkout for the amount of the donor's gift the button names."""
    tapped = await _tapped_gift(update, context)
    if tapped is None:
        return
    query, locale, gift = tapped
    campaign = context.settings.campaign
    amount = gift.amount
    if amount not in campaign.preset_amounts and not (
        campaign.custom_min <= amount <= campaign.custom_max
    ):
        # The campaign's bounds changed since: the amount picker offers what is possible now.
        await query.answer(context.text(locale, "mygift-give-again-refused"), show_alert=True)
        return
    await query.answer()
    await offer_checkout(
        context, query.from_user, locale, amount, Frequency.ONCE, _message_id(query),
        gifts_made=await context.gifts.count(query.from_user.id),
    )


async def make_monthly(update: Update, context: CampaignContext) -> None:
    """The suggestion was tapped: a monthly Checkout of the amount it offered."""
    tapped = await _tapped_gift(update, context)
    if tapped is None:
        return
    query, locale, gift = tapped
    suggested = context.settings.campaign.monthly_suggestion(gift.amount)
    first = await context.gifts.first(query.from_user.id)
    # Only the amount the bot computed, on the gift it was offered for (data can be forged).
    if suggested is None or suggested != int(context.matched("amount")) or (
        first != gift.donation_id
    ):
        await query.answer(context.text(locale, "common-button-expired"), show_alert=True)
        return
    if await context.monthly.active(query.from_user.id):
        await query.answer(context.text(locale, "mygift-already-monthly"), show_alert=True)
        return
    await query.answer()
    await offer_checkout(
        context, query.from_user, locale, suggested, Frequency.MONTHLY, _message_id(query),
        gifts_made=await context.gifts.count(query.from_user.id),
    )


async def _tapped_gift(
    update: Update, context: CampaignContext
) -> tuple[CallbackQuery, str, StoredDonation] | None:
    """The one-off gift a button names, only if it is the tapping user's (callback data can be
    forged); anyone else gets a polite alert."""
    query = update.callback_query
    if query is None:
        return None
    locale = await context.locale_for(update)
    donation_id = context.matched("donation")
    fields = await context.ledger.donation(donation_id)
    if (
        fields is None or query.message is None
        or fields.get("telegram_user_id") != str(query.from_user.id)
        or fields.get("kind") != Frequency.ONCE.value
    ):
        await query.answer(context.text(locale, "donate-not-yours"), show_alert=True)
        return None
    return query, locale, StoredDonation(donation_id, int(fields.get("created", 0)), fields)


def _message_id(query: CallbackQuery) -> int:
    # The tapped message makes the pledge's idempotency key: a double tap is one session.
    return query.message.message_id if query.message is not None else 0


def register(application: CampaignApplication) -> None:
    # Someone's gifts are theirs alone: never shown in a group, even the beneficiaries'.
    application.add_handler(
        CommandHandler("mygift", my_gifts, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(CallbackQueryHandler(my_gifts, pattern=callbacks.MY_GIFTS.pattern))
    application.add_handler(CallbackQueryHandler(give_again, pattern=GIVE_AGAIN.pattern))
    application.add_handler(CallbackQueryHandler(make_monthly, pattern=SUGGESTION.pattern))

"""Monthly donors see their monthly gifts and can stop one, which cancels it at Stripe."""

from __future__ import annotations

import logging

import stripe
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot.botapi.callback_data import CallbackFormat
from bot.context import CampaignApplication, CampaignContext
from bot.donations.monthly_gifts import MonthlyGift
from bot.i18n import money
from handlers.donate import MANAGE_MONTHLY

log = logging.getLogger(__name__)

SUBSCRIPTION = "sub_[A-Za-z0-9_]{1,60}"
ASK_CANCEL = CallbackFormat("don:c", subscription=SUBSCRIPTION)
CONFIRM_CANCEL = CallbackFormat("don:cy", subscription=SUBSCRIPTION)
KEEP = CallbackFormat("don:cn")


async def monthly_view(
    context: CampaignContext, locale: str, user_id: int
) -> tuple[str, InlineKeyboardMarkup] | None:
    """The donor's active monthly gifts with their buttons, or None if they have none."""
    gifts = await context.monthly.active(user_id)
    if not gifts:
        return None
    lines = [context.text(locale, "donate-monthly-list")]
    buttons = []
    for gift in gifts:
        amount = money(gift.amount, gift.currency)
        lines.append(context.text(locale, "donate-monthly-item", amount=amount))
        buttons.append([InlineKeyboardButton(
            context.text(locale, "donate-monthly-cancel-button", amount=amount),
            callback_data=ASK_CANCEL.data(subscription=gift.subscription_id),
        )])
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


async def list_monthly(update: Update, context: CampaignContext) -> None:
    """One line and one Stop button per active monthly gift."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    locale = await context.locale_for(update)
    view = await monthly_view(context, locale, query.from_user.id)
    if view is None:
        await context.bot.send_message(
            query.from_user.id, context.text(locale, "donate-monthly-none")
        )
        return
    text, markup = view
    await context.bot.send_message(query.from_user.id, text, reply_markup=markup)


async def _tapped_gift(
    update: Update, context: CampaignContext
) -> tuple[CallbackQuery, str, MonthlyGift] | None:
    """The gift a button names, only if it is the tapping user's and still active (callback
    data can be forged); anyone else gets a polite alert."""
    query = update.callback_query
    if query is None:
        return None
    locale = await context.locale_for(update)
    subscription_id = context.matched("subscription")
    for gift in await context.monthly.active(query.from_user.id):
        if gift.subscription_id == subscription_id:
            return query, locale, gift
    await query.answer(context.text(locale, "donate-not-yours"), show_alert=True)
    return None


async def ask_cancel(update: Update, context: CampaignContext) -> None:
    """Ask for confirmation before stopping a monthly gift."""
    tapped = await _tapped_gift(update, context)
    if tapped is None:
        return
    query, locale, gift = tapped
    await query.answer()
    amount = money(gift.amount, gift.currency)
    await query.edit_message_text(
        context.text(locale, "donate-monthly-confirm", amount=amount),
        reply_markup=InlineKeyboardMarkup([[
            InlineKeyboardButton(
                context.text(locale, "donate-monthly-confirm-yes"),
                callback_data=CONFIRM_CANCEL.data(subscription=gift.subscription_id),
            ),
            InlineKeyboardButton(
                context.text(locale, "donate-monthly-confirm-no"), callback_data=KEEP.data()
            ),
        ]]),
    )


async def confirm_cancel(update: Update, context: CampaignContext) -> None:
    """Cancel the subscription at Stripe, then forget it locally."""
    tapped = await _tapped_gift(update, context)
    if tapped is None:
        return
    query, locale, gift = tapped
    try:
        await context.payments.cancel_subscription(gift.subscription_id)
    except stripe.StripeError as exc:
        log.error("cancel subscription failed error=%s", type(exc).__name__)
        await query.answer(context.text(locale, "donate-unavailable"), show_alert=True)
        return
    # Ending it here first means the webhook that follows finds nothing left to announce.
    await context.monthly.end(gift.subscription_id)
    await query.answer()
    await query.edit_message_text(
        context.text(
            locale, "donate-monthly-cancelled", amount=money(gift.amount, gift.currency)
        )
    )


async def keep(update: Update, context: CampaignContext) -> None:
    """The donor changed their mind."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    locale = await context.locale_for(update)
    await query.edit_message_text(context.text(locale, "donate-monthly-kept"))


def register(application: CampaignApplication) -> None:
    application.add_handler(
        CallbackQueryHandler(list_monthly, pattern=MANAGE_MONTHLY.pattern)
    )
    application.add_handler(CallbackQueryHandler(ask_cancel, pattern=ASK_CANCEL.pattern))
    application.add_handler(
        CallbackQueryHandler(confirm_cancel, pattern=CONFIRM_CANCEL.pattern)
    )
    application.add_handler(CallbackQueryHandler(keep, pattern=KEEP.pattern))

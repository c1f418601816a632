"""Monthly donors see their monthly gifts and can stop one, which cancels it at Stripe."""

from __future__ import annotations

import logging
import re

import stripe
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot.context import CampaignApplication, CampaignContext
from bot.donations.monthly_gifts import MonthlyGift
from bot.i18n import money
from handlers.donate import MANAGE_MONTHLY

log = logging.getLogger(__name__)

SUBSCRIPTION = "(sub_[A-Za-z0-9_]{1,60})"
ASK_CANCEL = re.compile(f"^don:c:{SUBSCRIPTION}$")
CONFIRM_CANCEL = re.compile(f"^don:cy:{SUBSCRIPTION}$")
KEEP = "don:cn"


async def list_monthly(update: Update, context: CampaignContext) -> None:
    """One line and one Stop button per active monthly gift."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    locale = await context.locale_for(update)
    gifts = await context.monthly.active(query.from_user.id)
    if not gifts:
        await context.bot.send_message(
            query.from_user.id, context.text(locale, "donate-monthly-none")
        )
        return
    lines = [context.text(locale, "donate-monthly-list")]
    buttons = []
    for gift in gifts:
        amount = money(gift.amount, gift.currency)
        lines.append(context.text(locale, "donate-monthly-item", amount=amount))
        buttons.append([InlineKeyboardButton(
            context.text(locale, "donate-monthly-cancel-button", amount=amount),
            callback_data=f"don:c:{gift.subscription_id}",
        )])
    await context.bot.send_message(
        query.from_user.id, "\n".join(lines), reply_markup=InlineKeyboardMarkup(buttons)
    )


async def _tapped_gift(
    update: Update, context: CampaignContext, pattern: re.Pattern[str]
) -> tuple[CallbackQuery, str, MonthlyGift] | None:
    """The gift a button names, only if it is the tapping user's and still active (callback
    data can be forged); anyone else gets a polite alert."""
    query = update.callback_query
    if query is None or query.data is None or (match := pattern.match(query.data)) is None:
        return None
    locale = await context.locale_for(update)
    for gift in await context.monthly.active(query.from_user.id):
        if gift.subscription_id == match[1]:
            return query, locale, gift
    await query.answer(context.text(locale, "donate-not-yours"), show_alert=True)
    return None


async def ask_cancel(update: Update, context: CampaignContext) -> None:
    """Ask for confirmation before stopping a monthly gift."""
    tapped = await _tapped_gift(update, context, ASK_CANCEL)
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
                callback_data=f"don:cy:{gift.subscription_id}",
            ),
            InlineKeyboardButton(
                context.text(locale, "donate-monthly-confirm-no"), callback_data=KEEP
            ),
        ]]),
    )


async def confirm_cancel(update: Update, context: CampaignContext) -> None:
    """Cancel the subscription at Stripe, then forget it locally."""
    tapped = await _tapped_gift(update, context, CONFIRM_CANCEL)
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
    application.add_handler(CallbackQueryHandler(list_monthly, pattern=f"^{MANAGE_MONTHLY}$"))
    application.add_handler(CallbackQueryHandler(ask_cancel, pattern=ASK_CANCEL))
    application.add_handler(CallbackQueryHandler(confirm_cancel, pattern=CONFIRM_CANCEL))
    application.add_handler(CallbackQueryHandler(keep, pattern=f"^{KEEP}$"))

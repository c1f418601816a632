"""Change a monthly gift's amount: a preset or a typed amount, confirmed, from the next payment."""

from __future__ import annotations

import stripe
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.ext import CallbackQueryHandler

from bot.botapi.callback_data import CallbackFormat
from bot.context import CampaignApplication, CampaignContext
from bot.donations.fees import covered_fee
from bot.donations.monthly_gifts import MonthlyGift, stripe_time
from bot.donations.stripe_client import donor_action_key
from bot.i18n import money
from bot.money import STRIPE_MINIMUM_MINOR
from handlers import donate
from handlers.monthly import (
    CHANGE,
    SUBSCRIPTION,
    keep_button,
    local_date,
    own_gift,
    stripe_refused,
)

AMOUNT = "[0-9]{1,9}"
CHANGE_TO = CallbackFormat("mon:at", subscription=SUBSCRIPTION, amount=AMOUNT)
CHANGE_OTHER = CallbackFormat("mon:ao", subscription=SUBSCRIPTION)
CONFIRM_CHANGE = CallbackFormat("mon:ay", subscription=SUBSCRIPTION, amount=AMOUNT)
AWAITING_AMOUNT = "monthly-amount:"


@own_gift
async def ask_amount(
    query: CallbackQuery, context: CampaignContext, locale: str, gift: MonthlyGift
) -> None:
    """The presets (but the current amount), another amount, or keep it as it is."""
    await query.answer()
    campaign = context.settings.campaign
    presets = [
        InlineKeyboardButton(
            context.text(
                locale, "donate-button-amount-monthly", amount=money(amount, campaign.currency)
            ),
            callback_data=CHANGE_TO.data(subscription=gift.subscription_id, amount=amount),
        )
        for amount in campaign.preset_amounts if amount != gift.amount
    ]
    rows = [presets[i : i + 3] for i in range(0, len(presets), 3)]
    rows.append([
        InlineKeyboardButton(
            context.text(locale, "monthly-change-other"),
            callback_data=CHANGE_OTHER.data(subscription=gift.subscription_id),
        ),
        keep_button(context, locale),
    ])
    await query.edit_message_text(
        context.text(locale, "monthly-change-prompt", amount=money(gift.amount, gift.currency)),
        reply_markup=InlineKeyboardMarkup(rows),
    )


def _confirmation(
    context: CampaignContext, locale: str, gift: MonthlyGift, amount: int
) -> tuple[str, InlineKeyboardMarkup]:
    shown = {
        "amount": money(amount, gift.currency), "sum": money(gift.amount, gift.currency),
        "date": local_date(context, locale, gift.next_payment),
    }
    if gift.fee:
        # The fee moves with the amount (Payments.change_amount): the card pays both.
        text = context.text(
            locale, "monthly-change-confirm-with-fee", **shown,
            fee=money(context.settings.campaign.fees.cover(amount), gift.currency),
            fees=money(gift.fee, gift.currency),  # what the card pays on top today
        )
    else:
        text = context.text(locale, "monthly-change-confirm", **shown)
    return text, InlineKeyboardMarkup([[
        InlineKeyboardButton(
            context.text(locale, "monthly-change-confirm-yes"),
            callback_data=CONFIRM_CHANGE.data(subscription=gift.subscription_id, amount=amount),
        ),
        keep_button(context, locale),
    ]])


@own_gift
async def preset_chosen(
    query: CallbackQuery, context: CampaignContext, locale: str, gift: MonthlyGift
) -> None:
    """A preset was tapped: ask to confirm."""
    amount = int(context.matched("amount"))
    if amount not in context.settings.campaign.preset_amounts:
        # Only amounts the bot itself offered: a forged button must not bypass the bounds.
        await query.answer(context.text(locale, "common-button-expired"), show_alert=True)
        return
    await query.answer()
    text, markup = _confirmation(context, locale, gift, amount)
    await query.edit_message_text(text, reply_markup=markup)


@own_gift
async def ask_typed(
    query: CallbackQuery, context: CampaignContext, locale: str, gift: MonthlyGift
) -> None:
    """Ask for the new amount to be typed, within the campaign's bounds."""
    await query.answer()
    campaign = context.settings.campaign
    await context.users.expect_input(
        query.from_user.id, f"{AWAITING_AMOUNT}{gift.subscription_id}"
    )
    await context.bot.send_message(
        query.from_user.id,
        context.text(
            locale, "monthly-change-other-prompt",
            min=money(campaign.custom_min, campaign.currency),
            max=money(campaign.custom_max, campaign.currency),
        ),
        reply_markup=donate.cancel_button(context, locale),
    )


async def amount_typed(
    message: Message, context: CampaignContext, locale: str, expected: str
) -> None:
    """A typed new amount: refused with one line as /donate does, or asked to confirm."""
    user = message.from_user
    if user is None:
        return
    amount = await donate.read_typed_amount(message, context, locale)
    if amount is None:
        return
    await context.users.clear_expected_input(user.id)
    subscription_id = expected.removeprefix(AWAITING_AMOUNT)
    gift = next(
        (gift for gift in await context.monthly.active(user.id)
         if gift.subscription_id == subscription_id),
        None,
    )
    if gift is None:
        # Ended (or forgotten) while the donor was typing.
        await message.reply_text(context.text(locale, "monthly-gift-ended"))
        return
    if amount == gift.amount:
        await message.reply_text(
            context.text(locale, "monthly-change-same", amount=money(amount, gift.currency))
        )
        return
    text, markup = _confirmation(context, locale, gift, amount)
    await message.reply_text(text, reply_markup=markup)


def _allowed(context: CampaignContext, amount: int) -> bool:
    """A preset, or an amount a donor could have typed: forged data must not bypass either."""
    campaign = context.settings.campaign
    if amount in campaign.preset_amounts:
        return True
    lowest = max(campaign.custom_min, STRIPE_MINIMUM_MINOR)
    return lowest <= amount <= campaign.custom_max


@own_gift
async def confirm(
    query: CallbackQuery, context: CampaignContext, locale: str, gift: MonthlyGift
) -> None:
    """Swap the price at Stripe, from the next payment on, then say so."""
    amount = int(context.matched("amount"))
    if not _allowed(context, amount) or query.message is None:
        await query.answer(context.text(locale, "common-button-expired"), show_alert=True)
        return
    if amount == gift.amount:
        # A second tap after the first one's change: nothing left to do.
        await query.answer()
        await query.edit_message_text(
            context.text(locale, "monthly-change-same", amount=money(amount, gift.currency))
        )
        return
    key = donor_action_key(
        "change", query.from_user.id, query.message.message_id, gift.subscription_id, amount,
        gift.version,
    )
    try:
        changed = await context.payments.change_amount(
            gift.subscription_id, amount, gift.currency, context.settings.campaign.fees, key
        )
    except stripe.StripeError as error:
        await stripe_refused(query, context, locale, gift, "change", error)
        return
    await context.monthly.apply(changed, stripe_time())
    await query.answer()
    fee = covered_fee(changed.metadata)
    await query.edit_message_text(context.text(
        locale, "monthly-changed-with-fee" if fee else "monthly-changed",
        amount=money(amount, gift.currency), fee=money(fee, gift.currency),
        date=local_date(context, locale, changed.current_period_end or gift.next_payment),
    ))


def register(application: CampaignApplication) -> None:
    application.add_handler(CallbackQueryHandler(ask_amount, pattern=CHANGE.pattern))
    application.add_handler(CallbackQueryHandler(preset_chosen, pattern=CHANGE_TO.pattern))
    application.add_handler(CallbackQueryHandler(ask_typed, pattern=CHANGE_OTHER.pattern))
    application.add_handler(CallbackQueryHandler(confirm, pattern=CONFIRM_CHANGE.pattern))

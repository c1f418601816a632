"""Monthly donors see their monthly gifts and manage each: change, pause, card, or stop it.

The view and the stop are here; changing the amount is in handlers/monthly_change, pausing,
resuming and the card page in handlers/monthly_pause.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

import stripe
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot.botapi.callback_data import CallbackFormat
from bot.context import CampaignApplication, CampaignContext
from bot.donations.monthly_gifts import MonthlyGift
from bot.donations.stripe_objects import ENDED_STATUSES
from bot.i18n import long_date, money
from handlers.donate import MANAGE_MONTHLY

log = logging.getLogger(__name__)

SUBSCRIPTION = "sub_[A-Za-z0-9_]{1,60}"
ASK_CANCEL = CallbackFormat("don:c", subscription=SUBSCRIPTION)
CONFIRM_CANCEL = CallbackFormat("don:cy", subscription=SUBSCRIPTION)
KEEP = CallbackFormat("don:cn")
CHANGE = CallbackFormat("mon:a", subscription=SUBSCRIPTION)
PAUSE = CallbackFormat("mon:p", subscription=SUBSCRIPTION)
RESUME = CallbackFormat("mon:r", subscription=SUBSCRIPTION)
CARD = CallbackFormat("mon:k", subscription=SUBSCRIPTION)


# A next payment Stripe has not told yet (gifts linked before the bot kept it): the messages
# that take a payment date read it as "the next payment".
UNKNOWN_DATE = "next"


def local_date(context: CampaignContext, locale: str, epoch: int | None) -> str:
    """A day as the donor reads it ("1 December 2026", "1er décembre 2026"), in the campaign's
    time zone; UNKNOWN_DATE when Stripe has not told it yet."""
    if epoch is None:
        return UNKNOWN_DATE
    day = datetime.fromtimestamp(epoch, context.settings.campaign.timezone).date()
    return long_date(day, locale)


def gift_text(context: CampaignContext, locale: str, gift: MonthlyGift) -> str:
    """One gift's lines: amount (and the fee covered), next payment or pause, since when and
    how much so far; a line whose date is not known yet is left out."""
    amount, given = money(gift.amount, gift.currency), money(gift.given, gift.currency)
    if gift.paused and gift.paused_until is not None:
        lines = [context.text(
            locale, "monthly-gift-paused", amount=amount,
            date=local_date(context, locale, gift.paused_until),
        )]
    elif gift.paused:
        lines = [context.text(locale, "monthly-gift-paused-indefinitely", amount=amount)]
    else:
        lines = [
            context.text(
                locale, "monthly-gift-title-with-fee", amount=amount,
                fee=money(gift.fee, gift.currency),
            ) if gift.fee else context.text(locale, "monthly-gift-title", amount=amount)
        ]
        if gift.next_payment is not None:
            lines.append(context.text(
                locale, "monthly-gift-next", date=local_date(context, locale, gift.next_payment)
            ))
    if gift.since is None:
        lines.append(context.text(locale, "monthly-gift-given", sum=given))
    else:
        lines.append(context.text(
            locale, "monthly-gift-since", when=local_date(context, locale, gift.since), sum=given
        ))
    return "\n".join(lines)


def _gift_buttons(
    context: CampaignContext, locale: str, gift: MonthlyGift, several: bool
) -> list[list[InlineKeyboardButton]]:
    amount = money(gift.amount, gift.currency)

    def button(message_id: str, data: str) -> InlineKeyboardButton:
        label = context.text(locale, message_id)
        if several:
            # Which gift each button is for, when there is more than one.
            label = context.text(locale, "monthly-button-for", amount=amount, label=label)
        return InlineKeyboardButton(label, callback_data=data)

    sub = gift.subscription_id
    pause_or_resume = (
        button("monthly-button-resume", RESUME.data(subscription=sub)) if gift.paused
        else button("monthly-button-pause", PAUSE.data(subscription=sub))
    )
    return [
        [button("monthly-button-change", CHANGE.data(subscription=sub)), pause_or_resume],
        [
            button("monthly-button-card", CARD.data(subscription=sub)),
            InlineKeyboardButton(
                context.text(locale, "donate-monthly-cancel-button", amount=amount),
                callback_data=ASK_CANCEL.data(subscription=sub),
            ),
        ],
    ]


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
        lines += ["", gift_text(context, locale, gift)]
        buttons += _gift_buttons(context, locale, gift, several=len(gifts) > 1)
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


async def list_monthly(update: Update, context: CampaignContext) -> None:
    """Each active monthly gift with its buttons."""
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


async def tapped_gift(
    update: Update, context: CampaignContext
) -> tuple[CallbackQuery, str, MonthlyGift] | None:
    """The gift a button names, only if it is the tapping user's and still active (callback
    data can be forged); anyone else gets a polite alert, and its own donor is told it ended."""
    query = update.callback_query
    if query is None:
        return None
    locale = await context.locale_for(update)
    subscription_id = context.matched("subscription")
    for gift in await context.monthly.active(query.from_user.id):
        if gift.subscription_id == subscription_id:
            return query, locale, gift
    owner = await context.monthly.owner(subscription_id)
    refusal = "monthly-gift-ended" if owner == query.from_user.id else "donate-not-yours"
    await query.answer(context.text(locale, refusal), show_alert=True)
    return None


GiftButton = Callable[[CallbackQuery, CampaignContext, str, MonthlyGift], Awaitable[None]]


def own_gift(
    handler: GiftButton,
) -> Callable[[Update, CampaignContext], Coroutine[Any, Any, None]]:
    """A button's handler, run only for the tapping donor's own active gift (tapped_gift)."""

    @functools.wraps(handler)
    async def checked(update: Update, context: CampaignContext) -> None:
        tapped = await tapped_gift(update, context)
        if tapped is not None:
            query, locale, gift = tapped
            await handler(query, context, locale, gift)

    return checked


async def stripe_refused(
    query: CallbackQuery, context: CampaignContext, locale: str, gift: MonthlyGift,
    action: str, error: stripe.StripeError,
) -> None:
    """Stripe refused the change or could not be reached, after the SDK's retries: nothing
    changed. A gift Stripe ended without the bot hearing of it yet is ended here and said so;
    otherwise the donor is told to try again."""
    if isinstance(error, stripe.InvalidRequestError):
        try:
            status = (await context.payments.subscription(gift.subscription_id)).status
        except stripe.StripeError:
            status = None
        if status in ENDED_STATUSES:
            log.info("monthly gift %s refused: ended at stripe", action)
            await context.monthly.end(gift.subscription_id)
            await query.answer(context.text(locale, "monthly-gift-ended"), show_alert=True)
            return
    log.error(
        "monthly gift %s failed error=%s request_id=%s",
        action, type(error).__name__, getattr(error, "request_id", None),
    )
    await query.answer(context.text(locale, "donate-unavailable"), show_alert=True)


@own_gift
async def ask_cancel(
    query: CallbackQuery, context: CampaignContext, locale: str, gift: MonthlyGift
) -> None:
    """Ask for confirmation before stopping a monthly gift."""
    await query.answer()
    amount = money(gift.amount, gift.currency)
    await query.edit_message_text(
        context.text(locale, "donate-monthly-confirm", amount=amount),
        reply_markup=InlineKeyboardMarkup([[
            InlineKeyboardButton(
                context.text(locale, "donate-monthly-confirm-yes"),
                callback_data=CONFIRM_CANCEL.data(subscription=gift.subscription_id),
            ),
            keep_button(context, locale),
        ]]),
    )


def keep_button(context: CampaignContext, locale: str) -> InlineKeyboardButton:
    """Leave the gift as it is (under every question about it)."""
    return InlineKeyboardButton(
        context.text(locale, "donate-monthly-confirm-no"), callback_data=KEEP.data()
    )


@own_gift
async def confirm_cancel(
    query: CallbackQuery, context: CampaignContext, locale: str, gift: MonthlyGift
) -> None:
    """Cancel the subscription at Stripe, then forget it locally."""
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

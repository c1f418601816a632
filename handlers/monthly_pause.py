"""Pause a monthly gift for 1 to 3 months or resume it, the day-before reminder, and the card."""

from __future__ import annotations

import stripe
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler

from bot.botapi.callback_data import CallbackFormat
from bot.context import CampaignApplication, CampaignContext
from bot.donations.monthly_gifts import MonthlyGift, add_months, stripe_time
from bot.donations.outbox import Notice, NoticeData, NoticeKind
from bot.donations.stripe_client import donor_action_key, portal_return_url
from bot.i18n import money
from handlers.monthly import (
    CARD,
    PAUSE,
    RESUME,
    SUBSCRIPTION,
    keep_button,
    local_date,
    own_gift,
    stripe_refused,
)

PAUSE_FOR = CallbackFormat("mon:pm", subscription=SUBSCRIPTION, months="[1-3]")
DAY = 86_400
# Collection resumes just before the first payment after the pause, so that payment is taken
# and the day-before reminder comes the day before it.
RESUME_AHEAD_SECONDS = 3600
# How often paused gifts are looked at for the reminder: well within its day.
REMINDER_TICK_SECONDS = 3600
# A card page is short-lived: a tap minutes later asks Stripe for a fresh one.
CARD_PAGE_SECONDS = 300


@own_gift
async def ask_months(
    query: CallbackQuery, context: CampaignContext, locale: str, gift: MonthlyGift
) -> None:
    """For how long: 1, 2 or 3 months."""
    if gift.paused:
        await query.answer(context.text(locale, "monthly-already-paused"), show_alert=True)
        return
    await query.answer()
    months = [
        InlineKeyboardButton(
            context.text(locale, "monthly-pause-months", count=count),
            callback_data=PAUSE_FOR.data(subscription=gift.subscription_id, months=count),
        )
        for count in (1, 2, 3)
    ]
    await query.edit_message_text(
        context.text(locale, "monthly-pause-prompt", amount=money(gift.amount, gift.currency)),
        reply_markup=InlineKeyboardMarkup([months, [keep_button(context, locale)]]),
    )


@own_gift
async def pause_for(
    query: CallbackQuery, context: CampaignContext, locale: str, gift: MonthlyGift
) -> None:
    """Pause collection at Stripe until just before the payment `months` payments away."""
    if gift.paused or query.message is None:
        await query.answer(context.text(locale, "monthly-already-paused"), show_alert=True)
        return
    months = int(context.matched("months"))
    key = donor_action_key(
        "pause", query.from_user.id, query.message.message_id, gift.subscription_id, months,
        gift.version,
    )
    try:
        # Stripe's own period, so that a double tap asks for the very same pause.
        current = await context.payments.subscription(gift.subscription_id)
        next_payment = current.current_period_end or gift.next_payment or stripe_time()
        resumes_at = add_months(next_payment, months) - RESUME_AHEAD_SECONDS
        paused = await context.payments.pause(gift.subscription_id, resumes_at, key)
    except stripe.StripeError as error:
        await stripe_refused(query, context, locale, gift, "pause", error)
        return
    await context.monthly.apply(paused, stripe_time())
    await query.answer()
    await query.edit_message_text(context.text(
        locale, "monthly-paused", amount=money(gift.amount, gift.currency),
        date=local_date(context, locale, paused.resumes_at or resumes_at),
    ))


@own_gift
async def resume(
    query: CallbackQuery, context: CampaignContext, locale: str, gift: MonthlyGift
) -> None:
    """Collect again from the next payment on."""
    if not gift.paused or query.message is None:
        await query.answer(context.text(locale, "monthly-not-paused"), show_alert=True)
        return
    key = donor_action_key(
        "resume", query.from_user.id, query.message.message_id, gift.subscription_id,
        gift.version,
    )
    try:
        resumed = await context.payments.resume(gift.subscription_id, key)
    except stripe.StripeError as error:
        await stripe_refused(query, context, locale, gift, "resume", error)
        return
    await context.monthly.apply(resumed, stripe_time())
    await query.answer()
    await query.edit_message_text(context.text(
        locale, "monthly-resumed", amount=money(gift.amount, gift.currency),
        date=local_date(context, locale, resumed.current_period_end),
    ))


@own_gift
async def card_page(
    query: CallbackQuery, context: CampaignContext, locale: str, gift: MonthlyGift
) -> None:
    """A link to Stripe's page for this gift's card, in the donor's language."""
    if query.message is None:
        return
    try:
        # Gifts linked before the bot kept customers: Stripe's subscription names it.
        customer = gift.customer or (
            await context.payments.subscription(gift.subscription_id)
        ).customer
        if customer is None:
            await query.answer(
                context.text(locale, "monthly-card-no-customer"), show_alert=True
            )
            return
        back = portal_return_url(
            context.settings.http.public_url, context.bot.username, locale
        )
        # The page's language and return address are its parameters: after a change of
        # language the same key would be another request, which Stripe refuses.
        key = donor_action_key(
            "card", query.from_user.id, query.message.message_id, gift.subscription_id,
            stripe_time() // CARD_PAGE_SECONDS, locale, back,
        )
        url = await context.payments.card_page(customer, locale, back, key)
    except stripe.StripeError as error:
        await stripe_refused(query, context, locale, gift, "card page", error)
        return
    await query.answer()
    await context.bot.send_message(
        query.from_user.id, context.text(locale, "monthly-card-link"),
        reply_markup=InlineKeyboardMarkup([[
            InlineKeyboardButton(context.text(locale, "monthly-card-button"), url=url)
        ]]),
    )


async def remind_resumptions(context: CampaignContext) -> None:
    """Job: the day before Stripe resumes a paused gift by itself, tell its donor, once: the
    notice's id names the gift and the moment, so every process asking queues it only once."""
    now = context.services.clock.now()
    for gift in await context.monthly.resuming_between(now, now + DAY):
        # The language the donor chose since, if they did, over the one they gave in.
        locale = await context.users.chosen_locale(gift.user_id) or gift.locale
        await context.services.notices.queue(Notice(
            f"resuming:{gift.subscription_id}:{gift.resumes_at}", NoticeKind.MONTHLY_RESUMING,
            gift.user_id, locale, NoticeData(amount=gift.amount),
        ))


def register(application: CampaignApplication) -> None:
    application.add_handler(CallbackQueryHandler(ask_months, pattern=PAUSE.pattern))
    application.add_handler(CallbackQueryHandler(pause_for, pattern=PAUSE_FOR.pattern))
    application.add_handler(CallbackQueryHandler(resume, pattern=RESUME.pattern))
    application.add_handler(CallbackQueryHandler(card_page, pattern=CARD.pattern))
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            remind_resumptions, interval=REMINDER_TICK_SECONDS, first=10,
            name="monthly-resume-reminders",
        )

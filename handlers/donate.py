"""/donate: preset or typed amount, one-off or monthly, answered with a Stripe Checkout link."""

from __future__ import annotations

import asyncio
import functools
import logging
from enum import Enum
from typing import NamedTuple

import stripe
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.context import CampaignApplication, CampaignContext
from bot.donations.impact import impact_lines
from bot.donations.stripe_client import Frequency, Pledge, return_urls
from bot.i18n import Localizer, money
from bot.money import STRIPE_MINIMUM_MINOR, AmountProblem, AmountRefused, parse_amount
from bot.reports.receipts import tax_receipt_line
from handlers import callbacks
from handlers.campaign_over import campaign_over, tell_over
from handlers.need_choice import chosen_need, need_row

log = logging.getLogger(__name__)

FREQUENCY = "|".join(option.value for option in Frequency)
SET_FREQUENCY = CallbackFormat("don:f", frequency=FREQUENCY)
PRESET = CallbackFormat("don:a", frequency=FREQUENCY, amount="[0-9]{1,9}")
OTHER = CallbackFormat("don:o", frequency=FREQUENCY)
# Also under the words-of-support prompt (handlers/thanks): one button stops either wait.
CANCEL_TYPING = CallbackFormat("don:x")
# On /donate menus sent before /mygift, which still list the monthly gifts (handlers/monthly).
MANAGE_MONTHLY = CallbackFormat("don:m")
# On the link message: 1 asks for a Checkout with the card fee covered, 0 for the gift alone.
COVER_FEES = CallbackFormat("don:c", frequency=FREQUENCY, amount="[0-9]{1,9}", covered="[01]")
AWAITING_AMOUNT = "amount:"

_AMOUNT_ERRORS = {
    AmountProblem.NOT_A_NUMBER: "donate-amount-invalid",
    AmountProblem.TOO_SMALL: "donate-amount-too-small",
    # Nothing or less: the smallest gift is the answer that helps.
    AmountProblem.NOT_POSITIVE: "donate-amount-too-small",
    AmountProblem.TOO_LARGE: "donate-amount-too-large",
}


def cancel_button(context: CampaignContext, locale: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(context.text(locale, "common-button-cancel"),
                               callback_data=CANCEL_TYPING.data())]]
    )


async def donate_menu(
    context: CampaignContext, locale: str, user: User, frequency: Frequency
) -> tuple[str, InlineKeyboardMarkup]:
    """The amount picker for one frequency, with the frequency switch above it."""
    campaign = context.settings.campaign
    suffix = "-monthly" if frequency is Frequency.MONTHLY else ""

    def frequency_button(option: Frequency) -> InlineKeyboardButton:
        label = context.text(locale, f"donate-button-{option.value}")
        if option is frequency:
            label = context.text(locale, "donate-button-selected", label=label)
        return InlineKeyboardButton(
            label, callback_data=SET_FREQUENCY.data(frequency=option.value)
        )

    amounts = [
        InlineKeyboardButton(
            context.text(
                locale, f"donate-button-amount{suffix}", amount=money(amount, campaign.currency)
            ),
            callback_data=PRESET.data(frequency=frequency.value, amount=amount),
        )
        for amount in campaign.preset_amounts
    ]
    rows = [[frequency_button(Frequency.ONCE), frequency_button(Frequency.MONTHLY)]]
    rows += [amounts[i : i + 3] for i in range(0, len(amounts), 3)]
    rows.append([InlineKeyboardButton(
        context.text(locale, "donate-button-other"),
        callback_data=OTHER.data(frequency=frequency.value),
    )])
    need_buttons = await need_row(context, locale, user, frequency)
    if need_buttons:
        rows.append(need_buttons)
    if await context.gifts.has_given(user.id):
        rows.append([InlineKeyboardButton(
            context.text(locale, "mygift-button"), callback_data=callbacks.MY_GIFTS.data()
        )])
    text = context.text(locale, "donate-prompt", frequency=frequency.value)
    text += "\n" + tax_receipt_line(context.l10n, campaign.receipt_issuer, locale)
    text += impact_lines(context.l10n, campaign.impact, campaign.currency, locale)
    return text, InlineKeyboardMarkup(rows)


async def donate(update: Update, context: CampaignContext) -> None:
    """Show the amount picker (one-off selected)."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    state = await context.state_of(user)
    locale = state.locale
    if state.awaiting is not None:
        await context.users.clear_expected_input(user.id)
    if await campaign_over(context, user):
        await tell_over(context, chat.id, locale)
        return
    text, markup = await donate_menu(context, locale, user, Frequency.ONCE)
    await context.bot.send_message(chat.id, text, reply_markup=markup)


async def switch_frequency(update: Update, context: CampaignContext) -> None:
    """Redraw the picker for one-off or monthly giving."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    locale = await context.locale_for(update)
    text, markup = await donate_menu(
        context, locale, query.from_user, Frequency(context.matched("frequency"))
    )
    await query.edit_message_text(text, reply_markup=markup)


async def preset_amount(update: Update, context: CampaignContext) -> None:
    """A preset amount was tapped: answer with the Checkout link."""
    query = update.callback_query
    if query is None:
        return
    amount = int(context.matched("amount"))
    locale = await context.locale_for(update)
    if amount not in context.settings.campaign.preset_amounts or query.message is None:
        # Only amounts the bot itself offered: a forged button must not bypass the bounds.
        await query.answer(context.text(locale, "common-button-expired"), show_alert=True)
        return
    frequency = Frequency(context.matched("frequency"))
    # The tap's answer travels to Telegram while Stripe makes the session; the link (or the
    # reason there is none) goes once both are done, as it went after the answer before.
    answering = asyncio.ensure_future(query.answer())
    try:
        link = await checkout_link(
            context, query.from_user, locale, amount, frequency, query.message.message_id
        )
    finally:
        await answering
    await send_offer(context, query.from_user, locale, amount, frequency, link)


# Registered below, and asked by handlers/gate whether an update is a tap on an amount.
AMOUNT_TAP = CallbackQueryHandler(preset_amount, pattern=PRESET.pattern)


def asks_for_session(update: Update) -> bool:
    """Whether the update is a tap on an amount, which asks for a Checkout Session."""
    return bool(AMOUNT_TAP.check_update(update))


async def other_amount(update: Update, context: CampaignContext) -> None:
    """Ask the user to type an amount."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    locale = await context.locale_for(update)
    campaign = context.settings.campaign
    frequency = context.matched("frequency")
    if await campaign_over(context, query.from_user):
        await tell_over(context, query.from_user.id, locale)
        return
    await context.users.expect_input(query.from_user.id, f"{AWAITING_AMOUNT}{frequency}")
    await context.bot.send_message(
        query.from_user.id,
        context.text(
            locale, "donate-other-prompt",
            min=money(campaign.custom_min, campaign.currency),
            max=money(campaign.custom_max, campaign.currency),
        ),
        reply_markup=cancel_button(context, locale),
    )


async def amount_typed(
    message: Message, context: CampaignContext, locale: str, expected: str
) -> None:
    """An amount typed after "Other amount": refused with one line, or answered with the link."""
    user = message.from_user
    if user is None:
        return
    frequency = Frequency(expected.removeprefix(AWAITING_AMOUNT))
    amount = await read_typed_amount(message, context, locale)
    if amount is None:
        return
    await context.users.clear_expected_input(user.id)
    await offer_checkout(context, user, locale, amount, frequency, message.message_id)


async def read_typed_amount(
    message: Message, context: CampaignContext, locale: str
) -> int | None:
    """The typed amount within the campaign's bounds, or None once told in one line why not."""
    campaign = context.settings.campaign
    try:
        return parse_amount(
            message.text or "", minimum=campaign.custom_min, maximum=campaign.custom_max
        )
    except AmountRefused as refused:
        await message.reply_text(
            context.text(
                locale, _AMOUNT_ERRORS[refused.problem],
                min=money(campaign.custom_min, campaign.currency),
                max=money(campaign.custom_max, campaign.currency),
            ),
            reply_markup=cancel_button(context, locale),
        )
        return None


async def cancel_typing(update: Update, context: CampaignContext) -> None:
    """Stop waiting for a typed amount or words."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    locale = await context.locale_for(update)
    await context.users.clear_expected_input(query.from_user.id)
    await query.edit_message_text(context.text(locale, "common-cancelled"))


class Refusal(Enum):
    """Why a pledge got no Checkout link."""

    # CHECKOUT_SESSIONS_PER_MINUTE reached: no session was asked for.
    BUSY = "donate-busy"
    # Stripe refused or could not be reached, after the SDK's retries.
    UNAVAILABLE = "donate-unavailable"
    # The campaign is over (handlers/campaign_over): no session was asked for.
    ENDED = "closing-over"


async def offer_checkout(
    context: CampaignContext, user: User, locale: str, amount: int, frequency: Frequency,
    origin_message_id: int, gifts_made: int | None = None,
) -> None:
    """Create the Checkout Session for a pledge and send its link as a button."""
    link = await checkout_link(
        context, user, locale, amount, frequency, origin_message_id, gifts_made=gifts_made
    )
    await send_offer(context, user, locale, amount, frequency, link)


async def checkout_link(
    context: CampaignContext, user: User, locale: str, amount: int, frequency: Frequency,
    origin_message_id: int, covered_fee: int = 0, gifts_made: int | None = None,
) -> str | Refusal:
    """The URL of the pledge's Checkout Session, or why there is none."""
    state = await context.state_of(user)
    if await campaign_over(context, user):
        return Refusal.ENDED
    cap = context.checkout_cap
    # A tap on an amount counted its session as it was read; a typed amount counts it now.
    if not (cap.verdict(state.sessions) if state.sessions else await cap.take()):
        return Refusal.BUSY
    settings = context.settings
    need = await chosen_need(context, user)
    pledge = Pledge(
        user_id=user.id, amount=amount, currency=settings.campaign.currency, frequency=frequency,
        locale=locale, origin_message_id=origin_message_id, referral=state.referral,
        covered_fee=covered_fee, collect_address=settings.campaign.receipt_issuer is not None,
        need=need.need_id if need else None, gifts_made=gifts_made,
    )
    texts = offer_texts(context.l10n, settings.campaign.currency, locale, amount, frequency)
    urls = landing_pages(settings.http.public_url, context.bot.username, locale)
    try:
        return await context.payments.create_checkout(
            pledge, urls, texts.product, context.text(locale, "fees-line-name")
        )
    except stripe.StripeError as exc:
        # The SDK already retried; the type and Stripe's request id are enough to investigate.
        log.error(
            "checkout session failed user_id=%s error=%s request_id=%s",
            user.id, type(exc).__name__, getattr(exc, "request_id", None),
        )
        return Refusal.UNAVAILABLE


async def send_offer(
    context: CampaignContext, user: User, locale: str, amount: int, frequency: Frequency,
    link: str | Refusal,
) -> None:
    """The link as a button, or the reason there is none."""
    if link is Refusal.BUSY:
        # No session: the button opens the amounts again for when the minute has passed.
        await context.bot.send_message(
            user.id, context.text(locale, link.value),
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(
                context.text(locale, "start-button-donate"),
                callback_data=callbacks.DONATE.data(),
            )]]),
        )
        return
    if link is Refusal.ENDED:
        await tell_over(context, user.id, locale)
        return
    if link is Refusal.UNAVAILABLE:
        await context.bot.send_message(user.id, context.text(locale, link.value))
        return
    text, markup = offer_message(context, locale, amount, frequency, link, covered_fee=0)
    await context.bot.send_message(user.id, text, reply_markup=markup)


def offer_message(
    context: CampaignContext, locale: str, amount: int, frequency: Frequency, link: str,
    covered_fee: int,
) -> tuple[str, InlineKeyboardMarkup]:
    """The link message: the Checkout button, then the switch to cover the card fee or not."""
    campaign = context.settings.campaign
    texts = offer_texts(context.l10n, campaign.currency, locale, amount + covered_fee, frequency)
    rows = [[InlineKeyboardButton(texts.button, url=link)]]
    fee = covered_fee or campaign.fees.cover(amount)
    if not fee:
        # A campaign that set no fee has nothing to offer to cover.
        return texts.link, InlineKeyboardMarkup(rows)
    shown = {"fee": money(fee, campaign.currency), "amount": money(amount, campaign.currency)}
    text = texts.link
    if covered_fee:
        text += "\n" + context.text(locale, "fees-link-covered", **shown)
    rows.append([InlineKeyboardButton(
        context.text(locale, "fees-toggle-remove" if covered_fee else "fees-toggle-add", **shown),
        callback_data=COVER_FEES.data(
            frequency=frequency.value, amount=amount, covered=0 if covered_fee else 1
        ),
    )])
    return text, InlineKeyboardMarkup(rows)


async def toggle_fees(update: Update, context: CampaignContext) -> None:
    """Cover the card fee or stop covering it: the link message gets the matching Checkout."""
    query = update.callback_query
    if query is None:
        return
    campaign = context.settings.campaign
    amount = int(context.matched("amount"))
    locale = await context.locale_for(update)
    # Forged data must not reach Stripe with an amount the bot would not have offered.
    offered = amount in campaign.preset_amounts or (
        max(campaign.custom_min, STRIPE_MINIMUM_MINOR) <= amount <= campaign.custom_max
    )
    if not offered or query.message is None:
        await query.answer(context.text(locale, "common-button-expired"), show_alert=True)
        return
    frequency = Frequency(context.matched("frequency"))
    covered_fee = campaign.fees.cover(amount) if context.matched("covered") == "1" else 0
    answering = asyncio.ensure_future(query.answer())
    try:
        # The link message is the pledge's origin: a double tap gets the same session back.
        link = await checkout_link(
            context, query.from_user, locale, amount, frequency, query.message.message_id,
            covered_fee=covered_fee,
        )
    finally:
        await answering
    if isinstance(link, Refusal):
        await send_offer(context, query.from_user, locale, amount, frequency, link)
        return
    text, markup = offer_message(context, locale, amount, frequency, link, covered_fee)
    await query.edit_message_text(text, reply_markup=markup)


class OfferTexts(NamedTuple):
    """What a pledge's Checkout page and link message say."""

    product: str
    link: str
    button: str


# The same few for every pledge: one per language.
landing_pages = functools.lru_cache(maxsize=8)(return_urls)
# Pledges whose texts are kept: every preset amount, both frequencies, both languages.
OFFERS_KEPT = 64


@functools.lru_cache(maxsize=OFFERS_KEPT)
def offer_texts(
    l10n: Localizer, currency: str, locale: str, amount: int, frequency: Frequency
) -> OfferTexts:
    """The product name on Stripe's page, the link message and its button, formatted once."""
    monthly = frequency is Frequency.MONTHLY
    shown = money(amount, currency)
    return OfferTexts(
        product=l10n.format(
            locale, "donate-product-name-monthly" if monthly else "donate-product-name"
        ),
        link=l10n.format(locale, "donate-link", amount=shown, frequency=frequency.value),
        button=l10n.format(
            locale, "donate-button-pay-monthly" if monthly else "donate-button-pay", amount=shown
        ),
    )


def register(application: CampaignApplication) -> None:
    application.add_handler(CommandHandler("donate", donate))
    application.add_handler(CallbackQueryHandler(donate, pattern=callbacks.DONATE.pattern))
    application.add_handler(
        CallbackQueryHandler(switch_frequency, pattern=SET_FREQUENCY.pattern)
    )
    application.add_handler(AMOUNT_TAP)
    application.add_handler(CallbackQueryHandler(other_amount, pattern=OTHER.pattern))
    application.add_handler(CallbackQueryHandler(cancel_typing, pattern=CANCEL_TYPING.pattern))
    application.add_handler(CallbackQueryHandler(toggle_fees, pattern=COVER_FEES.pattern))

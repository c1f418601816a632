"""Notices owed to donors (thank-you, failed payment, ended gift) and the optional public words."""

from __future__ import annotations

import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler

from bot.botapi.callback_data import CallbackFormat
from bot.context import CampaignApplication, CampaignContext
from bot.donations.impact import ImpactUnit, impact_sentence
from bot.donations.outbox import Notice, NoticeKind
from bot.donations.public_text import visible_text
from bot.i18n import Localizer, money
from handlers import callbacks, donate, mygift

log = logging.getLogger(__name__)

DONATION_ID = "[A-Za-z0-9_]{1,56}"
WORDS = CallbackFormat("sup:w", donation=DONATION_ID)
NAME = CallbackFormat("sup:n", donation=DONATION_ID)
AWAITING_WORDS = "words:"
MAX_WORDS = 200
MAX_NAME = 64


def notice_message(
    l10n: Localizer, currency: str, notice: Notice, impact: tuple[ImpactUnit, ...] = ()
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons of one notice, in the donor's language (sent by bot/notice_courier)."""
    locale = notice.locale
    amount = money(int(notice.data.get("amount", 0)), currency)
    if notice.kind is NoticeKind.PAYMENT_FAILED:
        return l10n.format(locale, "donate-payment-failed", amount=amount), None
    if notice.kind is NoticeKind.MONTHLY_ENDED:
        if notice.data.get("campaign_over"):
            return l10n.format(locale, "monthly-ended-campaign-over"), None
        return l10n.format(locale, "donate-monthly-ended"), None
    if notice.kind is NoticeKind.SHARED_GIFT:
        return l10n.format(locale, "share-first-gift"), None
    if notice.kind is NoticeKind.MONTHLY_RESUMING:
        return l10n.format(locale, "monthly-resumes-tomorrow", amount=amount), None
    if notice.kind is NoticeKind.CARD_UPDATED:
        return l10n.format(locale, "monthly-card-updated"), None
    if notice.data.get("kind") == "monthly":
        renewal = notice.data.get("renewal")
        message_id = "donate-thanks-monthly-renewal" if renewal else "donate-thanks-monthly-first"
    else:
        message_id = "donate-thanks-once"
    thanks = l10n.format(locale, message_id, amount=amount)
    # Cached per amount and language: the courier formats a notice for every gift.
    what = impact_sentence(l10n, impact, currency, locale, int(notice.data.get("amount", 0)))
    if what is not None:
        thanks += f"\n{what}"
    text = f"{thanks}\n\n" + l10n.format(locale, "donate-thanks-anonymous")
    rows = [[InlineKeyboardButton(
        l10n.format(locale, "donate-thanks-follow"), callback_data=callbacks.FOLLOW.data()
    )]]
    donation_id = str(notice.data.get("donation_id", ""))
    if re.fullmatch(DONATION_ID, donation_id):
        rows.append([
            InlineKeyboardButton(
                l10n.format(locale, "donate-thanks-words"),
                callback_data=WORDS.data(donation=donation_id),
            ),
            InlineKeyboardButton(
                l10n.format(locale, "donate-thanks-name"),
                callback_data=NAME.data(donation=donation_id),
            ),
        ])
    rows += mygift.thanks_buttons(l10n, currency, notice)
    return text, InlineKeyboardMarkup(rows)


async def ask_words(update: Update, context: CampaignContext) -> None:
    """The donor wants to leave public words of support: ask for them."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    donation_id = context.matched("donation")
    if not await _is_donor(context, donation_id, query.from_user.id):
        await query.answer(context.text(locale, "donate-not-yours"), show_alert=True)
        return
    await query.answer()
    await context.users.expect_input(query.from_user.id, f"{AWAITING_WORDS}{donation_id}")
    await context.bot.send_message(
        query.from_user.id, context.text(locale, "donate-words-prompt", max=MAX_WORDS),
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(
            context.text(locale, "common-button-cancel"), callback_data=donate.CANCEL_TYPING.data()
        )]]),
    )


async def words_typed(
    message: Message, context: CampaignContext, locale: str, expected: str
) -> None:
    """Store the typed words on the donation, or say why they were refused."""
    user = message.from_user
    if user is None:
        return
    typed = message.text or ""
    words = visible_text(typed)
    if not words:
        # Only invisible characters: say so, else the donor retypes the same thing.
        refusal = "donate-words-invisible" if typed.strip() else "donate-words-empty"
        await message.reply_text(context.text(locale, refusal))
        return
    if len(words) > MAX_WORDS:
        await message.reply_text(
            context.text(locale, "donate-words-too-long", length=len(words), max=MAX_WORDS)
        )
        return
    donation_id = expected.removeprefix(AWAITING_WORDS)
    await context.users.clear_expected_input(user.id)
    if not await _is_donor(context, donation_id, user.id):
        return
    await context.ledger.set_public_words(donation_id, words=words)
    await message.reply_text(context.text(locale, "donate-words-saved"))


async def show_name(update: Update, context: CampaignContext) -> None:
    """The donor chose to show their first name with their gift."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    donation_id = context.matched("donation")
    if not await _is_donor(context, donation_id, query.from_user.id):
        await query.answer(context.text(locale, "donate-not-yours"), show_alert=True)
        return
    name = visible_text(query.from_user.first_name)[:MAX_NAME]
    if not name:
        await query.answer(context.text(locale, "donate-name-invisible"), show_alert=True)
        return
    await context.ledger.set_public_words(donation_id, name=name)
    await query.answer(context.text(locale, "donate-name-saved"), show_alert=True)


async def _is_donor(context: CampaignContext, donation_id: str, user_id: int) -> bool:
    donation = await context.ledger.donation(donation_id)
    return donation is not None and donation.get("telegram_user_id") == str(user_id)


def register(application: CampaignApplication) -> None:
    application.add_handler(CallbackQueryHandler(ask_words, pattern=WORDS.pattern))
    application.add_handler(CallbackQueryHandler(show_name, pattern=NAME.pattern))

"""/allocate <need> <amount>: an organizer shares the "where it helps most" gifts out to a need,
after a preview; the Confirm button allocates once however often it is tapped."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.config import Settings
from bot.context import CampaignApplication, CampaignContext
from bot.donations.needs import find_need
from bot.donations.needs_store import TOKEN_PATTERN, AllocationResult, DropResult
from bot.i18n import money
from bot.money import AmountProblem, AmountRefused, parse_amount
from handlers.access import UserCallbackQueryHandler, organizers

CONFIRM = CallbackFormat("nd:ok", token=TOKEN_PATTERN)
DISCARD = CallbackFormat("nd:no", token=TOKEN_PATTERN)
# No allocation is larger than a campaign could hold; the pool decides the real limit.
MAX_AMOUNT = 100_000_000


async def allocate(update: Update, context: CampaignContext) -> None:
    """Check the need and amount, then preview the allocation with Confirm and Cancel."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    locale = await context.locale_for(update)
    campaign = context.settings.campaign
    args = context.args or []
    if not campaign.needs:
        await message.reply_text(context.text(locale, "needs-none"))
        return
    ids = ", ".join(need.need_id for need in campaign.needs)
    if len(args) != 2:
        await message.reply_text(context.text(locale, "allocate-usage", ids=ids))
        return
    need = find_need(campaign.needs, args[0])
    if need is None:
        await message.reply_text(context.text(
            locale, "allocate-unknown-need", need=html.escape(args[0]), ids=ids
        ))
        return
    try:
        # Nothing is charged: Stripe's minimum does not apply, one cent can be shared out.
        amount = parse_amount(args[1], minimum=1, maximum=MAX_AMOUNT, charged=False)
    except AmountRefused as refused:
        key = "allocate-amount-not-positive" if refused.problem is AmountProblem.NOT_POSITIVE \
            else "allocate-bad-amount"
        await message.reply_text(context.text(locale, key))
        return
    board = await context.needs.board()
    shown = {
        "need": html.escape(need.text(locale)), "amount": money(amount, campaign.currency),
        "pool": money(max(0, board.unallocated), campaign.currency),
    }
    if amount > board.unallocated:
        await message.reply_text(context.text(locale, "allocate-too-large", **shown))
        return
    token = await context.needs.propose(user.id, need, amount)
    given = next(progress.cents for progress in board.needs if progress.need == need)
    more = max(0, given + amount) // need.unit_price - max(0, given) // need.unit_price
    await message.reply_text(
        context.text(locale, "allocate-preview", count=more, **shown),
        reply_markup=InlineKeyboardMarkup([[
            InlineKeyboardButton(
                context.text(locale, "allocate-button-confirm"),
                callback_data=CONFIRM.data(token=token),
            ),
            InlineKeyboardButton(
                context.text(locale, "common-button-cancel"),
                callback_data=DISCARD.data(token=token),
            ),
        ]]),
    )


async def confirm(update: Update, context: CampaignContext) -> None:
    """Allocate once; a second tap, or one after it expired, says so and changes nothing."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    token = context.matched("token")
    proposal = await context.needs.proposed(token)
    if proposal is None or proposal.admin_id != query.from_user.id:
        await query.answer(context.text(locale, "allocate-already"), show_alert=True)
        return
    result, pool = await context.needs.confirm(token, proposal)
    currency = context.settings.campaign.currency
    if result is AllocationResult.TOO_LARGE:
        await query.answer(context.text(
            locale, "allocate-too-large", need=html.escape(proposal.need.text(locale)),
            amount=money(proposal.amount, currency), pool=money(max(0, pool), currency),
        ), show_alert=True)
        return
    if result is not AllocationResult.ALLOCATED:
        await query.answer(context.text(locale, "allocate-already"), show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(context.text(
        locale, "allocate-done", need=html.escape(proposal.need.text(locale)),
        amount=money(proposal.amount, currency),
    ))


async def discard(update: Update, context: CampaignContext) -> None:
    """Drop the preview: its Confirm button no longer allocates. After a Confirm it says the
    allocation was made, and keeps the message that says so."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    dropped = await context.needs.drop(context.matched("token"))
    if dropped is not DropResult.DROPPED:
        key = "allocate-already-allocated" if dropped is DropResult.ALLOCATED \
            else "allocate-already"
        await query.answer(context.text(locale, key), show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(context.text(locale, "common-cancelled"))


def register(application: CampaignApplication, settings: Settings) -> None:
    admins = organizers(settings)
    application.add_handler(CommandHandler("allocate", allocate, filters=admins))
    application.add_handler(UserCallbackQueryHandler(confirm, CONFIRM.pattern, admins))
    application.add_handler(UserCallbackQueryHandler(discard, DISCARD.pattern, admins))

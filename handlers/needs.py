"""/needs: what the gifts buy, each need with its bar; choosing the need a gift is for; and the
job that announces each need filled."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.botapi.campaign_photo import photo_fingerprint, send_campaign_photo
from bot.context import CampaignApplication, CampaignContext
from bot.donations.needs import NEED_ID, NeedProgress, NeedsBoard, find_need
from bot.donations.spending import SpendingSummary
from bot.donations.stripe_client import Frequency
from bot.i18n import money
from handlers import callbacks, donate
from handlers.need_choice import (
    CHOOSE,
    GENERAL,
    OPEN_PICKER,
    chosen_need,
    is_filled,
    tapped_need,
)

# As often as the beneficiaries' feed is looked at (handlers/beneficiary).
ANNOUNCE_TICK_SECONDS = 20
PHOTO = CallbackFormat("nd:ph", need=NEED_ID)


def need_line(context: CampaignContext, locale: str, progress: NeedProgress) -> str:
    """"Blankets ▰▰▰▱▱ 312 of 500", marked once filled."""
    return context.text(
        locale, "needs-line", need=html.escape(progress.need.text(locale)), bar=progress.bar(),
        count=progress.count, target=progress.need.target,
        filled="yes" if progress.filled else "no",
    )


def board_text(context: CampaignContext, locale: str, board: NeedsBoard) -> str:
    """One line per need with its bar, filled ones marked, then what waits to be shared out."""
    currency = context.settings.campaign.currency
    lines = [context.text(locale, "needs-title")]
    lines += [need_line(context, locale, progress) for progress in board.needs]
    if board.unallocated > 0:
        lines += ["", context.text(
            locale, "needs-general-pool", amount=money(board.unallocated, currency)
        )]
    return "\n".join(lines)


def spent_lines(context: CampaignContext, locale: str, summary: SpendingSummary) -> list[str]:
    """"€300 spent on Blankets" for each need anything was spent on (/spent), in board order."""
    currency = context.settings.campaign.currency
    return [
        context.text(
            locale, "needs-spent", need=html.escape(need.text(locale)),
            amount=money(summary.by_need[need.need_id], currency),
        )
        for need in context.settings.campaign.needs if summary.by_need.get(need.need_id, 0) > 0
    ]


async def show_needs(update: Update, context: CampaignContext) -> None:
    """The needs board and what was spent per need, each read from its one summary hash, with
    the Donate button under it."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is None:
        return
    locale = await context.locale_for(update)
    if not context.settings.campaign.needs:
        await context.bot.send_message(chat.id, context.text(locale, "needs-none"))
        return
    text = board_text(context, locale, await context.needs.board())
    spent = spent_lines(context, locale, await context.spending.summary())
    if spent:
        text = "\n".join([text, "", *spent])
    photos = [
        InlineKeyboardButton(
            context.text(locale, "needs-button-photo", need=need.text(locale)),
            callback_data=PHOTO.data(need=need.need_id),
        )
        for need in context.settings.campaign.needs if need.photo is not None
    ]
    await context.bot.send_message(chat.id, text, reply_markup=InlineKeyboardMarkup([
        *(photos[i : i + 2] for i in range(0, len(photos), 2)),
        [InlineKeyboardButton(
            context.text(locale, "start-button-donate"), callback_data=callbacks.DONATE.data()
        )],
    ]))


async def show_photo(update: Update, context: CampaignContext) -> None:
    """A need's photo from the campaign file, with its line of the board as the caption."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    need = find_need(context.settings.campaign.needs, context.matched("need"))
    if need is None or need.photo is None:
        await query.answer(context.text(locale, "needs-unknown"), show_alert=True)
        return
    await query.answer()
    progress = next(p for p in (await context.needs.board()).needs if p.need == need)
    await send_campaign_photo(
        context.bot, context.users, query.from_user.id, need.photo,
        await context.users.photo_file_id(photo_fingerprint(need.photo)),
        need_line(context, locale, progress), InlineKeyboardMarkup([[InlineKeyboardButton(
            context.text(locale, "start-button-donate"), callback_data=callbacks.DONATE.data()
        )]]),
    )


def board_button(context: CampaignContext, locale: str) -> list[InlineKeyboardButton]:
    """The row that opens /needs from /start and /progress; none without needs."""
    if not context.settings.campaign.needs:
        return []
    return [InlineKeyboardButton(
        context.text(locale, "needs-button-board"), callback_data=callbacks.NEEDS.data()
    )]


async def open_picker(update: Update, context: CampaignContext) -> None:
    """The amount step's "For: ..." button: the needs to choose from, the chosen one marked."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    locale = await context.locale_for(update)
    frequency = context.matched("frequency")
    board = await context.needs.board()
    chosen = await chosen_need(context, query.from_user, board)

    def choice(label: str, need_id: str, selected: bool) -> list[InlineKeyboardButton]:
        if selected:
            label = context.text(locale, "donate-button-selected", label=label)
        return [InlineKeyboardButton(
            label, callback_data=CHOOSE.data(frequency=frequency, need=need_id)
        )]

    rows = [choice(context.text(locale, "needs-general"), GENERAL, chosen is None)]
    rows += [
        choice(
            context.text(
                locale, "needs-choice", need=progress.need.text(locale), count=progress.count,
                target=progress.need.target, filled="yes" if progress.filled else "no",
            ),
            progress.need.need_id, chosen is not None and chosen == progress.need,
        )
        for progress in board.needs
    ]
    await query.edit_message_text(context.text(locale, "needs-pick-title"),
                                  reply_markup=InlineKeyboardMarkup(rows))


async def choose(update: Update, context: CampaignContext) -> None:
    """A need (or where it helps most) was tapped: remember it, back to the amounts. A filled
    need, still listed so the picker shows it done, puts the gift where it helps most."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    listed, need = tapped_need(context)
    if not listed:
        # Forged, or a need the campaign file no longer lists: nothing is remembered.
        await query.answer(context.text(locale, "needs-unknown"), show_alert=True)
        return
    if need is not None and await is_filled(context, need):
        await query.answer(context.text(
            locale, "needs-filled-choice", need=need.text(locale)
        ), show_alert=True)
        need = None
    else:
        await query.answer()
    await context.choose_need(query.from_user, need.need_id if need else None)
    text, markup = await donate.donate_menu(
        context, locale, query.from_user, Frequency(context.matched("frequency"))
    )
    await query.edit_message_text(text, reply_markup=markup)


async def announce_filled(context: CampaignContext) -> None:
    """Job: each need filled since gets its one broadcast (its marker, left by the gift or the
    allocation that filled it, is taken in the step that makes the broadcast)."""
    await context.services.needs_announcer.announce(context.bot)


def register(application: CampaignApplication) -> None:
    application.add_handler(CommandHandler("needs", show_needs))
    application.add_handler(CallbackQueryHandler(show_needs, pattern=callbacks.NEEDS.pattern))
    application.add_handler(CallbackQueryHandler(open_picker, pattern=OPEN_PICKER.pattern))
    application.add_handler(CallbackQueryHandler(choose, pattern=CHOOSE.pattern))
    application.add_handler(CallbackQueryHandler(show_photo, pattern=PHOTO.pattern))
    services = application.bot_data.services
    if application.job_queue is not None and services is not None and (
        services.settings.campaign.needs
    ):
        # Also at start-up: a need filled just before a crash is announced once the bot is back.
        application.job_queue.run_repeating(
            announce_filled, interval=ANNOUNCE_TICK_SECONDS, first=1, name="needs-announcer"
        )

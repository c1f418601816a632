"""The taps after a broadcast's preview: Send now (or Schedule), Cancel, and Stop on its progress
message. Each acts once: the preview's buttons carry the draft's token, and a second tap, or one
retried after an error, is answered with what the first one did.

Registered with the rest of the flow in handlers/broadcast_compose, for ADMIN_IDS only.
"""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError

from bot.botapi.callback_data import CallbackFormat
from bot.broadcasts.closing import ClosedBefore
from bot.broadcasts.drafts import TOKEN_PATTERN, Settlement
from bot.broadcasts.report import STOP
from bot.broadcasts.store import BroadcastContent, BroadcastStatus, CancelResult
from bot.context import CampaignContext

log = logging.getLogger(__name__)

CONFIRM = CallbackFormat("bc:ok", draft=TOKEN_PATTERN)
SCHEDULE = CallbackFormat("bc:at", draft=TOKEN_PATTERN)
DISCARD = CallbackFormat("bc:no", draft=TOKEN_PATTERN)


async def confirm(update: Update, context: CampaignContext) -> None:
    """Turn the draft into a broadcast once, then tell the organizer; a repeat says which one."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    locale = await context.locale_for(update)
    token = context.matched("draft")
    draft = await context.drafts.get(query.from_user.id)
    if draft is None or draft.token != token or not draft.texts:
        await answer_settled(query, context, locale, await context.drafts.settled(token))
        return
    content = BroadcastContent(draft.reader_texts(), draft.photo)
    chat, message = query.message.chat.id, query.message.message_id
    if draft.closing:
        # The closing report: it also closes the campaign, once (bot/broadcasts/closing.py).
        closing = await context.closing.create_from_draft(
            token, content, created_by=query.from_user.id, admin_locale=locale,
            progress_chat=chat, progress_message=message,
        )
        if isinstance(closing, ClosedBefore):
            await _answer(query, context.text(
                locale, "closing-already-closed", id=closing.broadcast_id
            ))
            return
        settlement = closing
    else:
        settlement = await context.broadcasts.create_from_draft(
            token, content, created_by=query.from_user.id, admin_locale=locale,
            progress_chat=chat, progress_message=message, send_at=draft.send_at,
            urgent=draft.urgent,
        )
    if not settlement.now or settlement.broadcast_id is None:
        await answer_settled(query, context, locale, settlement)
        return
    # The broadcast is durable from here on: telling the organizer may fail, nothing else can.
    await _answer(query)
    await _show_confirmed(query, context, locale, settlement.broadcast_id, draft.send_at)


async def _show_confirmed(
    query: CallbackQuery, context: CampaignContext, locale: str, broadcast_id: int,
    send_at: int | None,
) -> None:
    """The preview becomes the broadcast's message: queued (or scheduled), with its Stop button."""
    if send_at:
        text = context.text(
            locale, "broadcast-scheduled", id=broadcast_id, when=show_time(context, send_at),
            timezone=str(context.settings.campaign.timezone),
        )
    else:
        text = context.text(locale, "broadcast-queued", id=broadcast_id)
    await _edit(query, text, InlineKeyboardMarkup([[InlineKeyboardButton(
        context.text(locale, "broadcast-button-stop"),
        callback_data=STOP.data(broadcast=broadcast_id),
    )]]))


async def answer_settled(
    query: CallbackQuery, context: CampaignContext, locale: str, settlement: Settlement
) -> None:
    """A tap on a draft an earlier tap confirmed or discarded: say what became of it."""
    if settlement.broadcast_id is None:
        key = "common-button-expired" if settlement.gone else "broadcast-already-discarded"
        await _answer(query, context.text(locale, key))
        return
    broadcast = await context.broadcasts.get(settlement.broadcast_id)
    status = broadcast.status if broadcast is not None else BroadcastStatus.QUEUED
    await _answer(query, context.text(
        locale, "broadcast-already-confirmed", id=settlement.broadcast_id, status=status.value
    ))
    if broadcast is not None and status in (BroadcastStatus.QUEUED, BroadcastStatus.SCHEDULED):
        # The first tap's confirmation may have been lost (an error after the broadcast was
        # stored): show it now. Once sending, the engine keeps this message up to date.
        send_at = broadcast.send_at if status is BroadcastStatus.SCHEDULED else None
        await _show_confirmed(query, context, locale, broadcast.broadcast_id, send_at)


async def _answer(query: CallbackQuery, text: str | None = None, alert: bool = True) -> None:
    """Answer the tap (an alert when there is something to say); never fails the handler."""
    try:
        await query.answer(text, show_alert=alert and text is not None)
    except TelegramError as exc:
        log.warning("callback answer failed error=%s", type(exc).__name__)


async def _edit(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Show on the tapped message what the tap did; that is durable already, so a refusal is
    logged, never apologised for: tapping again shows it."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except TelegramError as exc:
        if isinstance(exc, BadRequest) and "not modified" in exc.message.lower():
            return
        log.warning("tapped message not updated error=%s", type(exc).__name__)


async def discard(update: Update, context: CampaignContext) -> None:
    """Drop the draft, once: a later tap says what became of it."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    settlement = await context.drafts.discard(query.from_user.id, context.matched("draft"))
    if not settlement.now:
        await answer_settled(query, context, locale, settlement)
        return
    await _answer(query)
    await context.users.clear_expected_input(query.from_user.id)
    await _edit(query, context.text(locale, "broadcast-discarded"))


async def stop(update: Update, context: CampaignContext) -> None:
    """Cancel a running, queued or scheduled broadcast from its progress message."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    broadcast_id = int(context.matched("broadcast"))
    cancelled = await context.broadcasts.cancel(broadcast_id)
    if cancelled is CancelResult.STOPPING:
        # The engine finishes the sends in flight, then writes the report.
        await _answer(query, context.text(locale, "broadcast-stopping", id=broadcast_id), False)
        return
    if cancelled is CancelResult.NEVER_STARTED:
        await _answer(query)
        stopped = await context.broadcasts.get(broadcast_id)
        if stopped is not None:
            await context.services.reporter(stopped, True)
        return
    await _answer(query, context.text(locale, "broadcast-already-over"))


def show_time(context: CampaignContext, epoch_ms: int) -> str:
    """A moment as the organizer reads it, in the campaign's time zone."""
    zone = context.settings.campaign.timezone
    return datetime.fromtimestamp(epoch_ms / 1000, zone).strftime("%Y-%m-%d %H:%M")

"""/broadcast for organizers: English text (and photo), French text, exact preview, confirm.

Every command and button is registered for ADMIN_IDS only (handlers/access): anyone else gets
exactly the answer an unknown command gets, so the feature is invisible to them.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime, timedelta

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.broadcasts.drafts import TOKEN_PATTERN, Settlement
from bot.broadcasts.report import STOP
from bot.broadcasts.store import BroadcastContent, BroadcastStatus, CancelResult
from bot.config import Settings
from bot.context import CampaignApplication, CampaignContext
from bot.i18n import SUPPORTED_LOCALES
from handlers.access import UserCallbackQueryHandler, organizers
from handlers.broadcast_fit import length_refusal

log = logging.getLogger(__name__)

AWAITING = "broadcast:"
WHEN = "when"
SAME = CallbackFormat("bc:same")
# The preview's buttons name their draft: a second tap, or one after an error, acts only once.
CONFIRM = CallbackFormat("bc:ok", draft=TOKEN_PATTERN)
SCHEDULE = CallbackFormat("bc:at", draft=TOKEN_PATTERN)
EDIT = CallbackFormat("bc:edit")
DISCARD = CallbackFormat("bc:no", draft=TOKEN_PATTERN)
WHEN_FORMATS = ("%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M")
MAX_SCHEDULE_AHEAD = timedelta(days=60)
# Entities that mean the organizer formatted with Telegram's own tools rather than typed HTML.
_FORMATTING = frozenset({
    MessageEntity.BOLD, MessageEntity.ITALIC, MessageEntity.UNDERLINE,
    MessageEntity.STRIKETHROUGH, MessageEntity.SPOILER, MessageEntity.CODE, MessageEntity.PRE,
    MessageEntity.TEXT_LINK, MessageEntity.BLOCKQUOTE, MessageEntity.TEXT_MENTION,
})


async def start_broadcast(update: Update, context: CampaignContext) -> None:
    """Begin a new draft and ask for the English text."""
    if update.effective_user is None:
        return
    admin_id = update.effective_user.id
    await context.drafts.start(admin_id)
    await context.users.expect_input(admin_id, f"{AWAITING}en")
    await context.reply(update, "broadcast-ask-en")


async def cancel(update: Update, context: CampaignContext) -> None:
    """/cancel: leave the broadcast flow."""
    if update.effective_user is None:
        return
    admin_id = update.effective_user.id
    await context.users.clear_expected_input(admin_id)
    discarded = await context.drafts.discard(admin_id)
    await context.reply(
        update, "broadcast-discarded" if discarded.now else "broadcast-nothing-to-cancel"
    )


def composed_html(message: Message) -> str:
    """The organizer's text as HTML: Telegram's formatting converted, typed HTML kept as is."""
    entities = message.entities or message.caption_entities or ()
    if any(entity.type in _FORMATTING for entity in entities):
        return (message.text_html if message.text else message.caption_html) or ""
    return message.text or message.caption or ""


async def draft_input(
    message: Message, context: CampaignContext, locale: str, expected: str
) -> None:
    """A text (or photo) the flow asked for: a language's text, or the time to send."""
    user = message.from_user
    if user is None or user.id not in context.settings.admin_ids:
        return
    step = expected.removeprefix(AWAITING)
    if step == WHEN:
        await _schedule_typed(message, context, locale)
        return
    text = composed_html(message).strip()
    if not text:
        await message.reply_text(context.text(locale, "broadcast-need-text"))
        return
    draft = await context.drafts.get(user.id)
    photo = message.photo[-1].file_id if message.photo else (draft.photo if draft else None)
    refusal = length_refusal(context, locale, step, text, photo=bool(photo))
    if refusal:
        await message.reply_text(refusal)
        return
    fields: dict[str, str | int] = {f"text:{step}": text, "photo": photo or ""}
    if step == "en" and draft is not None and draft.same_text:
        fields["text:fr"] = text
    await context.drafts.update(user.id, **fields)
    # A correction after the preview goes straight back to the preview.
    if step == "en" and (draft is None or "fr" not in draft.texts):
        await context.users.expect_input(user.id, f"{AWAITING}fr")
        await message.reply_text(
            context.text(locale, "broadcast-ask-fr"),
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(
                context.text(locale, "broadcast-button-same"), callback_data=SAME.data()
            )]]),
        )
        return
    await context.users.clear_expected_input(user.id)
    await send_preview(context, user.id, locale)


async def same_text(update: Update, context: CampaignContext) -> None:
    """Use the English text for French readers too."""
    query = update.callback_query
    if query is None:
        return
    draft = await context.drafts.get(query.from_user.id)
    if draft is None or "en" not in draft.texts:
        return
    await query.answer()
    same: dict[str, str | int] = {"text:fr": draft.texts["en"], "same": 1}
    await context.drafts.update(query.from_user.id, **same)
    await context.users.clear_expected_input(query.from_user.id)
    await send_preview(context, query.from_user.id, await context.locale_for(update))


async def send_preview(context: CampaignContext, admin_id: int, locale: str) -> None:
    """Send each language's message exactly as subscribers will get it, then the summary."""
    draft = await context.drafts.get(admin_id)
    if draft is None:
        return
    counts = await context.subscribers.counts()
    content = BroadcastContent(draft.texts, draft.photo)
    for language in SUPPORTED_LOCALES:
        refusal = length_refusal(
            context, locale, language, content.text_for(language), photo=bool(content.photo)
        )
        if refusal:
            # Nothing of a draft that cannot go out whole is previewed.
            await context.users.expect_input(admin_id, f"{AWAITING}{language}")
            await context.bot.send_message(admin_id, refusal)
            return
    for language in SUPPORTED_LOCALES:
        language_name = context.text(locale, f"broadcast-language-{language}")
        await context.bot.send_message(admin_id, context.text(
            locale, "broadcast-preview-header", language=language_name, count=counts[language]
        ))
        try:
            if content.photo:
                await context.bot.send_photo(
                    admin_id, content.photo, caption=content.text_for(language)
                )
            else:
                await context.bot.send_message(admin_id, content.text_for(language))
        except BadRequest as exc:
            # Telegram's own parser is the reference: what it refuses here it would refuse
            # for every subscriber.
            await context.users.expect_input(admin_id, f"{AWAITING}{language}")
            await context.bot.send_message(admin_id, context.text(
                locale, "broadcast-invalid-markup", language=language_name,
                error=html.escape(exc.message),
            ))
            return
    lines = [context.text(
        locale, "broadcast-preview-summary", total=sum(counts.values()),
        en=counts.get("en", 0), fr=counts.get("fr", 0),
    )]
    if draft.send_at:
        lines.append(context.text(
            locale, "broadcast-preview-when", when=_show_time(context, draft.send_at),
            timezone=str(context.settings.campaign.timezone),
        ))
    confirm = "broadcast-button-confirm-scheduled" if draft.send_at else "broadcast-button-confirm"
    buttons = [
        [InlineKeyboardButton(
            context.text(locale, confirm), callback_data=CONFIRM.data(draft=draft.token)
        )],
        [
            InlineKeyboardButton(
                context.text(locale, "broadcast-button-schedule"),
                callback_data=SCHEDULE.data(draft=draft.token),
            ),
            InlineKeyboardButton(
                context.text(locale, "broadcast-button-edit"), callback_data=EDIT.data()
            ),
            InlineKeyboardButton(
                context.text(locale, "broadcast-button-cancel"),
                callback_data=DISCARD.data(draft=draft.token),
            ),
        ],
    ]
    await context.bot.send_message(
        admin_id, "\n".join(lines), reply_markup=InlineKeyboardMarkup(buttons)
    )


async def confirm(update: Update, context: CampaignContext) -> None:
    """Turn the draft into a broadcast once, then tell the organizer; a repeat says which one."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    locale = await context.locale_for(update)
    token = context.matched("draft")
    draft = await context.drafts.get(query.from_user.id)
    if draft is None or draft.token != token or not draft.texts:
        await _answer_settled(query, context, locale, await context.drafts.settled(token))
        return
    settlement = await context.broadcasts.create_from_draft(
        token, BroadcastContent(draft.texts, draft.photo),
        created_by=query.from_user.id, admin_locale=locale,
        progress_chat=query.message.chat.id, progress_message=query.message.message_id,
        send_at=draft.send_at,
    )
    if not settlement.now or settlement.broadcast_id is None:
        await _answer_settled(query, context, locale, settlement)
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
            locale, "broadcast-scheduled", id=broadcast_id, when=_show_time(context, send_at),
            timezone=str(context.settings.campaign.timezone),
        )
    else:
        text = context.text(locale, "broadcast-queued", id=broadcast_id)
    try:
        await query.edit_message_text(text, reply_markup=InlineKeyboardMarkup([[
            InlineKeyboardButton(
                context.text(locale, "broadcast-button-stop"),
                callback_data=STOP.data(broadcast=broadcast_id),
            )
        ]]))
    except TelegramError as exc:
        if isinstance(exc, BadRequest) and "not modified" in exc.message.lower():
            return
        # Tapping again answers with the broadcast's id, and shows this message then.
        log.warning("broadcast confirmation not shown broadcast=%s error=%s", broadcast_id,
                    type(exc).__name__)


async def _answer_settled(
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


async def ask_when(update: Update, context: CampaignContext) -> None:
    """Ask for the date and time to send at."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    token = context.matched("draft")
    draft = await context.drafts.get(query.from_user.id)
    if draft is None or draft.token != token:
        await _answer_settled(query, context, locale, await context.drafts.settled(token))
        return
    await query.answer()
    await context.users.expect_input(query.from_user.id, f"{AWAITING}{WHEN}")
    await context.bot.send_message(query.from_user.id, context.text(
        locale, "broadcast-ask-when", timezone=str(context.settings.campaign.timezone),
        example=_example_time(context),
    ))


async def _schedule_typed(message: Message, context: CampaignContext, locale: str) -> None:
    user = message.from_user
    if user is None:
        return
    zone = context.settings.campaign.timezone
    now = datetime.now(zone)
    chosen = None
    for form in WHEN_FORMATS:
        try:
            chosen = datetime.strptime((message.text or "").strip(), form).replace(tzinfo=zone)
            break
        except ValueError:
            continue
    if chosen is None or not now < chosen < now + MAX_SCHEDULE_AHEAD:
        await message.reply_text(
            context.text(locale, "broadcast-bad-when", example=_example_time(context))
        )
        return
    await context.drafts.update(user.id, send_at=int(chosen.timestamp() * 1000))
    await context.users.clear_expected_input(user.id)
    await send_preview(context, user.id, locale)


async def edit(update: Update, context: CampaignContext) -> None:
    """Start the draft again from the English text."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await start_broadcast(update, context)


async def discard(update: Update, context: CampaignContext) -> None:
    """Drop the draft, once: a later tap says what became of it."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    settlement = await context.drafts.discard(query.from_user.id, context.matched("draft"))
    if not settlement.now:
        await _answer_settled(query, context, locale, settlement)
        return
    await _answer(query)
    await context.users.clear_expected_input(query.from_user.id)
    try:
        await query.edit_message_text(context.text(locale, "broadcast-discarded"))
    except TelegramError as exc:
        log.warning("discard not shown error=%s", type(exc).__name__)


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


def _show_time(context: CampaignContext, epoch_ms: int) -> str:
    zone = context.settings.campaign.timezone
    return datetime.fromtimestamp(epoch_ms / 1000, zone).strftime("%Y-%m-%d %H:%M")


def _example_time(context: CampaignContext) -> str:
    zone = context.settings.campaign.timezone
    tomorrow = datetime.now(zone) + timedelta(days=1)
    return tomorrow.replace(hour=18, minute=0).strftime(WHEN_FORMATS[0])


def register(application: CampaignApplication, settings: Settings) -> None:
    admins = organizers(settings)
    application.add_handler(CommandHandler("broadcast", start_broadcast, filters=admins))
    application.add_handler(CommandHandler("cancel", cancel, filters=admins))
    for callback, button in (
        (same_text, SAME), (confirm, CONFIRM), (ask_when, SCHEDULE), (edit, EDIT),
        (discard, DISCARD), (stop, STOP),
    ):
        application.add_handler(UserCallbackQueryHandler(callback, button.pattern, admins))

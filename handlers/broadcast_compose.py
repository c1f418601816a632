"""/broadcast for organizers: English text (and photo), French text, exact preview, confirm.

Every command and button is registered for ADMIN_IDS only (handlers/access): anyone else gets
exactly the answer an unknown command gets, so the feature is invisible to them.
"""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import datetime, timedelta

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.broadcasts.drafts import Draft
from bot.broadcasts.preference_row import preference_row
from bot.broadcasts.report import STOP
from bot.broadcasts.store import BroadcastContent
from bot.config import Settings
from bot.context import CampaignApplication, CampaignContext
from bot.i18n import SUPPORTED_LOCALES
from handlers.access import UserCallbackQueryHandler, organizers
from handlers.broadcast_confirm import (
    CONFIRM,
    DISCARD,
    SCHEDULE,
    answer_settled,
    confirm,
    discard,
    show_time,
    stop,
)
from handlers.broadcast_fit import length_refusal
from handlers.broadcast_quiet import URGENT, quiet_line, urgent_button
from handlers.close_preview import closing_preview

AWAITING = "broadcast:"
WHEN = "when"
SAME = CallbackFormat("bc:same")
EDIT = CallbackFormat("bc:edit")
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
    # A closing report's text goes below the bot's lines: the whole must fit.
    shown = draft.reader_text(step, text) if draft is not None else text
    refusal = length_refusal(context, locale, step, shown, photo=bool(photo))
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
    content = BroadcastContent(draft.reader_texts(), draft.photo)
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
        # With the row every subscriber's message carries, in that language.
        row = preference_row(context.l10n, language)
        try:
            if content.photo:
                await context.bot.send_photo(
                    admin_id, content.photo, caption=content.text_for(language), reply_markup=row
                )
            else:
                await context.bot.send_message(
                    admin_id, content.text_for(language), reply_markup=row
                )
        except BadRequest as exc:
            # Telegram's own parser is the reference: what it refuses here it would refuse
            # for every subscriber.
            await context.users.expect_input(admin_id, f"{AWAITING}{language}")
            await context.bot.send_message(admin_id, context.text(
                locale, "broadcast-invalid-markup", language=language_name,
                error=html.escape(exc.message),
            ))
            return
    if draft.closing:
        monthly, _ = await context.services.monthly.totals()
        text, markup = closing_preview(context, locale, draft, sum(counts.values()), monthly)
        await context.bot.send_message(admin_id, text, reply_markup=markup)
        return
    text, markup = await _summary(context, locale, draft, counts)
    await context.bot.send_message(admin_id, text, reply_markup=markup)


async def _summary(
    context: CampaignContext, locale: str, draft: Draft, counts: dict[str, int]
) -> tuple[str, InlineKeyboardMarkup]:
    """The preview's last message: who gets it and when, and its buttons."""
    lines = [context.text(
        locale, "broadcast-preview-summary", total=sum(counts.values()),
        en=counts.get("en", 0), fr=counts.get("fr", 0),
    )]
    if draft.send_at:
        lines.append(context.text(
            locale, "broadcast-preview-when", when=show_time(context, draft.send_at),
            timezone=str(context.settings.campaign.timezone),
        ))
    quiet = await quiet_line(context, locale, draft, sum(counts.values()))
    lines += [quiet] if quiet else []
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
    buttons.insert(1, [urgent_button(context, locale, draft)])
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


async def _tapped_draft(
    update: Update, context: CampaignContext
) -> tuple[CallbackQuery, str, Draft] | None:
    """The tap's query, locale and draft, answered; None (the tap told what became of its
    draft) when the button is not the organizer's current draft's."""
    query = update.callback_query
    if query is None:
        return None
    locale = await context.locale_for(update)
    token = context.matched("draft")
    draft = await context.drafts.get(query.from_user.id)
    if draft is None or draft.token != token:
        await answer_settled(query, context, locale, await context.drafts.settled(token))
        return None
    await query.answer()
    return query, locale, draft


async def toggle_urgent(update: Update, context: CampaignContext) -> None:
    """Urgent (quiet hours ignored) or back to normal, shown on the same summary."""
    tapped = await _tapped_draft(update, context)
    if tapped is None:
        return
    query, locale, draft = tapped
    await context.drafts.update(query.from_user.id, urgent=0 if draft.urgent else 1)
    toggled = replace(draft, urgent=not draft.urgent)
    text, markup = await _summary(context, locale, toggled, await context.subscribers.counts())
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        # A double tap that lands after the first one's edit: the summary already says it.
        if "not modified" not in exc.message.lower():
            raise


async def ask_when(update: Update, context: CampaignContext) -> None:
    """Ask for the date and time to send at."""
    tapped = await _tapped_draft(update, context)
    if tapped is None:
        return
    query, locale, _ = tapped
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
        (discard, DISCARD), (stop, STOP), (toggle_urgent, URGENT),
    ):
        application.add_handler(UserCallbackQueryHandler(callback, button.pattern, admins))

"""How often and when a subscriber hears from the campaign: the row under every broadcast
("Fewer messages", "Stop"), the cadence choice, and /settings with quiet hours.

Every choice arrives as callback data, which a client can forge: each format matches only the
allowed values (anything else is an expired button to the fallback), and only a subscriber's
tap changes anything; anyone else gets /unsubscribe's answer for a non-subscriber.
"""

from __future__ import annotations

from datetime import time

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.broadcasts.preference_row import FEWER, LEAVE
from bot.broadcasts.preferences import Cadence, Preferences, QuietHours
from bot.broadcasts.store import now_ms
from bot.context import CampaignApplication, CampaignContext
from handlers import callbacks

AWAITING = "settings:quiet"
STOP = "stop"
CHOOSE = CallbackFormat("pref:cad", cadence="|".join([*Cadence, STOP]))
SHOW = CallbackFormat("pref:show")
QUIET = CallbackFormat("pref:quiet", choice="default|off|custom")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def clock(locale: str, moment: time) -> str:
    """A time of day as the reader writes it."""
    return f"{moment.hour} h {moment.minute:02d}" if locale == "fr" else f"{moment:%H:%M}"


def window(locale: str, hours: QuietHours) -> str:
    return f"{clock(locale, hours.start)}–{clock(locale, hours.end)}"


def settings_button(context: CampaignContext, locale: str) -> InlineKeyboardMarkup:
    """One button to /settings: under /subscribe's answer and every confirmation."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        context.text(locale, "settings-button-settings"), callback_data=SHOW.data()
    )]])


def _cadence_args(context: CampaignContext, locale: str) -> dict[str, str]:
    campaign = context.settings.campaign
    day = context.text(locale, f"settings-weekday-{WEEKDAYS[campaign.digest_weekday]}")
    return {"when": clock(locale, campaign.digest_at), "day": day}


def _marked(context: CampaignContext, locale: str, message_id: str, current: bool) -> str:
    label = context.text(locale, message_id)
    return context.text(locale, "settings-choice-current", label=label) if current else label


def _cadence_rows(
    context: CampaignContext, locale: str, current: Cadence
) -> list[list[InlineKeyboardButton]]:
    buttons = [
        InlineKeyboardButton(
            _marked(context, locale, f"settings-choice-{choice}", choice == current),
            callback_data=CHOOSE.data(cadence=choice),
        )
        for choice in (*Cadence, STOP)
    ]
    return [buttons[:2], buttons[2:]]


def _quiet_choice(context: CampaignContext, preferences: Preferences) -> str:
    if preferences.quiet == context.preferences.default_quiet:
        return "default"
    return "off" if preferences.quiet is None else "custom"


def _settings_view(
    context: CampaignContext, locale: str, preferences: Preferences
) -> tuple[str, InlineKeyboardMarkup]:
    """What /settings shows: the cadence and quiet hours, and the buttons to change them."""
    cadence = preferences.cadence
    choice = _quiet_choice(context, preferences)
    quiet = preferences.quiet
    if choice == "default":
        line = "settings-quiet-line-default" if quiet else "settings-quiet-line-off-default"
    else:
        line = "settings-quiet-line-own" if quiet else "settings-quiet-line-off"
    text = "\n".join([
        context.text(locale, "settings-title"),
        context.text(locale, f"settings-now-{cadence}", **_cadence_args(context, locale)),
        context.text(locale, line, hours=window(locale, quiet) if quiet else ""),
        context.text(locale, "settings-quiet-hint"),
    ])
    quiet_row = [
        InlineKeyboardButton(
            _marked(context, locale, f"settings-button-quiet-{option}", option == choice),
            callback_data=QUIET.data(choice=option),
        )
        for option in ("default", "off", "custom")
    ]
    return text, InlineKeyboardMarkup([*_cadence_rows(context, locale, cadence), quiet_row])


async def show_settings(update: Update, context: CampaignContext) -> None:
    """/settings, or its button: the subscriber's cadence and quiet hours."""
    user, query = update.effective_user, update.callback_query
    if user is None:
        return
    locale = await context.locale_for(update)
    if not await context.subscribers.is_subscribed(user.id):
        if query is not None:
            await query.answer(context.text(locale, "unsubscribe-not-subscribed"), show_alert=True)
        else:
            await context.reply(update, "settings-not-subscribed")
        return
    if query is not None:
        await query.answer()
    text, markup = _settings_view(context, locale, await context.preferences.of(user.id))
    await context.bot.send_message(user.id, text, reply_markup=markup)


async def fewer(update: Update, context: CampaignContext) -> None:
    """"Fewer messages" under a broadcast: the cadence choice, the current one marked."""
    tap = await _subscriber_tap(update, context)
    if tap is None:
        return
    query, locale = tap
    current = (await context.preferences.of(query.from_user.id)).cadence
    rows = _cadence_rows(context, locale, current)
    rows.append(list(settings_button(context, locale).inline_keyboard[0]))
    await context.bot.send_message(
        query.from_user.id, context.text(locale, "settings-fewer-prompt"),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def leave(update: Update, context: CampaignContext) -> None:
    """"Stop" under a broadcast: unsubscribed as /unsubscribe does, with a way back."""
    tap = await _subscriber_tap(update, context)
    if tap is None:
        return
    query, locale = tap
    await context.subscribers.unsubscribe(query.from_user.id)
    await context.bot.send_message(
        query.from_user.id, context.text(locale, "unsubscribe-done"),
        reply_markup=_follow_again(context, locale),
    )


async def choose(update: Update, context: CampaignContext) -> None:
    """A cadence (or Stop) chosen: stored, and the choice becomes its one-line confirmation."""
    tap = await _subscriber_tap(update, context)
    if tap is None:
        return
    query, locale = tap
    user_id = query.from_user.id
    chosen = context.matched("cadence")
    if chosen == STOP:
        await context.subscribers.unsubscribe(user_id)
        await _confirm(query.message, context.text(locale, "unsubscribe-done"),
                       _follow_again(context, locale))
        return
    cadence = Cadence(chosen)
    await context.preferences.set_cadence(user_id, cadence, now_ms())
    text = context.text(locale, f"settings-done-{cadence}", **_cadence_args(context, locale))
    await _confirm(query.message, text, settings_button(context, locale))


async def quiet(update: Update, context: CampaignContext) -> None:
    """Quiet hours: the campaign's default, none, or a window typed next."""
    tap = await _subscriber_tap(update, context)
    if tap is None:
        return
    query, locale = tap
    user_id = query.from_user.id
    choice = context.matched("choice")
    if choice == "custom":
        await context.users.expect_input(user_id, AWAITING)
        await context.bot.send_message(user_id, context.text(
            locale, "settings-quiet-ask", timezone=str(context.settings.campaign.timezone)
        ))
        return
    default = context.preferences.default_quiet
    if choice == "default":
        await context.preferences.use_default_quiet(user_id)
        text = (
            context.text(locale, "settings-quiet-done-default", hours=window(locale, default))
            if default else context.text(locale, "settings-quiet-done-off-default")
        )
    else:
        await context.preferences.set_quiet(user_id, None)
        text = context.text(locale, "settings-quiet-done-off")
    await _confirm(query.message, text, settings_button(context, locale))


async def quiet_typed(
    message: Message, context: CampaignContext, locale: str, expected: str
) -> None:
    """The window typed after "Choose hours…": refused with an example, or stored."""
    user = message.from_user
    if user is None:
        return
    typed = (message.text or "").replace("–", "-").replace("—", "-").replace(" ", "")
    try:
        hours = QuietHours.parse(typed)
    except ValueError:
        await message.reply_text(context.text(locale, "settings-quiet-bad"))
        return
    await context.users.clear_expected_input(user.id)
    if not await context.subscribers.is_subscribed(user.id):
        await message.reply_text(context.text(locale, "unsubscribe-not-subscribed"))
        return
    await context.preferences.set_quiet(user.id, hours)
    await message.reply_text(
        context.text(locale, "settings-quiet-done-own", hours=window(locale, hours)),
        reply_markup=settings_button(context, locale),
    )


async def _subscriber_tap(
    update: Update, context: CampaignContext
) -> tuple[CallbackQuery, str] | None:
    """The tap (answered) and the tapper's locale; None for someone not subscribed, told as
    /unsubscribe tells them, nothing changed."""
    query = update.callback_query
    if query is None:
        return None
    locale = await context.locale_for(update)
    if not await context.subscribers.is_subscribed(query.from_user.id):
        await query.answer(context.text(locale, "unsubscribe-not-subscribed"), show_alert=True)
        return None
    await query.answer()
    return query, locale


def _follow_again(context: CampaignContext, locale: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        context.text(locale, "settings-button-follow-again"),
        callback_data=callbacks.FOLLOW.data(),
    )]])


async def _confirm(message: object, text: str, markup: InlineKeyboardMarkup) -> None:
    """The tapped choice becomes its confirmation; a second tap of the same is not an error."""
    if not isinstance(message, Message):
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


def register(application: CampaignApplication) -> None:
    application.add_handler(CommandHandler("settings", show_settings))
    for callback, button in (
        (show_settings, SHOW), (fewer, FEWER), (leave, LEAVE), (choose, CHOOSE), (quiet, QUIET),
    ):
        application.add_handler(CallbackQueryHandler(callback, pattern=button.pattern))

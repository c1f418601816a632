"""The taps that change the spending record: Confirm or Cancel under a /spent preview, and
Remove with its question. Each acts once: Confirm and Cancel carry the draft's token and a
second tap is answered with what the first one did; a removed entry cannot be removed again.

Registered by handlers/spent, for ADMIN_IDS only.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.botapi.callback_data import CallbackFormat
from bot.broadcasts.drafts import DISCARDED, TOKEN_PATTERN
from bot.config import Settings
from bot.context import CampaignApplication, CampaignContext
from bot.donations.spending import EntryChange, SpendingEntry
from bot.i18n import money
from handlers import spending
from handlers.access import UserCallbackQueryHandler, organizers

log = logging.getLogger(__name__)

CONFIRM = CallbackFormat("spt:ok", draft=TOKEN_PATTERN)
DISCARD = CallbackFormat("spt:no", draft=TOKEN_PATTERN)
REMOVE_CONFIRM = CallbackFormat("spt:rm", entry=spending.ENTRY)
REMOVE_KEEP = CallbackFormat("spt:rm:no")


async def confirm(update: Update, context: CampaignContext) -> None:
    """Record (or correct) the entry once, then say so on the preview; a repeat says which."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    token = context.matched("draft")
    admin_id = query.from_user.id
    draft = await context.spending_drafts.get(admin_id)
    if draft is None or draft.token != token or draft.amount is None or not all(
        draft.texts.get(language) for language in ("en", "fr")
    ):
        await _answer_settled(query, context, locale, token)
        return
    change = EntryChange(
        draft.amount, draft.texts["en"], draft.texts["fr"], draft.photo, draft.need
    )
    now_ms = int(context.services.clock.now() * 1000)
    if draft.entry_id is None:
        outcome = await context.spending.record(admin_id, token, change, now_ms)
    else:
        outcome = await context.spending.correct(
            admin_id, token, draft.entry_id, change, now_ms
        )
    if outcome.gone:
        # Removed while being corrected: nothing to correct any more.
        gone = context.text(locale, "spent-no-entry", entry=draft.entry_id)
        await _alert(query, gone)
        return
    if not outcome.now:
        await _answer_settled(query, context, locale, token)
        return
    log.info("spending entry saved entry=%s correction=%s", outcome.entry_id, bool(draft.entry_id))
    await context.users.clear_expected_input(admin_id)
    # Saved already: should telling the organizer fail, a second tap says what this one did.
    await query.answer()
    done = "spent-recorded" if draft.entry_id is None else "spent-corrected"
    await query.edit_message_text(context.text(locale, done, entry=outcome.entry_id))


async def _alert(query: CallbackQuery, text: str) -> None:
    await query.answer(text, show_alert=True)


async def _answer_settled(
    query: CallbackQuery, context: CampaignContext, locale: str, token: str
) -> None:
    """A tap on a draft an earlier tap confirmed or cancelled: say what became of it."""
    outcome = await context.spending.outcome(token)
    if outcome is None:
        await _alert(query, context.text(locale, "common-button-expired"))
    elif outcome == DISCARDED:
        await _alert(query, context.text(locale, "spent-already-discarded"))
    else:
        recorded = context.text(locale, "spent-already-recorded", entry=outcome)
        await _alert(query, recorded)


async def discard(update: Update, context: CampaignContext) -> None:
    """Cancel under a prompt or the preview: drop the draft, once."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    token = context.matched("draft")
    if await context.spending_drafts.discard(query.from_user.id, token) != 1:
        await _answer_settled(query, context, locale, token)
        return
    await context.users.clear_expected_input(query.from_user.id)
    await query.answer()
    await query.edit_message_text(context.text(locale, "spent-discarded"))


async def existing_entry(
    context: CampaignContext, admin_id: int, locale: str, entry_id: int
) -> SpendingEntry | None:
    """Entry `entry_id`, or None once the organizer is told there is no such entry."""
    entry = await context.spending.entry(entry_id)
    if entry is None:
        await context.bot.send_message(
            admin_id, context.text(locale, "spent-no-entry", entry=entry_id)
        )
    return entry


async def ask_removal(
    context: CampaignContext, admin_id: int, locale: str, entry_id: int
) -> None:
    """Ask before taking an entry out for everyone."""
    entry = await existing_entry(context, admin_id, locale, entry_id)
    if entry is None:
        return
    await context.bot.send_message(
        admin_id,
        context.text(
            locale, "spent-remove-confirm", entry=entry_id,
            amount=money(entry.amount, context.settings.campaign.currency),
            date=spending.entry_date(context, entry),
        ),
        reply_markup=InlineKeyboardMarkup([[
            InlineKeyboardButton(
                context.text(locale, "spent-remove-yes"),
                callback_data=REMOVE_CONFIRM.data(entry=entry_id),
            ),
            InlineKeyboardButton(
                context.text(locale, "spent-remove-keep"), callback_data=REMOVE_KEEP.data()
            ),
        ]]),
    )


async def remove_tapped(update: Update, context: CampaignContext) -> None:
    """Remove under an entry in /spending: the question comes as a message of its own, since
    the entry may be a photo, whose caption is no place for it."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await ask_removal(
        context, query.from_user.id, await context.locale_for(update),
        int(context.matched("entry")),
    )


async def remove(update: Update, context: CampaignContext) -> None:
    """Removal confirmed: out once; a second tap says it is gone already."""
    query = update.callback_query
    if query is None:
        return
    locale = await context.locale_for(update)
    entry_id = int(context.matched("entry"))
    if not await context.spending.remove(entry_id):
        await _alert(query, context.text(locale, "spent-already-removed"))
        return
    log.info("spending entry removed entry=%s", entry_id)
    await query.answer()
    await query.edit_message_text(context.text(locale, "spent-removed", entry=entry_id))


async def keep(update: Update, context: CampaignContext) -> None:
    """Keep: the question goes, the entry stays."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    locale = await context.locale_for(update)
    await query.edit_message_text(context.text(locale, "common-cancelled"))


def register(application: CampaignApplication, settings: Settings) -> None:
    admins = organizers(settings)
    for callback, button in (
        (confirm, CONFIRM), (discard, DISCARD), (remove_tapped, spending.REMOVE),
        (remove, REMOVE_CONFIRM), (keep, REMOVE_KEEP),
    ):
        application.add_handler(UserCallbackQueryHandler(callback, button.pattern, admins))

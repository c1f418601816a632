"""/close for organizers: the closing report, prefilled with the campaign's totals, the rest
written in English then French through the broadcast composer (its steps, limits, preview and
confirmation), sent once to every subscriber and donor (bot/broadcasts/closing.py).

Registered for ADMIN_IDS only (handlers/access): anyone else gets the unknown-command answer.
"""

from __future__ import annotations

import asyncio
import html

from fluent.runtime.types import fluent_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.config import Settings
from bot.context import CampaignApplication, CampaignContext
from bot.i18n import SUPPORTED_LOCALES, money
from bot.reports.spending import spending_line
from handlers.access import UserCallbackQueryHandler, organizers
from handlers.broadcast_compose import AWAITING
from handlers.close_preview import EDIT_REPORT

CLOSE_NOW = CallbackFormat("cl:now")
KEEP_OPEN = CallbackFormat("cl:keep")


async def closing_facts(context: CampaignContext, locale: str) -> list[str]:
    """The lines the bot writes at the top of the report, in `locale`: the totals, the needs
    filled and what was spent."""
    campaign = context.settings.campaign
    totals, spent = await asyncio.gather(context.ledger.totals(), context.spending.summary())
    facts = [
        context.text(locale, "closing-facts-title"),
        context.text(
            locale, "closing-facts-totals",
            raised=money(max(0, totals.raised), campaign.currency),
            goal=money(campaign.goal, campaign.currency), donors=totals.donors,
            donations=totals.donations,
        ),
    ]
    if campaign.needs:
        filled = [
            f"{progress.need.text(locale)} ({progress.count})"
            for progress in (await context.needs.board()).needs if progress.filled
        ]
        if filled:
            facts.append(context.text(
                locale, "closing-facts-needs", needs=html.escape(", ".join(filled))
            ))
    if spent.count:
        facts.append(spending_line(context.l10n, locale, totals.raised, spent, campaign.currency))
    return facts


async def close(update: Update, context: CampaignContext) -> None:
    """Begin the closing report; before the campaign's end date, ask first."""
    user = update.effective_user
    if user is None:
        return
    state = await context.state_of(user)
    locale = state.locale
    if state.totals.closed:
        await context.bot.send_message(
            user.id, context.text(locale, "closing-already-closed", id=state.totals.closed)
        )
        return
    campaign = context.settings.campaign
    if campaign.end.passed(context.services.clock.now(), campaign.timezone):
        await start_report(context, user.id, locale)
        return
    if campaign.end.last_day is None:
        question = context.text(locale, "closing-ask-early")
    else:
        question = context.text(
            locale, "closing-ask-early-dated",
            date=fluent_date(campaign.end.last_day, dateStyle="long"),
        )
    await context.bot.send_message(user.id, question, reply_markup=InlineKeyboardMarkup([[
        InlineKeyboardButton(
            context.text(locale, "closing-button-close-now"), callback_data=CLOSE_NOW.data()
        ),
        InlineKeyboardButton(
            context.text(locale, "closing-button-keep-open"), callback_data=KEEP_OPEN.data()
        ),
    ]]))


async def start_report(context: CampaignContext, admin_id: int, locale: str) -> None:
    """A new closing draft holding the bot's lines in every language; ask for the English."""
    head = {
        language: "\n".join(await closing_facts(context, language))
        for language in SUPPORTED_LOCALES
    }
    await context.drafts.start(admin_id, head)
    await context.users.expect_input(admin_id, f"{AWAITING}en")
    await context.bot.send_message(
        admin_id, context.text(locale, "closing-ask-en", facts=head[locale])
    )


async def close_now(update: Update, context: CampaignContext) -> None:
    """The organizer confirmed closing before the end date: write the report."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    state = await context.state_of(query.from_user)
    if state.totals.closed:
        await context.bot.send_message(query.from_user.id, context.text(
            state.locale, "closing-already-closed", id=state.totals.closed
        ))
        return
    await start_report(context, query.from_user.id, state.locale)


async def keep_open(update: Update, context: CampaignContext) -> None:
    """The organizer thought better of it: nothing changes."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    locale = await context.locale_for(update)
    await query.edit_message_text(context.text(locale, "closing-kept-open"))


def register(application: CampaignApplication, settings: Settings) -> None:
    admins = organizers(settings)
    application.add_handler(CommandHandler("close", close, filters=admins))
    # Edit on the preview writes the report again, with the totals read afresh.
    for callback, button in (
        (close_now, CLOSE_NOW), (keep_open, KEEP_OPEN), (close_now, EDIT_REPORT),
    ):
        application.add_handler(UserCallbackQueryHandler(callback, button.pattern, admins))

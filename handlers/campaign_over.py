"""Once the campaign is over (its end date passed, or /close went out): what people are told
instead of being offered a payment link, and where the campaign file points them."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, User

from bot.campaign import Campaign
from bot.context import CampaignContext
from bot.i18n import Localizer


async def campaign_over(context: CampaignContext, user: User) -> bool:
    """Whether this update finds the campaign over (the update's one read holds the totals)."""
    campaign, totals = context.settings.campaign, (await context.state_of(user)).totals
    return campaign.end.over(context.services.clock.now(), campaign.timezone, totals.closed)


def over_text(l10n: Localizer, campaign: Campaign, locale: str) -> str:
    """"The campaign is over", then the campaign file's words for after it, if any (HTML)."""
    text = l10n.format(locale, "closing-over")
    pointer = campaign.end.texts.get(locale)
    return f"{text}\n\n{html.escape(pointer)}" if pointer else text


def over_reply(context: CampaignContext, locale: str) -> tuple[str, InlineKeyboardMarkup | None]:
    """The message in place of the donate menu or a payment link, with the campaign file's
    link as a button when it gives one."""
    campaign = context.settings.campaign
    markup = None
    if campaign.end.url:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(
            context.text(locale, "closing-over-button"), url=campaign.end.url
        )]])
    return over_text(context.l10n, campaign, locale), markup


async def tell_over(context: CampaignContext, chat_id: int, locale: str) -> None:
    """Send the campaign-over message."""
    text, markup = over_reply(context, locale)
    await context.bot.send_message(chat_id, text, reply_markup=markup)

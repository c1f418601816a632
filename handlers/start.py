"""/start: the welcome with the campaign photo, the summary, progress and the main buttons."""

from __future__ import annotations

import functools

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.botapi.campaign_photo import send_campaign_photo
from bot.botapi.text_split import TELEGRAM_CAPTION_LIMIT
from bot.campaign import Campaign
from bot.context import CampaignApplication, CampaignContext
from bot.donations.ledger import Totals
from bot.i18n import Localizer
from bot.referrals import parse_referral
from bot.reports.progress import progress_line
from handlers import callbacks

# Welcomes kept, by language and totals: a burst of /start between two gifts formats one per
# language instead of one each.
WELCOMES_KEPT = 16


@functools.lru_cache(maxsize=WELCOMES_KEPT)
def welcome(
    l10n: Localizer, campaign: Campaign, locale: str, totals: Totals
) -> tuple[str, InlineKeyboardMarkup]:
    """The welcome's text with the progress it shows, and the main buttons under it."""
    progress = progress_line(l10n, locale, totals, campaign)
    return l10n.format(locale, "start-welcome", progress=progress), main_menu(
        l10n, locale, with_needs=bool(campaign.needs)
    )


def main_menu(l10n: Localizer, locale: str, with_needs: bool = False) -> InlineKeyboardMarkup:
    """Donate, Full story, Follow updates, What your gifts buy (with needs), Language."""
    def button(message_id: str, target: CallbackFormat) -> InlineKeyboardButton:
        return InlineKeyboardButton(l10n.format(locale, message_id), callback_data=target.data())

    return InlineKeyboardMarkup(
        [
            [button("start-button-donate", callbacks.DONATE)],
            [
                button("start-button-story", callbacks.STORY),
                button("start-button-follow", callbacks.FOLLOW),
            ],
            *([[button("needs-button-board", callbacks.NEEDS)]] if with_needs else []),
            [button("start-button-language", callbacks.LANGUAGE)],
        ]
    )


async def start(update: Update, context: CampaignContext) -> None:
    """Welcome the supporter in their language with the photo, summary and progress."""
    message = update.effective_message
    if message is None or update.effective_user is None:
        return
    user = update.effective_user
    state = await context.state_of(user)
    locale = state.locale
    args = context.args or []
    referral = parse_referral(args[0]) if len(args) == 1 else None
    # Their own link opened by the supporter themselves brings nobody: not a referral.
    if referral is not None and not await context.sharing.is_own(referral, user.id):
        await context.users.remember_referral(user.id, referral)
    if state.blocked:
        # A subscriber who had blocked the bot and comes back gets the news again.
        await context.subscribers.reactivate(user.id, locale)
    campaign = context.settings.campaign
    text, markup = welcome(context.l10n, campaign, locale, state.totals)
    if campaign.photo is not None and len(text) <= TELEGRAM_CAPTION_LIMIT:
        await send_campaign_photo(
            context.bot, context.users, message.chat_id, campaign.photo, state.photo_file_id,
            text, markup,
        )
    else:
        await message.reply_text(text, reply_markup=markup)


def register(application: CampaignApplication) -> None:
    application.add_handler(CommandHandler("start", start))

"""/start: the welcome with the campaign photo, the summary, progress and the main buttons."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.botapi.callback_data import CallbackFormat
from bot.botapi.campaign_photo import send_campaign_photo
from bot.botapi.text_split import TELEGRAM_CAPTION_LIMIT
from bot.context import CampaignApplication, CampaignContext
from bot.referrals import parse_referral
from bot.reports.progress import progress_line
from handlers import callbacks


def main_menu(context: CampaignContext, locale: str) -> InlineKeyboardMarkup:
    """Donate, Full story, Follow updates, Language."""
    def button(message_id: str, target: CallbackFormat) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            context.text(locale, message_id), callback_data=target.data()
        )

    return InlineKeyboardMarkup(
        [
            [button("start-button-donate", callbacks.DONATE)],
            [
                button("start-button-story", callbacks.STORY),
                button("start-button-follow", callbacks.FOLLOW),
            ],
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
    if referral is not None:
        await context.users.remember_referral(user.id, referral)
    if state.blocked:
        # A subscriber who had blocked the bot and comes back gets the news again.
        await context.subscribers.reactivate(user.id, locale)
    campaign = context.settings.campaign
    progress = progress_line(context.l10n, locale, state.totals, campaign)
    welcome = context.text(locale, "start-welcome", progress=progress)
    markup = main_menu(context, locale)
    if campaign.photo is not None and len(welcome) <= TELEGRAM_CAPTION_LIMIT:
        await send_campaign_photo(
            context.bot, context.users, message.chat_id, campaign.photo, state.photo_file_id,
            welcome, markup,
        )
    else:
        await message.reply_text(welcome, reply_markup=markup)


def register(application: CampaignApplication) -> None:
    application.add_handler(CommandHandler("start", start))

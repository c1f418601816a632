"""/story and the Full story button: the whole story in the reader's language, with the video."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.botapi.text_split import split_message
from bot.context import CampaignApplication, CampaignContext
from handlers import callbacks


def story_messages(context: CampaignContext, locale: str) -> list[str]:
    """The story, the video link and its credits, split at paragraphs under Telegram's limit."""
    paragraphs = [context.text(locale, "story-text")]
    video_url = context.settings.campaign.video_url
    if video_url:
        paragraphs.append(context.text(locale, "story-video", url=html.escape(video_url)))
        paragraphs.append(context.text(locale, "story-video-credits"))
    return split_message("\n\n".join(paragraphs))


async def story(update: Update, context: CampaignContext) -> None:
    """Send the full story, with a Donate button under its last part."""
    if update.callback_query is not None:
        await update.callback_query.answer()
    chat = update.effective_chat
    if chat is None:
        return
    locale = await context.locale_for(update)
    parts = story_messages(context, locale)
    donate = InlineKeyboardMarkup(
        [[InlineKeyboardButton(
            context.text(locale, "story-button-donate"), callback_data=callbacks.DONATE.data()
        )]]
    )
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        await context.bot.send_message(
            chat.id, part, reply_markup=donate if last else None,
            disable_web_page_preview=not last,
        )


def register(application: CampaignApplication) -> None:
    application.add_handler(CommandHandler("story", story))
    application.add_handler(CallbackQueryHandler(story, pattern=callbacks.STORY.pattern))

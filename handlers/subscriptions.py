"""/subscribe, /unsubscribe and Follow updates; a chat that blocks the bot stops receiving."""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.ext import CallbackQueryHandler, ChatMemberHandler, CommandHandler

from bot.context import CampaignApplication, CampaignContext
from handlers import callbacks, settings


async def subscribe(update: Update, context: CampaignContext) -> None:
    """Follow the news; subscribing twice is harmless and says so."""
    query = update.callback_query
    user = update.effective_user
    if user is None:
        return
    locale = await context.locale_for(update)
    added = await context.subscribers.subscribe(user.id, locale)
    text = context.text(locale, "subscribe-done" if added else "subscribe-already")
    if query is not None:
        await query.answer()
    await context.bot.send_message(
        user.id, text, reply_markup=settings.settings_button(context, locale)
    )


async def unsubscribe(update: Update, context: CampaignContext) -> None:
    """Stop the news."""
    user = update.effective_user
    if user is None:
        return
    removed = await context.subscribers.unsubscribe(user.id)
    await context.reply(update, "unsubscribe-done" if removed else "unsubscribe-not-subscribed")


async def membership_changed(update: Update, context: CampaignContext) -> None:
    """Blocking the bot marks the subscriber inactive; unblocking brings them back."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    status = change.new_chat_member.status
    user_id = change.chat.id
    if status in (ChatMember.BANNED, ChatMember.LEFT):
        await context.subscribers.mark_blocked(user_id)
    elif status == ChatMember.MEMBER:
        await context.subscribers.reactivate(user_id, await context.locale_of(change.from_user))


def register(application: CampaignApplication) -> None:
    application.add_handler(CommandHandler("subscribe", subscribe))
    application.add_handler(CommandHandler("unsubscribe", unsubscribe))
    application.add_handler(CallbackQueryHandler(subscribe, pattern=callbacks.FOLLOW.pattern))
    application.add_handler(
        ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER)
    )

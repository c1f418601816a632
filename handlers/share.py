"""/share: the supporter's own link to the campaign, a button to pass it on, and its tally."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler, filters

from bot.context import CampaignApplication, CampaignContext
from bot.donations.sharing import Tally
from bot.i18n import Localizer, money


def share_message(
    l10n: Localizer, currency: str, locale: str, url: str, tally: Tally
) -> tuple[str, InlineKeyboardMarkup]:
    """The link, what it brought once it has, and Telegram's share button for it."""
    lines = [l10n.format(locale, "share-text", url=url), ""]
    if tally.count:
        lines.append(l10n.format(
            locale, "share-tally", count=tally.count, amount=money(tally.amount, currency)
        ))
    else:
        lines.append(l10n.format(locale, "share-tally-none"))
    invitation = l10n.format(locale, "share-invitation")
    # Telegram's own share sheet: the supporter picks the chats, the bot learns nothing.
    query = urlencode({"url": url, "text": invitation}, quote_via=quote)
    target = f"https://t.me/share/url?{query}"
    button = InlineKeyboardButton(l10n.format(locale, "share-button"), url=target)
    return "\n".join(lines), InlineKeyboardMarkup([[button]])


async def share(update: Update, context: CampaignContext) -> None:
    """Show the supporter their link, made on their first /share and the same ever after."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    locale = await context.locale_for(update)
    code = await context.sharing.code_of(user.id)
    url = f"https://t.me/{context.bot.username}?start={code}"
    text, markup = share_message(
        context.l10n, context.settings.campaign.currency, locale, url,
        await context.sharing.tally(code),
    )
    await message.reply_text(text, reply_markup=markup)


def register(application: CampaignApplication) -> None:
    # The tally is the supporter's own: never posted in a group (as /mygift).
    application.add_handler(CommandHandler("share", share, filters=filters.ChatType.PRIVATE))

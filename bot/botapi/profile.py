"""The bot's command menu and descriptions, registered in every language at start-up."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from bot.i18n import FALLBACK_LOCALE, Localizer

log = logging.getLogger(__name__)

# The supporters' menu, in the order Telegram shows it.
SUPPORTER_COMMANDS = (
    "start", "story", "donate", "mygift", "progress", "needs", "spending", "subscribe",
    "unsubscribe", "settings", "updates", "share",
    "language", "forget", "help",
)


def supporter_commands(l10n: Localizer, locale: str) -> list[BotCommand]:
    """The command menu in one language."""
    return [
        BotCommand(name, l10n.format(locale, f"command-{name}")) for name in SUPPORTER_COMMANDS
    ]


async def publish_bot_profile(bot: Bot, l10n: Localizer) -> None:
    """Register commands and descriptions per language, plus an English default for the rest."""
    targets: list[tuple[str, str | None]] = [(FALLBACK_LOCALE, None)]
    targets += [(locale, locale) for locale in l10n.locales]
    for locale, language_code in targets:
        try:
            await bot.set_my_commands(
                supporter_commands(l10n, locale), language_code=language_code
            )
            await bot.set_my_description(
                l10n.format(locale, "bot-description"), language_code=language_code
            )
            await bot.set_my_short_description(
                l10n.format(locale, "bot-short-description"), language_code=language_code
            )
        except TelegramError as exc:
            # The profile is cosmetic; a flood limit here must not keep the bot from starting.
            log.warning(
                "could not publish bot profile locale=%s error=%s", locale, type(exc).__name__
            )

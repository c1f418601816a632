"""The button row under every broadcast message: "Fewer messages" and "Stop", per language.

Built here, not in handlers/settings.py (which answers the taps), so the engine can put it on
the messages it posts without importing a handler.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.botapi.callback_data import CallbackFormat
from bot.i18n import SUPPORTED_LOCALES, Localizer

FEWER = CallbackFormat("pref:fewer")
LEAVE = CallbackFormat("pref:stop")


def preference_row(l10n: Localizer, locale: str) -> InlineKeyboardMarkup:
    """The row as a subscriber reading `locale` sees it."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(l10n.format(locale, "settings-button-fewer"),
                             callback_data=FEWER.data()),
        InlineKeyboardButton(l10n.format(locale, "settings-button-stop"),
                             callback_data=LEAVE.data()),
    ]])


def preference_rows(l10n: Localizer) -> dict[str, str]:
    """Per locale, the row as the Bot API's reply_markup field (JSON), encoded once."""
    return {locale: preference_row(l10n, locale).to_json() for locale in SUPPORTED_LOCALES}

"""Whether a broadcast's text fits Telegram's limits, as sent and as /updates will show it."""

from __future__ import annotations

from datetime import datetime

from bot.botapi.text_split import TELEGRAM_CAPTION_LIMIT, TELEGRAM_TEXT_LIMIT, telegram_length
from bot.context import CampaignContext
from bot.i18n import SUPPORTED_LOCALES
from handlers.updates_archive import longest_archive_page


def length_refusal(
    context: CampaignContext, locale: str, language: str, text: str, *, photo: bool
) -> str | None:
    """What to tell the organizer when a text is too long, by how much; None when it fits."""
    today = datetime.now(context.settings.campaign.timezone).date()
    # A language left blank falls back to the other, so any reader's header may top the text.
    # Sent alone, without a photo, a text is shorter than that: the archive is the bound.
    archived = max(
        telegram_length(longest_archive_page(context.l10n, reader, today, text))
        for reader in SUPPORTED_LOCALES
    )
    excesses = [
        (archived - TELEGRAM_TEXT_LIMIT, "broadcast-too-long-archive", TELEGRAM_TEXT_LIMIT)
    ]
    if photo:
        excesses.append((
            telegram_length(text) - TELEGRAM_CAPTION_LIMIT, "broadcast-too-long-caption",
            TELEGRAM_CAPTION_LIMIT,
        ))
    excess, message_id, limit = max(excesses)
    if excess <= 0:
        return None
    return context.text(
        locale, message_id, language=context.text(locale, f"broadcast-language-{language}"),
        count=excess, max=limit,
    )

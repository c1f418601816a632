"""What one digest says: a header, then each update with its date, newest last, in the
reader's language, cut under Telegram's limits; a lone photo carries it as its caption."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bot.botapi.text_split import TELEGRAM_CAPTION_LIMIT, split_message, telegram_length
from bot.broadcasts.store import Broadcast
from bot.i18n import Localizer, long_date

# One Bot API call of a digest: the method and its form, all but the chat_id.
Part = tuple[str, bytes]


def digest_parts(
    l10n: Localizer, locale: str, cadence: str, updates: list[Broadcast], zone: ZoneInfo,
    row: str,
) -> list[Part]:
    """The calls that deliver `updates` (oldest first) as one digest, the button row `row`
    (reply_markup JSON) under its last message.

    Several photos go as a line pointing to /updates rather than an album: an album is a call
    of its own whose parts Telegram may accept in part, which no single mark could record."""
    blocks = [l10n.format(locale, f"digest-header-{cadence}", count=len(updates))]
    for update in updates:
        day = datetime.fromtimestamp(update.started_at / 1000, zone).date()
        date_line = l10n.format(locale, "digest-update-date", date=long_date(day, locale))
        blocks.append(f"{date_line}\n{update.content.text_for(locale)}")
    text = "\n\n".join(blocks)
    photos = [update.content.photo for update in updates if update.content.photo]
    if len(photos) == 1 and telegram_length(text) <= TELEGRAM_CAPTION_LIMIT:
        return [("sendPhoto", _form(photo=photos[0], caption=text, reply_markup=row))]
    if photos:
        text += "\n\n" + l10n.format(locale, "digest-photos", count=len(photos))
    parts = split_message(text)
    return [
        ("sendMessage", _form(text=part, reply_markup=row) if n == len(parts) - 1 else
         _form(text=part))
        for n, part in enumerate(parts)
    ]


def _form(**fields: str) -> bytes:
    return urlencode({**fields, "parse_mode": "HTML"}).encode()

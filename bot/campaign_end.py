"""When giving ends, and where the campaign file points people after it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import SUPPORTED_LOCALES

# A pointer is a line or two under "the campaign is over", not a page.
MAX_AFTER_END_TEXT = 300


@dataclass(frozen=True)
class CampaignEnd:
    """The last day of giving (None: no end date) and what to say after it, per language."""

    last_day: date | None = None
    url: str = ""
    # Left out of the hash (a dict has none): the welcome and offer caches key on the campaign.
    texts: Mapping[str, str] = field(default_factory=dict, hash=False)

    def over(self, now: float, zone: ZoneInfo, closed: int) -> bool:
        """Past the last day, or closed by its report (`closed`: the report's broadcast id)."""
        return bool(closed) or self.passed(now, zone)

    def passed(self, now: float, zone: ZoneInfo) -> bool:
        """Whether `now` (epoch seconds) is after the last day, in the campaign's time zone."""
        if self.last_day is None:
            return False
        after = datetime.combine(self.last_day + timedelta(days=1), datetime.min.time(), zone)
        return now >= after.timestamp()


def read_end_date(value: Any) -> date | None:
    """The campaign file's `end_date`: a date such as 2027-03-31, or absent."""
    if value in (None, ""):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a date such as 2027-03-31") from None


def read_after_end(value: Any) -> tuple[str, dict[str, str]]:
    """The campaign file's [after_end] table: an https url and/or a short text per language."""
    if not isinstance(value, Mapping):
        raise ValueError("must be a table with url, en and fr")
    unknown = sorted(set(value) - {"url", *SUPPORTED_LOCALES})
    if unknown:
        raise ValueError(f"has unknown keys {', '.join(unknown)}")
    url = value.get("url", "")
    if not isinstance(url, str) or (url and not url.startswith("https://")):
        raise ValueError("url must start with https://")
    texts = {locale: value[locale] for locale in SUPPORTED_LOCALES if locale in value}
    for locale, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{locale} must be a non-empty text")
        if len(text) > MAX_AFTER_END_TEXT:
            raise ValueError(f"{locale} is longer than {MAX_AFTER_END_TEXT} characters")
    if texts and len(texts) != len(SUPPORTED_LOCALES):
        raise ValueError(f"needs a text in every language ({', '.join(SUPPORTED_LOCALES)})")
    return url, {locale: text.strip() for locale, text in texts.items()}

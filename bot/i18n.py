"""Fluent localisation: one bundle per locale, English fallback, money through Fluent numbers."""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from babel import Locale
from babel.dates import format_date
from fluent.runtime import FluentBundle, FluentResource
from fluent.runtime.types import FluentDecimal, FluentType

import locales
from bot.money import minor_to_decimal

log = logging.getLogger(__name__)

# The languages the bot speaks: a locales/<name>/ folder each, parity checked by a test.
SUPPORTED_LOCALES = ("en", "fr")
FALLBACK_LOCALE = "en"
# RFC 9110's qvalue: 0 to 1 with at most three decimals.
_QVALUE = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")
# Found through the package, not beside bot/: an installed wheel has no source tree around it.
LOCALES_DIR = Path(locales.__file__).resolve().parent


def resolve_locale(language_code: str | None) -> str:
    """Map Telegram's language_code ("fr", "fr-FR", "fr-ca", "de", None) to a supported locale."""
    primary = _primary_subtag(language_code or "")
    return primary if primary in SUPPORTED_LOCALES else FALLBACK_LOCALE


def _primary_subtag(tag: str) -> str:
    return tag.strip().replace("_", "-").split("-", 1)[0].lower()


def locale_from_accept_language(header: str | None) -> str:
    """The supported locale a browser's Accept-Language weighs highest (RFC 9110 q-values)."""
    named: dict[str, int] = {}
    wildcard: int | None = None
    for item in (header or "").split(","):
        language_range, *parameters = item.split(";")
        weight = _weight(parameters)
        primary = _primary_subtag(language_range)
        if weight is None:
            continue
        if primary == "*":
            wildcard = max(wildcard or 0, weight)
        elif primary in SUPPORTED_LOCALES:
            # "fr-CA, fr;q=0" still accepts French: the most accepting range counts.
            named[primary] = max(named.get(primary, 0), weight)
    # Ties go to the language named first, then to the fallback.
    order = list(dict.fromkeys([*named, FALLBACK_LOCALE, *SUPPORTED_LOCALES]))
    weights = {locale: named.get(locale, wildcard) for locale in order}
    best = max(order, key=lambda locale: weights[locale] or 0)
    if weights[best]:
        return best
    # Nothing acceptable: q=0 means "not this one", so prefer a language left unmentioned.
    return next((locale for locale in order if weights[locale] is None), FALLBACK_LOCALE)


def _weight(parameters: list[str]) -> int | None:
    """A range's q-value in thousandths (1000 when absent); None when it is malformed."""
    weight = 1000
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() != "q":
            continue
        value = value.strip()
        if _QVALUE.fullmatch(value) is None:
            return None
        whole, _, fraction = value.partition(".")
        weight = int(whole) * 1000 + int(fraction.ljust(3, "0"))
    return weight


def supported_locale(locale: str) -> str:
    """The locale itself if the bot speaks it; anything else is refused with ValueError."""
    if locale not in SUPPORTED_LOCALES:
        raise ValueError(f"unsupported locale {locale[:8]!r}")
    return locale


class MoneyAmount(FluentType):
    """An amount for Fluent: a currency NUMBER whose fraction digits we choose ("10 €", "€10")."""

    def __init__(self, number: FluentDecimal) -> None:
        self.number = number

    def format(self, locale: Locale) -> str:
        # Fluent's NUMBER always forces the currency's two decimals; honour the fraction digits
        # the way Intl.NumberFormat does. Kept out of Decimal so Fluent does not re-wrap it.
        pattern = self.number._apply_options(locale.currency_formats["standard"])
        formatted: str = pattern.apply(
            Decimal(self.number), locale, currency=self.number.options.currency,
            currency_digits=False,
        )
        return formatted


def long_date(day: date, locale: str) -> str:
    """A day in full ("1 December 2026"); French writes the first of a month "1er"."""
    if day.day == 1 and _primary_subtag(locale) == "fr":
        return format_date(day, format="'1er' MMMM y", locale=locale)
    return format_date(day, format="long", locale=locale)


def money(minor: int, currency: str) -> MoneyAmount:
    """A Fluent argument for an amount in minor units; whole amounts show no cents."""
    value = minor_to_decimal(minor)
    digits = 0 if value == value.to_integral_value() else 2
    return MoneyAmount(
        FluentDecimal(
            value, style="currency", currency=currency, minimumFractionDigits=digits,
            maximumFractionDigits=digits,
        )
    )


class Localizer:
    """Formats message ids for a locale explicitly passed in; never a global current language."""

    def __init__(self, locales_dir: Path = LOCALES_DIR) -> None:
        self._bundles: dict[str, FluentBundle] = {}
        for locale in SUPPORTED_LOCALES:
            bundle = FluentBundle([locale], use_isolating=False)
            for path in sorted((locales_dir / locale).glob("*.ftl")):
                bundle.add_resource(FluentResource(path.read_text(encoding="utf-8")))
            self._bundles[locale] = bundle

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(self._bundles)

    def message_ids(self, locale: str) -> set[str]:
        """Every message id defined for a locale (terms excluded)."""
        return set(self._bundles[locale]._messages)

    def format(self, locale: str, message_id: str, **args: Any) -> str:
        """The message in that locale, else in English; a missing id is a bug and raises."""
        bundle = self._bundles.get(locale, self._bundles[FALLBACK_LOCALE])
        if not bundle.has_message(message_id):
            bundle = self._bundles[FALLBACK_LOCALE]
        message = bundle.get_message(message_id)
        if message.value is None:
            raise KeyError(f"message {message_id} has no value")
        text, errors = bundle.format_pattern(message.value, args)
        for error in errors:
            # Only the id and the kind of error: arguments may hold names or amounts.
            log.warning("fluent error id=%s error=%s", message_id, error.__class__.__name__)
        return cast(str, text)

    def format_errors(self, locale: str, message_id: str, **args: Any) -> list[Exception]:
        """The formatting errors of one message, for the locale parity tests."""
        bundle = self._bundles[locale]
        message = bundle.get_message(message_id)
        if message.value is None:
            return [KeyError(message_id)]
        return bundle.format_pattern(message.value, args)[1]

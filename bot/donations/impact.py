"""Impact units: what an amount buys for the people in Calais, worded per language."""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal

from bot.i18n import SUPPORTED_LOCALES, Localizer, money
from bot.money import major_to_minor

COUNT = "{count}"
MAX_TEXT = 80


@dataclass(frozen=True)
class ImpactWording:
    """One language's words for a unit: for one of it, and for several with {count}."""

    locale: str
    one: str
    several: str


@dataclass(frozen=True)
class ImpactUnit:
    """An amount (minor units) and what it buys, in every language the bot speaks."""

    amount: int
    wordings: tuple[ImpactWording, ...]

    def text(self, locale: str, count: int = 1) -> str:
        """The unit's words in `locale`, for `count` of it."""
        wording = next(w for w in self.wordings if w.locale == locale)
        if count == 1:
            return wording.one
        return wording.several.replace(COUNT, format_decimal(count, locale=locale))


def read_impact_units(value: Any) -> tuple[ImpactUnit, ...]:
    """The campaign file's [[impact]] entries, smallest first; refuses any entry it cannot use."""
    if not isinstance(value, list):
        raise ValueError("must be a list of [[impact]] entries")
    units = [_unit(index, entry) for index, entry in enumerate(value, start=1)]
    amounts = [unit.amount for unit in units]
    if len(set(amounts)) != len(amounts):
        raise ValueError("has two entries with the same amount")
    return tuple(sorted(units, key=lambda unit: unit.amount))


def _unit(index: int, entry: Any) -> ImpactUnit:
    where = f"entry {index}"
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where} must be a table with amount, en and fr")
    try:
        amount = major_to_minor(entry.get("amount"))
    except ValueError as exc:
        raise ValueError(f"{where} amount {exc}") from None
    if amount <= 0:
        raise ValueError(f"{where} amount must be greater than zero")
    wordings = tuple(_wording(where, locale, entry.get(locale)) for locale in SUPPORTED_LOCALES)
    return ImpactUnit(amount, wordings)


def _wording(where: str, locale: str, value: Any) -> ImpactWording:
    shape = f'{{ one = "…", several = "{COUNT} …" }}'
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} needs {locale} = {shape}")
    one = _text(f"{where} {locale}.one", value.get("one"))
    several = _text(f"{where} {locale}.several", value.get("several"))
    if COUNT not in several:
        raise ValueError(f"{where} {locale}.several must contain {COUNT}")
    return ImpactWording(locale, one, several)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_TEXT:
        raise ValueError(f"{name} must be a text of 1 to {MAX_TEXT} characters")
    return value.strip()


def largest_fit(units: tuple[ImpactUnit, ...], gift: int) -> tuple[ImpactUnit, int] | None:
    """The largest unit the gift pays for and how many of it; None below the smallest."""
    fitting = [unit for unit in units if unit.amount <= gift]
    if not fitting:
        return None
    unit = fitting[-1]
    return unit, gift // unit.amount


@functools.lru_cache(maxsize=8)
def impact_lines(
    l10n: Localizer, units: tuple[ImpactUnit, ...], currency: str, locale: str
) -> str:
    """Under the donate prompt, what each unit's amount buys; nothing without units."""
    if not units:
        return ""
    lines = [l10n.format(locale, "impact-title")] + [
        l10n.format(
            locale, "impact-line", amount=money(unit.amount, currency),
            impact=html.escape(unit.text(locale)),
        )
        for unit in units
    ]
    return "\n\n" + "\n".join(lines)


# Gifts whose sentence is kept: the presets and common typed amounts, in both languages.
SENTENCES_KEPT = 256


@functools.lru_cache(maxsize=SENTENCES_KEPT)
def impact_sentence(
    l10n: Localizer, units: tuple[ImpactUnit, ...], currency: str, locale: str, gift: int
) -> str | None:
    """For the thank-you, what this gift is ("Your €30: 2 blankets"); None below every unit."""
    fit = largest_fit(units, gift)
    if fit is None:
        return None
    unit, count = fit
    return l10n.format(
        locale, "impact-thanks", amount=money(gift, currency),
        impact=html.escape(unit.text(locale, count)),
    )

"""The campaign's needs (blankets, tents...): what each costs, how many are wanted, how far along.

Money given to a need is kept in integer cents; its count is floor(cents / unit price), so no
gift is lost to rounding and two gifts of half a blanket make one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.i18n import SUPPORTED_LOCALES
from bot.money import major_to_minor

NEED_ID = "[a-z0-9-]{1,16}"
MAX_TEXT = 40
MAX_TARGET = 1_000_000
MAX_NEEDS = 8
BAR_CELLS = 5


@dataclass(frozen=True)
class Need:
    """One thing the campaign buys: its words per language, its price and how many are wanted."""

    need_id: str
    texts: tuple[tuple[str, str], ...]
    unit_price: int
    target: int
    photo: Path | None = None

    def text(self, locale: str) -> str:
        """The need's name in `locale`."""
        return dict(self.texts)[locale]

    @property
    def goal(self) -> int:
        """What the whole target costs, in minor units: the need is filled at this."""
        return self.unit_price * self.target

    def announcement_token(self) -> str:
        """The token of this need's one "filled" broadcast, the same in every process."""
        return f"need-filled-{self.need_id}"


@dataclass(frozen=True)
class NeedProgress:
    """A need as the board shows it: how many it paid for, and whether it is filled."""

    need: Need
    cents: int

    @property
    def count(self) -> int:
        return max(0, self.cents) // self.need.unit_price

    @property
    def filled(self) -> bool:
        return self.count >= self.need.target

    def bar(self) -> str:
        """Five cells, rounded down so a bar is full only once the need is."""
        full = min(BAR_CELLS, self.count * BAR_CELLS // self.need.target)
        return "▰" * full + "▱" * (BAR_CELLS - full)


@dataclass(frozen=True)
class NeedsBoard:
    """Every need's progress and the general pool, read from one summary hash."""

    needs: tuple[NeedProgress, ...]
    # Given "where it helps most", net of reversals, and how much of it organizers shared out.
    general: int = 0
    allocated: int = 0

    @property
    def unallocated(self) -> int:
        return self.general - self.allocated


def find_need(needs: tuple[Need, ...], need_id: str | None) -> Need | None:
    """The campaign's need with this id; None for none, or for an id it does not list."""
    return next((need for need in needs if need.need_id == need_id), None)


def read_needs(value: Any, photo: Callable[[Any], Path | None]) -> tuple[Need, ...]:
    """The campaign file's [[needs]] entries, in order; refuses any entry it cannot use."""
    if not isinstance(value, list) or len(value) > MAX_NEEDS:
        raise ValueError(f"must be a list of at most {MAX_NEEDS} [[needs]] entries")
    needs = tuple(_need(index, entry, photo) for index, entry in enumerate(value, start=1))
    ids = [need.need_id for need in needs]
    if len(set(ids)) != len(ids):
        raise ValueError("has two entries with the same id")
    return needs


def _need(index: int, entry: Any, photo: Callable[[Any], Path | None]) -> Need:
    where = f"entry {index}"
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where} must be a table with id, en, fr, unit_price and target")
    need_id = entry.get("id")
    if not isinstance(need_id, str) or not re.fullmatch(NEED_ID, need_id, re.ASCII):
        raise ValueError(f"{where} id must be 1 to 16 lowercase letters, digits or dashes")
    texts = tuple(
        (locale, _text(where, locale, entry.get(locale))) for locale in SUPPORTED_LOCALES
    )
    try:
        unit_price = major_to_minor(entry.get("unit_price"))
    except ValueError as exc:
        raise ValueError(f"{where} unit_price {exc}") from None
    if unit_price <= 0:
        raise ValueError(f"{where} unit_price must be greater than zero")
    target = entry.get("target")
    if not isinstance(target, int) or isinstance(target, bool) or not 0 < target <= MAX_TARGET:
        raise ValueError(f"{where} target must be a whole number from 1 to {MAX_TARGET}")
    try:
        picture = photo(entry.get("photo"))
    except ValueError as exc:
        raise ValueError(f"{where} photo {exc}") from None
    return Need(need_id, texts, unit_price, target, picture)


def _text(where: str, locale: str, value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_TEXT:
        raise ValueError(f"{where} {locale} must be a text of 1 to {MAX_TEXT} characters")
    return value.strip()


def gift_need_fields(need: Need | None) -> dict[str, str]:
    """What the ledger's record script (ledger_scripts.py RECORD) needs to count a gift on the
    board: the need and the cents that fill it, or nothing for a gift to the general pool."""
    if need is None:
        return {}
    return {"need": need.need_id, "need_goal": str(need.goal),
            "need_token": need.announcement_token()}

"""Covering the card fees: what to add to a gift so that all of it reaches the cause."""

from __future__ import annotations

import re
from dataclasses import dataclass

BASIS_POINTS = 10_000
# A rate above this is surely a typo (Stripe's dearest card rates stay well under it).
MAX_RATE_BP = 1_000


@dataclass(frozen=True)
class FeeRule:
    """The processor's price of a card payment: a rate in basis points plus a fixed part."""

    # 150 basis points and 25 cents: Stripe's price for European cards.
    rate_bp: int = 150
    fixed: int = 25

    def cover(self, gift: int) -> int:
        """What to add to `gift` (minor units) so that, once the fee is taken, `gift` is left.

        The total T must satisfy T - (T * rate + fixed) >= gift, so T = ceil((gift + fixed) /
        (1 - rate)); in integers, a ceiling division by (10000 - rate_bp) / 10000.
        """
        total = -(-(gift + self.fixed) * BASIS_POINTS // (BASIS_POINTS - self.rate_bp))
        return total - gift


def rate_basis_points(value: object) -> int:
    """A configured percentage (whole number or quoted decimal like "1.5") in basis points."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
    else:
        raise ValueError('must be a whole percentage or a quoted decimal such as "1.5"')
    match = re.fullmatch(r"(\d{1,2})(?:\.(\d{1,2}))?", text, re.ASCII)
    if match is None:
        raise ValueError(f'{value!r} is not a percentage such as "1.5"')
    rate = int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))
    if rate > MAX_RATE_BP:
        raise ValueError(f"must be at most {MAX_RATE_BP // 100} percent")
    return rate


def split_paid(paid: int, metadata: dict[str, str]) -> tuple[int, int]:
    """A payment's gift and the card fee its donor covered, from the pledge's metadata.

    The fee is taken off what was paid, rather than the gift read from metadata, so a gift
    whose amount changed since (a monthly gift's new amount) still splits right; a missing or
    unreadable fee means none was covered, as for every gift before this feature.
    """
    fee = min(covered_fee(metadata), paid)
    return paid - fee, fee


def covered_fee(metadata: dict[str, str]) -> int:
    """The card fee a pledge's donor chose to cover (minor units), 0 when none or unreadable."""
    raw = metadata.get("covered_fee", "")
    return int(raw) if raw.isascii() and raw.isdigit() else 0

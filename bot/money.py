"""Money as integers in minor units: parsing what people type and what organizers configure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

# Currencies the campaign may use, with their number of minor digits. Stripe treats these as
# two-decimal currencies; zero-decimal ones would need a different parser and are refused.
MINOR_DIGITS = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2}
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}

# Stripe refuses charges below this (EUR 0.50), whatever the campaign says.
STRIPE_MINIMUM_MINOR = 50

# ASCII digits only (re.ASCII), one optional decimal separator, at most two decimals, an optional
# currency sign or code on either side. Everything else ("1_000", "1e3", "NaN", "-5", "١٠") fails.
_AMOUNT = re.compile(
    r"""^\s*
    (?P<pre>[€$£]|eur|usd|gbp|chf)?\s*
    (?P<units>\d{1,9})
    (?:[.,](?P<cents>\d{1,2}))?
    \s*(?P<post>[€$£]|eur|usd|gbp|chf)?\s*$""",
    re.ASCII | re.IGNORECASE | re.VERBOSE,
)


# A minus sign (ASCII or typographic) where the amount's digits would start.
_NEGATIVE = re.compile(
    r"^\s*(?:[€$£]|eur|usd|gbp|chf)?\s*[-\u2212]\s*\d", re.ASCII | re.IGNORECASE
)

_AMOUNT_FORMAT = 'must be a whole number or a quoted decimal such as "2.50"'


class AmountProblem(Enum):
    """Why a typed amount was refused; each maps to one localised line."""

    NOT_A_NUMBER = "not-a-number"
    TOO_SMALL = "too-small"
    TOO_LARGE = "too-large"
    # Zero or below: a minus sign, or nothing but zeros.
    NOT_POSITIVE = "not-positive"


@dataclass(frozen=True)
class AmountRefused(Exception):
    """A typed amount the bot cannot accept, and why."""

    problem: AmountProblem


def parse_amount(text: str, *, minimum: int, maximum: int, charged: bool = True) -> int:
    """Parse what was typed ("15", "15,50", "€15") into minor units within the bounds; an
    amount Stripe will charge (`charged`) is also held to Stripe's minimum, a spend or an
    allocation is not."""
    if _NEGATIVE.match(text):
        raise AmountRefused(AmountProblem.NOT_POSITIVE)
    match = _AMOUNT.match(text)
    if match is None or (match["pre"] and match["post"]):
        raise AmountRefused(AmountProblem.NOT_A_NUMBER)
    cents = (match["cents"] or "").ljust(2, "0")
    minor = int(match["units"]) * 100 + int(cents)
    if minor == 0:
        raise AmountRefused(AmountProblem.NOT_POSITIVE)
    if minor < (max(minimum, STRIPE_MINIMUM_MINOR) if charged else minimum):
        raise AmountRefused(AmountProblem.TOO_SMALL)
    if minor > maximum:
        raise AmountRefused(AmountProblem.TOO_LARGE)
    return minor


def major_to_minor(value: object) -> int:
    """A configured amount (integer or quoted decimal string, never a float) in minor units."""
    if isinstance(value, bool):
        raise ValueError(_AMOUNT_FORMAT)
    if isinstance(value, int):
        if value < 0:
            raise ValueError("must not be negative")
        return value * 100
    if isinstance(value, str):
        match = re.fullmatch(r"(\d{1,9})(?:\.(\d{1,2}))?", value.strip(), re.ASCII)
        if match is None:
            raise ValueError(f"{value!r} is not an amount like \"2.50\"")
        return int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))
    raise ValueError(f"{_AMOUNT_FORMAT} (floats are inexact)")


def minor_to_decimal(minor: int) -> Decimal:
    """Exact decimal value of an amount in minor units, for formatting only."""
    return Decimal(minor).scaleb(-2)

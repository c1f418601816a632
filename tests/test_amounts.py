"""The amount a donor types: accepted forms, and a refusal for everything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.money import AmountProblem, AmountRefused, major_to_minor, parse_amount

MIN, MAX = 200, 1_000_000


@pytest.mark.parametrize(
    ("typed", "minor"),
    [("15", 1500), ("15,50", 1550), ("15.50", 1550), ("€15", 1500), ("15 €", 1500),
     ("15€", 1500), (" 15.5 ", 1550), ("EUR 20", 2000), ("2", 200), ("10000", 1_000_000),
     ("0015", 1500)],
)
def test_accepted_forms(typed: str, minor: int) -> None:
    assert parse_amount(typed, minimum=MIN, maximum=MAX) == minor


@pytest.mark.parametrize(
    ("typed", "problem"),
    [("abc", AmountProblem.NOT_A_NUMBER), ("-5", AmountProblem.NOT_POSITIVE),
     ("€ −5", AmountProblem.NOT_POSITIVE), ("0", AmountProblem.NOT_POSITIVE),
     ("0,00", AmountProblem.NOT_POSITIVE), ("1.99", AmountProblem.TOO_SMALL),
     ("0.49", AmountProblem.TOO_SMALL), ("10000.01", AmountProblem.TOO_LARGE),
     ("١٠", AmountProblem.NOT_A_NUMBER), ("1_000", AmountProblem.NOT_A_NUMBER),
     ("1e3", AmountProblem.NOT_A_NUMBER), ("NaN", AmountProblem.NOT_A_NUMBER),
     ("inf", AmountProblem.NOT_A_NUMBER), ("15.505", AmountProblem.NOT_A_NUMBER),
     ("1,234", AmountProblem.NOT_A_NUMBER), ("1 000", AmountProblem.NOT_A_NUMBER),
     ("€15€", AmountProblem.NOT_A_NUMBER), ("", AmountProblem.NOT_A_NUMBER),
     ("15.", AmountProblem.NOT_A_NUMBER), (".5", AmountProblem.NOT_A_NUMBER),
     ("+15", AmountProblem.NOT_A_NUMBER), ("１５", AmountProblem.NOT_A_NUMBER)],
)
def test_refused_forms(typed: str, problem: AmountProblem) -> None:
    with pytest.raises(AmountRefused) as refused:
        parse_amount(typed, minimum=MIN, maximum=MAX)
    assert refused.value.problem is problem


@given(st.integers(min_value=0, max_value=10**9 - 1), st.integers(min_value=0, max_value=99))
def test_units_and_cents_round_trip_exactly(units: int, cents: int) -> None:
    for separator in (".", ","):
        typed = f"{units}{separator}{cents:02d}"
        try:
            minor = parse_amount(typed, minimum=0, maximum=10**12)
        except AmountRefused as refused:
            small = AmountProblem.TOO_SMALL if units or cents else AmountProblem.NOT_POSITIVE
            assert refused.problem is small
            assert units * 100 + cents < 50
        else:
            assert minor == units * 100 + cents


@given(st.text(max_size=20))
def test_any_text_is_either_a_bounded_integer_or_a_refusal(typed: str) -> None:
    try:
        minor = parse_amount(typed, minimum=MIN, maximum=MAX)
    except AmountRefused:
        return
    assert isinstance(minor, int)
    assert MIN <= minor <= MAX


def test_spends_and_allocations_take_a_cent_but_charges_keep_stripes_minimum() -> None:
    assert parse_amount("0,30", minimum=1, maximum=MAX, charged=False) == 30
    assert parse_amount("0.01", minimum=1, maximum=MAX, charged=False) == 1
    with pytest.raises(AmountRefused) as refused:
        parse_amount("0,30", minimum=1, maximum=MAX)
    assert refused.value.problem is AmountProblem.TOO_SMALL


def test_configured_amounts_refuse_floats() -> None:
    assert major_to_minor(5) == 500
    assert major_to_minor("2.50") == 250
    with pytest.raises(ValueError, match="floats"):
        major_to_minor(2.5)

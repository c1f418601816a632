"""Every message exists in French and English and formats without error."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fluent.syntax import FluentParser, ast, visitor

from bot.i18n import LOCALES_DIR, Localizer, money

SAMPLE_ARGS: dict[str, Any] = {
    "progress": "▰▱", "url": "https://example.org", "amount": money(1050, "EUR"),
    "raised": money(123450, "EUR"), "goal": money(1000000, "EUR"), "percent": 12,
    "donors": 3, "frequency": "monthly", "min": money(200, "EUR"), "max": money(1000000, "EUR"),
    "label": "x", "length": 250, "words": "courage", "name": "Camille",
    "language": "English", "error": "can't parse entities", "count": 12, "total": 40,
    "en": 25, "fr": 15, "when": "2026-12-24 18:00", "timezone": "Europe/Paris",
    "example": "2026-12-24 18:00", "id": 7, "sent": 30, "failed": 1, "blocked": 2,
    "uncertain": 0, "remaining": 7, "eta": 12, "status": "done", "index": 1, "date": "2026-11-26",
    "sum": money(4500, "EUR"), "subscribers": 120, "broadcasts": 1, "average": money(1500, "EUR"),
    "donations": 3, "monthly": 1, "monthlysum": money(1000, "EUR"), "refunded": money(0, "EUR"),
    "disputed": money(0, "EUR"), "code": "school-42", "currency": "EUR", "checked": 14,
    "fee": money(41, "EUR"), "impact": "2 blankets for a night",
    "year": "2026", "receipt": "12", "method": "card", "after": "partly",
    "kept": money(3000, "EUR"),
    "need": "Blankets", "target": 500, "filled": "yes", "bar": "▰▰▱▱▱",
    "pool": money(12000, "EUR"), "ids": "blankets, tents",
    # Spending (/spent, /spending, what a gift paid for).
    "text": "40 blankets", "entry": 3, "spent": money(12000, "EUR"), "left": money(7000, "EUR"),
    "over": "no",
    # The closing report and the beneficiaries' final summary.
    "facts": "<b>Thank you!</b>", "gross": money(125000, "EUR"), "fees": money(900, "EUR"),
    "transfer": money(73450, "EUR"), "needs": "Blankets (500), Tents (100)",
    # How often and when subscribers hear from the campaign (/settings, /stats).
    "day": "Sundays", "hours": "22:00–08:00", "every": 90, "daily": 20, "weekly": 10,
}


class VariableCollector(visitor.Visitor):
    """Gathers the $variables one message refers to."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_VariableReference(self, node: ast.VariableReference) -> None:
        self.names.add(node.id.name)


def variables(locale: str) -> dict[str, set[str]]:
    """Message id -> variables it uses, read from the .ftl sources."""
    found: dict[str, set[str]] = {}
    for path in sorted((LOCALES_DIR / locale).glob("*.ftl")):
        resource = FluentParser().parse(path.read_text(encoding="utf-8"))
        for entry in resource.body:
            if isinstance(entry, ast.Message):
                collector = VariableCollector()
                collector.visit(entry)
                found[entry.id.name] = collector.names
    return found


def test_french_and_english_define_the_same_messages() -> None:
    l10n = Localizer()
    english, french = l10n.message_ids("en"), l10n.message_ids("fr")
    assert english - french == set(), "missing in French"
    assert french - english == set(), "missing in English"
    assert len(english) > 50


def test_no_ftl_file_has_syntax_errors() -> None:
    for path in LOCALES_DIR.glob("*/*.ftl"):
        resource = FluentParser().parse(path.read_text(encoding="utf-8"))
        junk = [entry for entry in resource.body if isinstance(entry, ast.Junk)]
        assert not junk, f"{path}: {[entry.content for entry in junk]!r}"


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_every_message_formats_without_error(locale: str) -> None:
    l10n = Localizer()
    for message_id, names in variables(locale).items():
        assert names <= set(SAMPLE_ARGS), f"{message_id} uses {names - set(SAMPLE_ARGS)}"
        args = {name: SAMPLE_ARGS[name] for name in names}
        assert l10n.format_errors(locale, message_id, **args) == [], message_id


def test_messages_use_the_same_variables_in_both_languages() -> None:
    assert variables("en") == variables("fr")


@pytest.mark.parametrize(
    ("locale", "minor", "expected"),
    [
        ("fr", 123450, "1 234,50 €"),
        ("en", 123450, "€1,234.50"),
        ("fr", 1000, "10 €"),
        ("en", 1000, "€10"),
        ("fr", 50, "0,50 €"),
        ("en", 1005, "€10.05"),
    ],
)
def test_money_is_formatted_through_fluent_per_locale(
    locale: str, minor: int, expected: str
) -> None:
    text = Localizer().format(locale, "donate-button-amount", amount=money(minor, "EUR"))
    assert text.replace("\u202f", " ").replace("\xa0", " ") == expected


def test_money_never_goes_through_a_float() -> None:
    assert money(10, "EUR").number == Decimal("0.10")
    assert isinstance(money(10, "EUR").number, Decimal)

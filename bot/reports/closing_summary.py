"""The beneficiaries' final summary, sent once when the closing report is confirmed."""

from __future__ import annotations

from bot.donations.ledger import Totals
from bot.i18n import Localizer, money


def closing_summary(
    l10n: Localizer, locale: str, currency: str, totals: Totals, spent: int
) -> str:
    """Given, refunded, disputed, raised, fees covered, spent and what is left to transfer."""
    raised = max(0, totals.raised)
    # Stripe's fee on each gift is not recorded (only the part donors chose to cover is), so
    # what is left is shown before those fees, and the wording says so.
    return l10n.format(
        locale, "closing-beneficiary-summary",
        gross=money(totals.gross, currency), refunded=money(totals.refunded, currency),
        disputed=money(totals.disputed, currency), raised=money(raised, currency),
        fees=money(totals.fees_covered, currency), spent=money(spent, currency),
        transfer=money(max(0, raised - spent), currency),
    )

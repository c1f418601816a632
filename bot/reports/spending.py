"""Raised, spent and still to spend, as the one line /progress, the widget and /stats show."""

from __future__ import annotations

from bot.donations.spending import SpendingSummary
from bot.i18n import Localizer, money


def spending_line(
    l10n: Localizer, locale: str, raised: int, summary: SpendingSummary, currency: str,
    *, message_id: str = "spending-summary",
) -> str:
    """'Spent: €300 · still to spend: €900', or how much more was spent than raised: a
    negative balance is said plainly, never shown as zero."""
    # As /progress shows raised: refunds beyond the gifts never make it negative.
    left = max(0, raised) - summary.spent
    return l10n.format(
        locale, message_id, spent=money(summary.spent, currency),
        left=money(abs(left), currency), over="yes" if left < 0 else "no", count=summary.count,
    )

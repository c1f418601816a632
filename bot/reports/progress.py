"""How far the campaign is from its goal, as numbers and as the line every supporter sees."""

from __future__ import annotations

from bot.campaign import Campaign, percent_of_goal
from bot.donations.ledger import Totals
from bot.i18n import Localizer, money

BAR_WIDTH = 10


def progress_bar(raised: int, goal: int, width: int = BAR_WIDTH) -> str:
    """A text bar such as ▰▰▰▱▱▱▱▱▱▱, full once the goal is reached."""
    filled = min(width, max(0, raised) * width // goal)
    return "▰" * filled + "▱" * (width - filled)


def progress_line(l10n: Localizer, locale: str, totals: Totals, campaign: Campaign) -> str:
    """'€120 raised of €10,000 (1%) · 3 donors' in the reader's language, with the bar."""
    line = l10n.format(
        locale,
        "progress-line",
        raised=money(max(0, totals.raised), campaign.currency),
        goal=money(campaign.goal, campaign.currency),
        percent=percent_of_goal(totals.raised, campaign.goal),
        donors=totals.donors,
    )
    return f"{progress_bar(totals.raised, campaign.goal)}\n{line}"

"""A PNG of the money raised over time against the goal, drawn with matplotlib off-screen."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.campaign import Campaign
from bot.donations.ledger import DonationLedger
from bot.i18n import Localizer


@dataclass(frozen=True)
class ChartLabels:
    """Localised texts of the chart."""

    title: str
    x_axis: str
    y_axis: str
    goal: str
    raised: str


def render_progress_chart(
    points: list[tuple[int, int]], goal: int, labels: ChartLabels, zone: ZoneInfo
) -> bytes:
    """Cumulative amount (minor units) at each donation time (epoch s), as a 1000×500 PNG."""
    # Imported here: matplotlib costs memory and start-up time the other features never need.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import dates
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 5), dpi=100)
    axes = figure.subplots()
    times = [datetime.fromtimestamp(moment, zone) for moment, _ in points]
    # Major units for the axis only; the amounts themselves never left integer cents.
    raised = [total / 100 for _, total in points]
    if times:
        moments = dates.date2num(times)  # type: ignore[no-untyped-call]
        axes.step(
            moments, raised, where="post", color="#1f4e8c", linewidth=2, label=labels.raised
        )
        axes.xaxis_date(tz=zone)
        axes.xaxis.set_major_formatter(
            dates.DateFormatter("%d/%m", tz=zone)  # type: ignore[no-untyped-call]
        )
    axes.axhline(goal / 100, color="#c0392b", linestyle="--", label=labels.goal)
    axes.set_ylim(bottom=0, top=max([goal / 100, *raised]) * 1.1)
    axes.set_title(labels.title)
    axes.set_xlabel(labels.x_axis)
    axes.set_ylabel(labels.y_axis)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


async def campaign_chart(
    ledger: DonationLedger, l10n: Localizer, locale: str, campaign: Campaign, now: float
) -> bytes:
    """The chart of this campaign in `locale`, drawn in a worker thread."""
    points: list[tuple[int, int]] = []
    running = 0
    async for donation in ledger.donations():
        running += donation.net
        points.append((donation.created, running))
    if points:
        points.append((int(now), running))
    labels = ChartLabels(
        title=l10n.format(locale, "chart-title"),
        x_axis=l10n.format(locale, "chart-x-label"),
        y_axis=l10n.format(locale, "chart-y-label", currency=campaign.currency),
        goal=l10n.format(locale, "chart-goal"),
        raised=l10n.format(locale, "chart-raised"),
    )
    return await asyncio.to_thread(
        render_progress_chart, points, campaign.goal, labels, campaign.timezone
    )

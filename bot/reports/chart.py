"""A PNG of the money raised over time against the goal, drawn with matplotlib off-screen,
once per change of the totals, and sent by Telegram's file_id after its first upload."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import json
import logging
import weakref
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Message
from telegram.error import BadRequest
from telegram.ext import ExtBot

from bot.campaign import Campaign
from bot.clock import Clock
from bot.donations.ledger import DonationLedger, Totals
from bot.i18n import Localizer
from bot.storage.chart_files import ChartFiles

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class _Chart:
    """What one drawing shows; its fingerprint names it in Redis and in memory."""

    locale: str
    labels: ChartLabels
    now: float
    fingerprint: str


class ChartCache:
    """The progress chart per locale and totals: drawn once, uploaded once, then sent by id.

    The file_id lives in Redis, so every process and a restart reuse it; the PNG of the latest
    drawing per locale stays in memory, for a new upload when Telegram refuses a stale id or
    when the first upload failed. Within a process, a chart nobody has uploaded yet is drawn
    and uploaded by the first asker while the others wait for its file_id.
    """

    def __init__(
        self, bot: ExtBot[None], files: ChartFiles, ledger: DonationLedger, l10n: Localizer,
        campaign: Campaign, clock: Clock,
    ) -> None:
        self._bot = bot
        self._files = files
        self._ledger = ledger
        self._l10n = l10n
        self._campaign = campaign
        self._clock = clock
        # A lock lives while someone holds or awaits it, then leaves the mapping by itself.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._drawn: dict[str, tuple[str, bytes]] = {}

    async def send(self, chat_id: int, locale: str) -> Message:
        """Send the current chart to a chat; draws and uploads only if no one has yet."""
        chart = self._describe(locale, await self._ledger.totals())
        refused = None
        file_id = await self._files.file_id(chart.fingerprint)
        if file_id is not None:
            try:
                return await self._bot.send_photo(chat_id, file_id)
            except BadRequest as exc:
                # Telegram forgets files at times; the stored id is then useless everywhere.
                log.info("chart file id refused, uploading again error=%s", exc.message)
                refused = file_id
        lock = self._locks.setdefault(chart.fingerprint, asyncio.Lock())
        async with lock:
            file_id = await self._files.file_id(chart.fingerprint)
            if file_id is None or file_id == refused:
                return await self._upload(chat_id, chart)
        return await self._bot.send_photo(chat_id, file_id)

    async def _upload(self, chat_id: int, chart: _Chart) -> Message:
        message = await self._bot.send_photo(chat_id, await self._png(chart))
        if message.photo:
            await self._files.remember(chart.fingerprint, message.photo[-1].file_id)
        return message

    async def _png(self, chart: _Chart) -> bytes:
        """The drawing kept from an earlier attempt, else a new one in a worker thread."""
        kept = self._drawn.get(chart.locale)
        if kept is not None and kept[0] == chart.fingerprint:
            return kept[1]
        points = await cumulative_points(self._ledger, chart.now)
        campaign = self._campaign
        png = await asyncio.to_thread(
            render_progress_chart, points, campaign.goal, chart.labels, campaign.timezone
        )
        self._drawn[chart.locale] = (chart.fingerprint, png)
        return png

    def _describe(self, locale: str, totals: Totals) -> _Chart:
        campaign = self._campaign
        now = self._clock.now()
        labels = chart_labels(self._l10n, locale, campaign.currency)
        # Donations only add and reversals only subtract, so (donations, raised) never repeats.
        # The day is in too: the line runs to the moment of drawing, so a chart is redrawn at
        # least once a day for its axis to reach today.
        day = datetime.fromtimestamp(now, campaign.timezone).date().isoformat()
        shown = [
            locale, day, totals.donations, totals.raised, campaign.goal, str(campaign.timezone),
            *dataclasses.astuple(labels),
        ]
        fingerprint = hashlib.sha256(json.dumps(shown).encode()).hexdigest()[:24]
        return _Chart(locale, labels, now, fingerprint)


def chart_labels(l10n: Localizer, locale: str, currency: str) -> ChartLabels:
    """The chart's texts in `locale`."""
    return ChartLabels(
        title=l10n.format(locale, "chart-title"),
        x_axis=l10n.format(locale, "chart-x-label"),
        y_axis=l10n.format(locale, "chart-y-label", currency=currency),
        goal=l10n.format(locale, "chart-goal"),
        raised=l10n.format(locale, "chart-raised"),
    )


async def cumulative_points(ledger: DonationLedger, now: float) -> list[tuple[int, int]]:
    """(time, raised so far) after each donation, then held flat until `now`."""
    points: list[tuple[int, int]] = []
    running = 0
    async for donation in ledger.donations():
        running += donation.net
        points.append((donation.created, running))
    if points:
        points.append((int(now), running))
    return points

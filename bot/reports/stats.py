"""The numbers behind /stats, read from the stores that keep them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.broadcasts.store import Broadcast, BroadcastStore
from bot.broadcasts.subscribers import Subscribers
from bot.donations.ledger import DonationLedger, Totals
from bot.donations.monthly_gifts import MonthlyGifts

BROADCASTS_SHOWN = 3
REFERRALS_SHOWN = 5


@dataclass(frozen=True)
class CampaignStats:
    """Everything /stats shows."""

    totals: Totals
    average_gift: int
    monthly_donors: int
    monthly_sum: int
    subscribers: dict[str, int]
    inactive_subscribers: int
    broadcasts: list[Broadcast]
    referrals: list[tuple[str, int]]


async def collect_stats(
    ledger: DonationLedger, monthly: MonthlyGifts, subscribers: Subscribers,
    broadcasts: BroadcastStore,
) -> CampaignStats:
    """Read the campaign's numbers; money stays in integer minor units."""
    totals = await ledger.totals()
    monthly_donors, monthly_sum = await monthly.totals()
    recent, _ = await broadcasts.archive(0, BROADCASTS_SHOWN)
    return CampaignStats(
        totals=totals,
        # Rounded half up, in integer cents: 75.50 / 3 is 25.17.
        average_gift=(2 * totals.gross + totals.donations) // (2 * totals.donations)
        if totals.donations else 0,
        monthly_donors=monthly_donors,
        monthly_sum=monthly_sum,
        subscribers=await subscribers.counts(),
        inactive_subscribers=await subscribers.blocked_count(),
        broadcasts=recent,
        referrals=await ledger.top_referrals(REFERRALS_SHOWN),
    )

"""Once the campaign is over, every monthly gift still running is cancelled at Stripe.

A job works from the set of active gifts, so a restart just carries on where it stopped. Each
gift is marked as ended by the campaign before its cancel, so the webhook's "your monthly gift
has ended" says why (bot/donations/stripe_events.py), and marked asked once Stripe accepted, so
the next run skips it while Stripe's customer.subscription.deleted is on its way (the webhook
takes it out of the active set). Cancels go one at a time and at most a batch per run: a few a
second, never a burst of thousands.
"""

from __future__ import annotations

import logging

import stripe
from redis.asyncio import Redis

from bot.campaign import Campaign
from bot.clock import Clock
from bot.donations.ledger import DonationLedger
from bot.donations.monthly_gifts import CAMPAIGN_OVER, ENDED_BY
from bot.donations.stripe_client import Payments
from bot.storage import keys
from bot.storage.connection import as_text
from bot.storage.job_runs import JobRuns

log = logging.getLogger(__name__)

# Per run of the job (handlers/monthly_end: every STOP_TICK_SECONDS), one call at a time.
STOP_BATCH = 20
# Set once Stripe accepted the cancel: the gift waits for its customer.subscription.deleted.
STOP_ASKED = "stop_asked"


class MonthlyStopper:
    """Cancels the active monthly gifts at Stripe after the campaign's end."""

    def __init__(
        self, redis: Redis, ledger: DonationLedger, payments: Payments, campaign: Campaign,
        clock: Clock, runs: JobRuns,
    ) -> None:
        self._redis = redis
        self._ledger = ledger
        self._payments = payments
        self._campaign = campaign
        self._clock = clock
        self._runs = runs

    async def over(self) -> bool:
        """Whether giving has ended: past the end date, or /close confirmed."""
        closed = (await self._ledger.totals()).closed
        return self._campaign.end.over(self._clock.now(), self._campaign.timezone, closed)

    async def stop_some(self) -> int:
        """Cancel the next batch of running gifts if the campaign is over; how many here."""
        if not await self.over():
            return 0
        return await self._runs.alone("monthly-stop", self._stop_batch) or 0

    async def _stop_batch(self) -> int:
        stopped = 0
        for subscription_id in await self._waiting():
            gift = keys.subscription(subscription_id)
            await self._redis.hset(gift, ENDED_BY, CAMPAIGN_OVER)
            try:
                await self._payments.cancel_subscription(subscription_id)
            except stripe.InvalidRequestError as exc:
                # This one gift is refused for good (unknown at Stripe): the others go on.
                log.warning(
                    "monthly stop refused subscription=%s status=%s",
                    subscription_id, exc.http_status,
                )
            except stripe.StripeError as exc:
                log.warning(
                    "monthly stop paused, next run retries: stripe %s status=%s",
                    type(exc).__name__, exc.http_status,
                )
                return stopped
            await self._redis.hset(gift, STOP_ASKED, 1)
            stopped += 1
        return stopped

    async def _waiting(self) -> list[str]:
        """The next batch of active gifts whose cancel Stripe has not yet accepted."""
        ids = sorted(
            str(as_text(raw)) for raw in await self._redis.smembers(keys.active_subscriptions())
        )
        async with self._redis.pipeline(transaction=False) as pipe:
            for subscription_id in ids:
                pipe.hexists(keys.subscription(subscription_id), STOP_ASKED)
            asked = await pipe.execute()
        return [gift for gift, done in zip(ids, asked, strict=True) if not done][:STOP_BATCH]

"""The job that stops every monthly gift once the campaign is over (bot/donations/monthly_stop)."""

from __future__ import annotations

from bot.context import CampaignApplication, CampaignContext

# With a batch of STOP_BATCH per tick, a couple of cancels a second at most.
STOP_TICK_SECONDS = 10


async def stop_monthly_gifts(context: CampaignContext) -> None:
    """Job: the next batch of monthly gifts is cancelled at Stripe, by one process at a time."""
    await context.services.monthly_stop.stop_some()


def register(application: CampaignApplication) -> None:
    jobs = application.job_queue
    if jobs is None or application.bot_data.services is None:
        return
    # Also at start-up: a run a crash cut short goes on from the gifts still active.
    jobs.run_repeating(
        stop_monthly_gifts, interval=STOP_TICK_SECONDS, first=4, name="monthly-stop"
    )

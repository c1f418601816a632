"""The jobs that start the daily and weekly digests (bot/broadcasts/digests.py)."""

from __future__ import annotations

from bot.context import CampaignApplication, CampaignContext
from bot.storage.job_runs import lease_seconds


async def start_digests(context: CampaignContext) -> None:
    """Job: the digest runs due now, each once whoever runs it."""
    await context.services.digests.run_due()


def register(application: CampaignApplication) -> None:
    jobs = application.job_queue
    services = application.bot_data.services
    if jobs is None or services is None:
        return
    campaign = services.settings.campaign
    jobs.run_daily(
        start_digests, time=campaign.digest_at.replace(tzinfo=campaign.timezone), name="digests"
    )
    # From start-up on, as often as a dead holder's lease lapses: a digest time missed while
    # the bot was down, or a run a process died creating, is caught up within the grace period.
    again = lease_seconds(services.settings.broadcast.recovery_seconds)
    jobs.run_repeating(start_digests, interval=again, first=3, name="digests-catch-up")

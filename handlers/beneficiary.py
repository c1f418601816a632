"""Scheduled jobs that keep the beneficiaries told: the donations feed and the daily summary."""

from __future__ import annotations

from bot.context import CampaignApplication, CampaignContext
from bot.storage.job_runs import lease_seconds

# How often the feed is looked at; the batching interval itself comes from the campaign file.
FEED_TICK_SECONDS = 20


async def flush_feed(context: CampaignContext) -> None:
    """Job: announce milestones and reversals, and the donations once per interval."""
    await context.feed.flush(context.bot)


async def daily_summary(context: CampaignContext) -> None:
    """Job: today's summary, once per day whoever runs it."""
    await context.feed.daily_summary(context.bot)


async def catch_up_daily_summary(context: CampaignContext) -> None:
    """Job from start-up on, every few seconds: a summary missed while the bot was down, or
    left unfinished by a process that died sending it, goes out once, late."""
    if context.feed.summary_missed_today():
        await context.feed.daily_summary(context.bot)


def register(application: CampaignApplication) -> None:
    jobs = application.job_queue
    services = application.bot_data.services
    if jobs is None or services is None:
        return
    campaign = services.settings.campaign
    jobs.run_repeating(flush_feed, interval=FEED_TICK_SECONDS, first=2, name="beneficiary-feed")
    jobs.run_daily(
        daily_summary, time=campaign.daily_summary_at.replace(tzinfo=campaign.timezone),
        name="daily-summary",
    )
    # As often as a dead holder's lease lapses: its summary is finished within the recovery time.
    again = lease_seconds(services.settings.broadcast.recovery_seconds)
    jobs.run_repeating(
        catch_up_daily_summary, interval=again, first=3, name="daily-summary-catch-up"
    )

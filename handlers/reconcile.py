"""The nightly reconciliation job, reporting to the organizers what it healed."""

from __future__ import annotations

import functools
import logging
from datetime import datetime, time

from telegram.error import TelegramError

from bot.context import CampaignApplication, CampaignContext
from bot.donations.reconciliation import Healed
from bot.i18n import money
from bot.storage.job_runs import lease_seconds

log = logging.getLogger(__name__)

# Quiet hours in the campaign's time zone, after the day's webhooks have long settled.
RECONCILE_AT = time(3, 30)


async def reconcile(context: CampaignContext) -> None:
    """Job: record missed donations, then tell each organizer when anything was healed; one
    process does it each night, however many run."""
    now, night = _tonight(context)
    await context.services.reconciler.nightly(night, now, functools.partial(report, context))


async def finish_reconciliation(context: CampaignContext) -> None:
    """Job, every few seconds: a night's run whose process died midway is finished here."""
    now, night = _tonight(context)
    await context.services.reconciler.resume(night, now, functools.partial(report, context))


def _tonight(context: CampaignContext) -> tuple[float, str]:
    """Now, and the night it belongs to: the campaign's date on this process's clock."""
    now = context.services.clock.now()
    return now, datetime.fromtimestamp(now, context.settings.campaign.timezone).date().isoformat()


async def report(context: CampaignContext, healed: Healed) -> None:
    """Tell each organizer, in their language, what the run recorded."""
    if not healed.donations:
        return
    for admin_id in sorted(context.settings.admin_ids):
        locale = await context.users.chosen_locale(admin_id) or "en"
        try:
            await context.bot.send_message(admin_id, context.text(
                locale, "reconcile-report", count=healed.donations,
                amount=money(healed.amount, context.settings.campaign.currency),
                checked=healed.checked,
            ))
        except TelegramError as exc:
            log.warning("reconciliation report undelivered error=%s", type(exc).__name__)


def register(application: CampaignApplication) -> None:
    jobs = application.job_queue
    services = application.bot_data.services
    if jobs is None or services is None:
        return
    zone = services.settings.campaign.timezone
    jobs.run_daily(reconcile, time=RECONCILE_AT.replace(tzinfo=zone), name="reconcile")
    # As often as a dead holder's lease lapses: its night is finished within the recovery time.
    again = lease_seconds(services.settings.broadcast.recovery_seconds)
    jobs.run_repeating(
        finish_reconciliation, interval=again, first=again, name="reconcile-catch-up"
    )

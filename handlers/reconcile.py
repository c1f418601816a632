"""The nightly reconciliation job, reporting to the organizers what it healed."""

from __future__ import annotations

import logging
from datetime import time

import stripe
from telegram.error import TelegramError

from bot.context import CampaignApplication, CampaignContext
from bot.i18n import money

log = logging.getLogger(__name__)

# Quiet hours in the campaign's time zone, after the day's webhooks have long settled.
RECONCILE_AT = time(3, 30)


async def reconcile(context: CampaignContext) -> None:
    """Job: record missed donations, then tell each organizer when anything was healed."""
    services = context.services
    try:
        healed = await services.reconciler.run(services.clock.now())
    except stripe.StripeError as exc:
        log.error("reconciliation could not reach stripe error=%s", type(exc).__name__)
        return
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

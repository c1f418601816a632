"""Nightly reconciliation: ask Stripe what was paid lately and record what the webhook missed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import stripe

from bot.donations.fees import split_paid
from bot.donations.stripe_client import Payments
from bot.donations.stripe_events import EventResult, StripeEventProcessor
from bot.donations.stripe_objects import CheckoutSession, Invoice, StripeEvent
from bot.storage.job_runs import JobRuns

log = logging.getLogger(__name__)

# Stripe retries a webhook for three days; looking back further finds nothing new.
LOOK_BACK_SECONDS = 3 * 24 * 3600
# A night's run is remembered this long, so no process runs it again.
NIGHT_KEPT_SECONDS = 3 * 24 * 3600


@dataclass(frozen=True)
class Healed:
    """What one run recorded that the webhook had not."""

    checked: int
    donations: int
    amount: int


class Reconciler:
    """Feeds Stripe's own records through the webhook's idempotent path."""

    def __init__(
        self, payments: Payments, processor: StripeEventProcessor,
        deliver_soon: Callable[[Iterable[str]], None], runs: JobRuns,
    ) -> None:
        self._payments = payments
        self._processor = processor
        self._deliver_soon = deliver_soon
        self._runs = runs

    async def nightly(
        self, night: str, now: float, report: Callable[[Healed], Awaitable[None]]
    ) -> bool:
        """The night's run and its report, by one process whichever processes ask; True where
        it ran. Stripe unreachable ends the night too: the next one looks back three days."""

        async def run_and_report() -> None:
            try:
                healed = await self.run(now)
            except stripe.StripeError as exc:
                log.error("reconciliation could not reach stripe error=%s", type(exc).__name__)
                return
            await report(healed)

        return await self._runs.once("reconcile", night, run_and_report, NIGHT_KEPT_SECONDS)

    async def resume(
        self, night: str, now: float, report: Callable[[Healed], Awaitable[None]]
    ) -> bool:
        """Finish a night a process began and left unfinished (killed mid-run), if any.

        What the dead holder recorded is not recorded again, nor reported: the report tells
        only what the process finishing the night recorded itself."""
        if not await self._runs.unfinished("reconcile", night):
            return False
        finished = await self.nightly(night, now, report)
        if finished:
            log.info("reconciliation taken over night=%s", night)
        return finished

    async def run(self, now: float) -> Healed:
        """Record every paid session or invoice of the last days; running twice changes nothing."""
        checked = healed = amount = 0
        async for event_type, obj in self._payments.paid_since(int(now) - LOOK_BACK_SECONDS):
            checked += 1
            event = StripeEvent(f"reconcile:{obj.id}", event_type, obj.created, obj)
            outcome = await self._processor.apply(event)
            if outcome.result is not EventResult.RECORDED:
                continue
            healed += 1
            amount += _paid(obj)
            self._deliver_soon(outcome.notices)
        log.info("reconciliation checked=%s healed=%s", checked, healed)
        return Healed(checked, healed, amount)


def _paid(obj: CheckoutSession | Invoice) -> int:
    paid = (obj.amount_total or 0) if isinstance(obj, CheckoutSession) else obj.amount_paid
    # The gift alone, as raised counts it: a covered card fee is not money for the cause.
    return split_paid(paid, obj.metadata)[0]

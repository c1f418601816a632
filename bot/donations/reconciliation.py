"""Nightly reconciliation: ask Stripe what was paid lately and record what the webhook missed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.donations.stripe_client import Payments
from bot.donations.stripe_events import EventResult, StripeEventProcessor
from bot.donations.stripe_objects import CheckoutSession, Invoice, StripeEvent

log = logging.getLogger(__name__)

# Stripe retries a webhook for three days; looking back further finds nothing new.
LOOK_BACK_SECONDS = 3 * 24 * 3600


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
        deliver_soon: Callable[[Iterable[str]], None],
    ) -> None:
        self._payments = payments
        self._processor = processor
        self._deliver_soon = deliver_soon

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
    return (obj.amount_total or 0) if isinstance(obj, CheckoutSession) else obj.amount_paid

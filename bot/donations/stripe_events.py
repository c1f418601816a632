"""Turning verified Stripe events into ledger entries and the notices they owe people."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.donations.ledger import Donation, DonationLedger, Notice
from bot.donations.monthly_gifts import MonthlyGifts
from bot.donations.stripe_client import Frequency, Payments
from bot.metrics import Metrics
from bot.storage.erasure import Erasure

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], dict[str, Any]], Awaitable["EventOutcome"]]


@dataclass(frozen=True)
class EventOutcome:
    """What one event did, for the HTTP answer, the metrics and the notices to send."""

    result: str
    notices: tuple[str, ...] = ()


IGNORED = EventOutcome("ignored")

HANDLED_TYPES = frozenset({
    "checkout.session.completed", "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed", "checkout.session.expired", "invoice.paid",
    "customer.subscription.deleted", "charge.refunded", "charge.dispute.created",
})


def _metadata(obj: dict[str, Any]) -> dict[str, str]:
    metadata = obj.get("metadata") or {}
    return {str(k): str(v) for k, v in metadata.items()}


def _telegram_user(metadata: dict[str, str], fallback: object = None) -> int | None:
    raw = metadata.get("telegram_user_id") or fallback
    if isinstance(raw, str) and raw.isascii() and raw.isdigit():
        return int(raw)
    return None


def _id(value: object) -> str | None:
    """A Stripe reference is either an id or, when expanded, the object itself."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


class StripeEventProcessor:
    """One method per event type; anything else is acknowledged and ignored."""

    def __init__(
        self, ledger: DonationLedger, monthly: MonthlyGifts, payments: Payments, currency: str,
        metrics: Metrics, erasure: Erasure,
    ) -> None:
        self._metrics = metrics
        self._erasure = erasure
        self._ledger = ledger
        self._monthly = monthly
        self._payments = payments
        self._currency = currency
        self._handlers: dict[str, Handler] = {
            "checkout.session.completed": self._checkout_paid,
            "checkout.session.async_payment_succeeded": self._checkout_paid,
            "checkout.session.async_payment_failed": self._checkout_failed,
            "checkout.session.expired": self._checkout_expired,
            "invoice.paid": self._invoice_paid,
            "customer.subscription.deleted": self._subscription_deleted,
            "charge.refunded": self._charge_refunded,
            "charge.dispute.created": self._dispute_created,
        }

    async def process(self, event: dict[str, Any]) -> EventOutcome:
        """Apply one event; safe to call again with the same event, in any order."""
        handler = self._handlers.get(str(event.get("type")))
        obj = (event.get("data") or {}).get("object") or {}
        if handler is None or not isinstance(obj, dict):
            return IGNORED
        return await handler(event, obj)

    async def _known_user(
        self, metadata: dict[str, str], fallback: object = None
    ) -> int | None:
        """The donor's Telegram id, unless they used /forget (Stripe still holds the old id)."""
        user_id = _telegram_user(metadata, fallback)
        if user_id is not None and await self._erasure.is_forgotten(user_id):
            return None
        return user_id

    def _ours(self, metadata: dict[str, str]) -> bool:
        # The Stripe account may also serve other products; only the bot's sessions count here.
        return "telegram_user_id" in metadata

    def _right_currency(self, currency: object, event: dict[str, Any]) -> bool:
        if str(currency).upper() == self._currency:
            return True
        log.error("payment in another currency not counted event=%s", event.get("id"))
        return False

    async def _checkout_paid(self, event: dict[str, Any], session: dict[str, Any]) -> EventOutcome:
        metadata = _metadata(session)
        if session.get("mode") != "payment" or not self._ours(metadata):
            # Monthly gifts are counted from their invoices, each renewal included.
            return IGNORED
        if session.get("payment_status") != "paid":
            return EventOutcome("awaiting-payment")
        if not self._right_currency(session.get("currency"), event):
            return IGNORED
        user_id = await self._known_user(metadata, session.get("client_reference_id"))
        donation_id = _id(session.get("payment_intent")) or str(session["id"])
        donation = Donation(
            donation_id=donation_id,
            amount=int(session["amount_total"]),
            currency=self._currency,
            kind=Frequency.ONCE.value,
            created=int(event.get("created") or session.get("created") or 0),
            locale=metadata.get("locale", "en"),
            telegram_user_id=user_id,
            referral=metadata.get("referral"),
            stripe_ids=_ids(
                session=session.get("id"), payment_intent=session.get("payment_intent"),
                customer=session.get("customer"),
            ),
        )
        return await self._record(donation, renewal=False)

    async def _checkout_failed(
        self, event: dict[str, Any], session: dict[str, Any]
    ) -> EventOutcome:
        metadata = _metadata(session)
        user_id = await self._known_user(metadata, session.get("client_reference_id"))
        if user_id is None or not self._ours(metadata):
            return IGNORED
        notice = Notice(
            f"failed:{session['id']}", "payment-failed", user_id, metadata.get("locale", "en"),
            {"amount": int(session.get("amount_total") or 0)},
        )
        queued = await self._ledger.queue_notice(notice)
        return EventOutcome("payment-failed", (notice.notice_id,) if queued else ())

    async def _checkout_expired(
        self, event: dict[str, Any], session: dict[str, Any]
    ) -> EventOutcome:
        # Nothing was paid and nothing was counted: there is nothing to undo.
        return EventOutcome("expired")

    async def _invoice_paid(self, event: dict[str, Any], invoice: dict[str, Any]) -> EventOutcome:
        amount = int(invoice.get("amount_paid") or 0)
        subscription_id = _invoice_subscription(invoice)
        if amount <= 0 or subscription_id is None:
            return IGNORED
        metadata = _invoice_metadata(invoice)
        if not self._ours(metadata):
            # Older API versions and some event shapes omit it: ask Stripe rather than guess.
            metadata = _metadata(await self._payments.subscription(subscription_id))
        if not self._ours(metadata) or not self._right_currency(invoice.get("currency"), event):
            return IGNORED
        user_id = await self._known_user(metadata)
        locale = metadata.get("locale", "en")
        payment_intent = _invoice_payment_intent(invoice)
        if payment_intent is None:
            # Refunds and disputes name the PaymentIntent; the gift must be filed under it.
            payment_intent = await self._payments.invoice_payment_intent(str(invoice["id"]))
        if user_id is not None:
            await self._monthly.link(subscription_id, user_id, amount, self._currency, locale)
        donation = Donation(
            donation_id=payment_intent or str(invoice["id"]),
            amount=amount,
            currency=self._currency,
            kind=Frequency.MONTHLY.value,
            created=int(event.get("created") or invoice.get("created") or 0),
            locale=locale,
            telegram_user_id=user_id,
            referral=metadata.get("referral"),
            stripe_ids=_ids(
                invoice=invoice.get("id"), subscription=subscription_id,
                payment_intent=payment_intent, customer=invoice.get("customer"),
            ),
        )
        renewal = invoice.get("billing_reason") == "subscription_cycle"
        return await self._record(donation, renewal=renewal)

    async def _record(self, donation: Donation, *, renewal: bool) -> EventOutcome:
        thanks = None
        if donation.telegram_user_id is not None:
            thanks = Notice(
                f"thanks:{donation.donation_id}", "thanks", donation.telegram_user_id,
                donation.locale,
                {
                    "donation_id": donation.donation_id, "amount": donation.amount,
                    "kind": donation.kind, "renewal": renewal,
                },
            )
        if not await self._ledger.record(donation, thanks):
            return EventOutcome("duplicate")
        self._metrics.donations.labels(donation.kind).inc()
        self._metrics.donation_amount.labels(donation.kind).inc(donation.amount)
        log.info(
            "donation recorded id=%s amount=%s kind=%s",
            donation.donation_id, donation.amount, donation.kind,
        )
        return EventOutcome("recorded", (thanks.notice_id,) if thanks else ())

    async def _subscription_deleted(
        self, event: dict[str, Any], subscription: dict[str, Any]
    ) -> EventOutcome:
        user_id = await self._monthly.end(str(subscription["id"]))
        if user_id is None:
            return EventOutcome("subscription-ended")
        metadata = _metadata(subscription)
        notice = Notice(
            f"ended:{subscription['id']}", "monthly-ended", user_id,
            metadata.get("locale", "en"), {},
        )
        queued = await self._ledger.queue_notice(notice)
        return EventOutcome("subscription-ended", (notice.notice_id,) if queued else ())

    async def _charge_refunded(
        self, event: dict[str, Any], charge: dict[str, Any]
    ) -> EventOutcome:
        payment_intent = _id(charge.get("payment_intent"))
        if payment_intent is None:
            log.warning("refund without payment intent event=%s", event.get("id"))
            return IGNORED
        delta = await self._ledger.refund(payment_intent, int(charge.get("amount_refunded") or 0))
        return EventOutcome("refunded" if delta else "refund-noted")

    async def _dispute_created(
        self, event: dict[str, Any], dispute: dict[str, Any]
    ) -> EventOutcome:
        payment_intent = _id(dispute.get("payment_intent"))
        if payment_intent is None:
            log.warning("dispute without payment intent event=%s", event.get("id"))
            return IGNORED
        delta = await self._ledger.dispute(
            payment_intent, str(dispute["id"]), int(dispute.get("amount") or 0)
        )
        return EventOutcome("disputed" if delta else "dispute-noted")


def _ids(**references: object) -> dict[str, str]:
    return {name: ref for name, value in references.items() if (ref := _id(value))}


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return _id(invoice.get("subscription")) or _id(details.get("subscription"))


def _invoice_metadata(invoice: dict[str, Any]) -> dict[str, str]:
    # Newer API versions put the subscription's metadata under parent.subscription_details.
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return _metadata(details) or _metadata(invoice.get("subscription_details") or {})


def _invoice_payment_intent(invoice: dict[str, Any]) -> str | None:
    direct = _id(invoice.get("payment_intent"))
    if direct:
        return direct
    for payment in (invoice.get("payments") or {}).get("data") or []:
        found = _id((payment.get("payment") or {}).get("payment_intent"))
        if found:
            return found
    return None

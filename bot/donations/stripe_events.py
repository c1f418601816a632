"""Turning verified Stripe events into ledger entries and the notices they owe people."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bot.donations.fees import split_paid
from bot.donations.ledger import Donation, DonationLedger, ForgetCheck, Recorded
from bot.donations.monthly_gifts import MonthlyGifts
from bot.donations.outbox import Notice, NoticeData, NoticeKind, Outbox
from bot.donations.receipt_numbers import donor_details
from bot.donations.sharing import SharedLinks
from bot.donations.stripe_client import Frequency, Payments
from bot.donations.stripe_objects import (
    ENDED_STATUSES,
    Charge,
    CheckoutSession,
    Customer,
    Dispute,
    EventType,
    Invoice,
    StripeEvent,
    Subscription,
)
from bot.metrics import Metrics
from bot.storage.erasure import ErasureMarks

log = logging.getLogger(__name__)

# Only these become metric labels; any other type is one bucket, not a new series.
HANDLED_TYPES = frozenset(EventType)


class EventResult(StrEnum):
    """What an event did; the values are the `outcome` label of the webhook metrics."""

    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    AWAITING_PAYMENT = "awaiting-payment"
    PAYMENT_FAILED = "payment-failed"
    EXPIRED = "expired"
    SUBSCRIPTION_ENDED = "subscription-ended"
    SUBSCRIPTION_UPDATED = "subscription-updated"
    CARD_UPDATED = "card-updated"
    REFUNDED = "refunded"
    REFUND_NOTED = "refund-noted"
    DISPUTED = "disputed"
    DISPUTE_NOTED = "dispute-noted"


@dataclass(frozen=True)
class EventOutcome:
    """What one event did, for the HTTP answer, the metrics and the notices to send."""

    result: EventResult
    notices: tuple[str, ...] = ()


IGNORED = EventOutcome(EventResult.IGNORED)


def _telegram_user(metadata: dict[str, str], fallback: str | None = None) -> int | None:
    raw = metadata.get("telegram_user_id") or fallback
    if raw is not None and raw.isascii() and raw.isdigit():
        return int(raw)
    return None


class StripeEventProcessor:
    """One method per event type; anything else is acknowledged and ignored."""

    def __init__(
        self, ledger: DonationLedger, outbox: Outbox, monthly: MonthlyGifts, payments: Payments,
        currency: str, metrics: Metrics, forgotten: ErasureMarks, sharing: SharedLinks, *,
        monthly_suggestion: Callable[[int], int | None], receipt_details: bool = False,
    ) -> None:
        # With a receipt issuer: the donor's name and address go on each gift (nothing without).
        self._receipt_details = receipt_details
        self._sharing = sharing
        self._monthly_suggestion = monthly_suggestion
        self._metrics = metrics
        self._forgotten = forgotten
        self._ledger = ledger
        self._outbox = outbox
        self._monthly = monthly
        self._payments = payments
        self._currency = currency

    async def process(self, event: dict[str, Any]) -> EventOutcome:
        """Apply one verified event as Stripe sent it; safe to repeat, in any order."""
        parsed = StripeEvent.parse(event)
        return await self.apply(parsed) if parsed is not None else IGNORED

    async def apply(self, event: StripeEvent) -> EventOutcome:
        """Apply one event already parsed (the webhook's, or one rebuilt by reconciliation)."""
        match event.type, event.object:
            case (
                EventType.CHECKOUT_COMPLETED | EventType.CHECKOUT_ASYNC_SUCCEEDED,
                CheckoutSession() as session,
            ):
                return await self._checkout_paid(event, session)
            case EventType.CHECKOUT_ASYNC_FAILED, CheckoutSession() as session:
                return await self._checkout_failed(session)
            case EventType.CHECKOUT_EXPIRED, _:
                # Nothing was paid and nothing was counted: there is nothing to undo.
                return EventOutcome(EventResult.EXPIRED)
            case EventType.INVOICE_PAID, Invoice() as invoice:
                return await self._invoice_paid(event, invoice)
            case EventType.SUBSCRIPTION_DELETED, Subscription() as subscription:
                return await self._subscription_deleted(subscription)
            case EventType.SUBSCRIPTION_UPDATED, Subscription() as subscription:
                return await self._subscription_updated(event, subscription)
            case EventType.CHARGE_REFUNDED, Charge() as charge:
                return await self._charge_refunded(event, charge)
            case EventType.DISPUTE_CREATED, Dispute() as dispute:
                return await self._dispute_created(event, dispute)
            case EventType.CUSTOMER_UPDATED, Customer() as customer:
                return await self._customer_updated(event, customer)
        return IGNORED

    async def _known_user(
        self, metadata: dict[str, str], created: int, fallback: str | None = None
    ) -> int | None:
        """The donor's Telegram id, unless the object (`created`, epoch s) was begun before they
        used /forget: Stripe still holds the old id, and only a later gift is theirs again."""
        user_id = _telegram_user(metadata, fallback)
        if user_id is None:
            return None
        forgotten_at = await self._forgotten.forgotten_at(user_id)
        # Within the forget's own second nobody can tell which came first: anonymous.
        return None if forgotten_at is not None and created <= forgotten_at else user_id

    def _forget_check(self, user_id: int | None, created: int) -> ForgetCheck | None:
        """For the ledger: the gift stays anonymous if this donor forgot since `created`."""
        if user_id is None:
            return None
        return ForgetCheck(self._forgotten.fingerprint(user_id), created)

    async def _subscriber(self, metadata: dict[str, str], subscription_id: str) -> int | None:
        """The Telegram id behind a monthly gift's payment, with the same rule by the time the
        subscription was created (asked of Stripe only for a donor who used /forget)."""
        user_id = _telegram_user(metadata)
        if user_id is None or await self._monthly.erased_owner(subscription_id):
            return None
        forgotten_at = await self._forgotten.forgotten_at(user_id)
        if forgotten_at is None:
            return user_id
        created = (await self._payments.subscription(subscription_id)).created
        return None if created <= forgotten_at else user_id

    def _ours(self, metadata: dict[str, str]) -> bool:
        # The Stripe account may also serve other products; only the bot's sessions count here.
        return "telegram_user_id" in metadata

    def _right_currency(self, currency: str | None, event: StripeEvent) -> bool:
        if str(currency).upper() == self._currency:
            return True
        log.error("payment in another currency not counted event=%s", event.id)
        return False

    async def _checkout_paid(self, event: StripeEvent, session: CheckoutSession) -> EventOutcome:
        metadata = session.metadata
        if session.mode != "payment" or not self._ours(metadata):
            # Monthly gifts are counted from their invoices, each renewal included.
            return IGNORED
        if session.payment_status != "paid":
            return EventOutcome(EventResult.AWAITING_PAYMENT)
        if not self._right_currency(session.currency, event):
            return IGNORED
        if session.amount_total is None:
            # Stripe always sets it on a paid session: refuse, so the event comes back.
            raise ValueError(f"paid session without amount_total event={event.id}")
        # Whether the donor used /forget since is read by the ledger's own script: one round trip.
        user_id = _telegram_user(metadata, session.client_reference_id)
        check = self._forget_check(user_id, session.created)
        gift, covered_fee = split_paid(session.amount_total, metadata)
        donation = Donation(
            donation_id=session.payment_intent or session.id,
            amount=gift,
            covered_fee=covered_fee,
            currency=self._currency,
            kind=Frequency.ONCE.value,
            created=event.created or session.created,
            locale=metadata.get("locale", "en"),
            telegram_user_id=user_id,
            referral=metadata.get("referral"),
            need=metadata.get("need"),
            stripe_ids=_ids(
                session=session.id, payment_intent=session.payment_intent,
                customer=session.customer,
            ),
            donor_details=self._donor_details(
                session.customer_name, session.customer_address, session.payment_method_types
            ),
        )
        return await self._record(event, donation, renewal=False, check=check)

    async def _checkout_failed(self, session: CheckoutSession) -> EventOutcome:
        metadata = session.metadata
        user_id = await self._known_user(metadata, session.created, session.client_reference_id)
        if user_id is None or not self._ours(metadata):
            return IGNORED
        notice = Notice(
            f"failed:{session.id}", NoticeKind.PAYMENT_FAILED, user_id,
            metadata.get("locale", "en"), NoticeData(amount=session.amount_total or 0),
        )
        queued = await self._outbox.queue(notice)
        return EventOutcome(EventResult.PAYMENT_FAILED, (notice.notice_id,) if queued else ())

    async def _invoice_paid(self, event: StripeEvent, invoice: Invoice) -> EventOutcome:
        amount = invoice.amount_paid
        subscription_id = invoice.subscription
        if amount <= 0 or subscription_id is None:
            return IGNORED
        metadata = invoice.metadata
        if not self._ours(metadata):
            # Older API versions and some event shapes omit it: ask Stripe rather than guess.
            metadata = (await self._payments.subscription(subscription_id)).metadata
        if not self._ours(metadata) or not self._right_currency(invoice.currency, event):
            return IGNORED
        user_id = await self._subscriber(metadata, subscription_id)
        locale = metadata.get("locale", "en")
        payment_intent = invoice.payment_intent
        if payment_intent is None:
            # Refunds and disputes name the PaymentIntent; the gift must be filed under it.
            payment_intent = await self._payments.invoice_payment_intent(invoice.id)
        # Each renewal splits the same way: the fee line is on every invoice, its size in metadata.
        amount, covered_fee = split_paid(amount, metadata)
        if user_id is not None:
            await self._monthly.link(
                subscription_id, user_id, amount, self._currency, locale,
                invoice_id=invoice.id, created=invoice.created, customer=invoice.customer,
                period_end=invoice.period_end, fee=covered_fee,
            )
        donation = Donation(
            donation_id=payment_intent or invoice.id,
            amount=amount,
            covered_fee=covered_fee,
            currency=self._currency,
            kind=Frequency.MONTHLY.value,
            created=event.created or invoice.created,
            locale=locale,
            telegram_user_id=user_id,
            referral=metadata.get("referral"),
            need=metadata.get("need"),
            stripe_ids=_ids(
                invoice=invoice.id, subscription=subscription_id,
                payment_intent=payment_intent, customer=invoice.customer,
            ),
            donor_details=self._donor_details(
                invoice.customer_name, invoice.customer_address, ()
            ),
        )
        renewal = invoice.billing_reason == "subscription_cycle"
        return await self._record(event, donation, renewal=renewal)

    def _donor_details(
        self, name: str | None, address: dict[str, str], methods: tuple[str, ...]
    ) -> dict[str, str]:
        # Personal data a receipt needs, kept only when there will be a receipt.
        return donor_details(name, address, methods) if self._receipt_details else {}

    async def _record(
        self, event: StripeEvent, donation: Donation, *, renewal: bool,
        check: ForgetCheck | None = None,
    ) -> EventOutcome:
        thanks = None
        if donation.telegram_user_id is not None:
            thanks = Notice(
                f"thanks:{donation.donation_id}", NoticeKind.THANKS, donation.telegram_user_id,
                donation.locale,
                NoticeData(
                    donation_id=donation.donation_id, amount=donation.amount,
                    kind=donation.kind, renewal=renewal,
                ),
            )
        shared = await self._sharing.gift_through(donation.referral, donation.telegram_user_id)
        recorded = await self._ledger.record(
            donation, thanks, check, shared, self._suggesting(donation, thanks)
        )
        if not recorded:
            return EventOutcome(EventResult.DUPLICATE)
        self._metrics.donations.labels(donation.kind).inc()
        self._metrics.donation_amount.labels(donation.kind).inc(donation.amount)
        log.info(
            "donation recorded id=%s amount=%s kind=%s event=%s",
            donation.donation_id, donation.amount, donation.kind, event.id,
        )
        owed = [thanks.notice_id] if thanks is not None and recorded is Recorded.LINKED else []
        if shared is not None and shared.first_gift is not None:
            # Queued only by a link's first gift; the courier skips it if this was not.
            owed.append(shared.first_gift.notice_id)
        return EventOutcome(EventResult.RECORDED, tuple(owed))

    def _suggesting(self, donation: Donation, thanks: Notice | None) -> Notice | None:
        """The thank-you with a monthly suggestion, which the ledger queues instead only for a
        donor's first one-off gift, when they give monthly nowhere."""
        if thanks is None or donation.kind != Frequency.ONCE.value:
            return None
        monthly = self._monthly_suggestion(donation.amount)
        if monthly is None:
            return None
        return replace(thanks, data=NoticeData(**thanks.data, suggest_monthly=monthly))

    async def _subscription_deleted(self, subscription: Subscription) -> EventOutcome:
        user_id = await self._monthly.end(subscription.id)
        if user_id is None:
            return EventOutcome(EventResult.SUBSCRIPTION_ENDED)
        notice = Notice(
            f"ended:{subscription.id}", NoticeKind.MONTHLY_ENDED, user_id,
            subscription.metadata.get("locale", "en"),
        )
        if await self._monthly.ended_by_campaign(subscription.id):
            notice = replace(notice, data=NoticeData(campaign_over=True))
        queued = await self._outbox.queue(notice)
        return EventOutcome(EventResult.SUBSCRIPTION_ENDED, (notice.notice_id,) if queued else ())

    async def _subscription_updated(
        self, event: StripeEvent, subscription: Subscription
    ) -> EventOutcome:
        """Amount, pause and status changed at Stripe (by the bot, the dashboard or dunning)."""
        if subscription.status in ENDED_STATUSES:
            return await self._subscription_deleted(subscription)
        applied = await self._monthly.apply(subscription, event.created or subscription.created)
        return EventOutcome(EventResult.SUBSCRIPTION_UPDATED if applied else EventResult.IGNORED)

    async def _customer_updated(self, event: StripeEvent, customer: Customer) -> EventOutcome:
        """A new default card (the billing portal's page): its monthly donor is told, once per
        card, as the notice is named after it."""
        card = customer.default_payment_method
        if not event.card_changed or card is None:
            return IGNORED
        donor = await self._monthly.donor_of(customer.id)
        if donor is None:
            return IGNORED
        user_id, locale = donor
        notice = Notice(f"card:{customer.id}:{card}", NoticeKind.CARD_UPDATED, user_id, locale)
        queued = await self._outbox.queue(notice)
        return EventOutcome(EventResult.CARD_UPDATED, (notice.notice_id,) if queued else ())

    async def _charge_refunded(self, event: StripeEvent, charge: Charge) -> EventOutcome:
        if charge.payment_intent is None:
            log.warning("refund without payment intent event=%s", event.id)
            return IGNORED
        delta = await self._ledger.refund(charge.payment_intent, charge.amount_refunded)
        return EventOutcome(EventResult.REFUNDED if delta else EventResult.REFUND_NOTED)

    async def _dispute_created(self, event: StripeEvent, dispute: Dispute) -> EventOutcome:
        if dispute.payment_intent is None:
            log.warning("dispute without payment intent event=%s", event.id)
            return IGNORED
        delta = await self._ledger.dispute(dispute.payment_intent, dispute.id, dispute.amount)
        return EventOutcome(EventResult.DISPUTED if delta else EventResult.DISPUTE_NOTED)


def _ids(**references: str | None) -> dict[str, str]:
    return {name: ref for name, ref in references.items() if ref}

"""Stripe's payloads as typed records, parsed once where they enter, with the fields the bot uses.

A field Stripe leaves out (older API versions, other event shapes) reads as None, 0 or empty; an
object's own `id` is required, as Stripe always sends it. A reference to another object is its id
whether Stripe sent the id or, expanded, the object itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """The Stripe event types the bot acts on; every other type is acknowledged and ignored."""

    CHECKOUT_COMPLETED = "checkout.session.completed"
    CHECKOUT_ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
    CHECKOUT_ASYNC_FAILED = "checkout.session.async_payment_failed"
    CHECKOUT_EXPIRED = "checkout.session.expired"
    INVOICE_PAID = "invoice.paid"
    SUBSCRIPTION_DELETED = "customer.subscription.deleted"
    SUBSCRIPTION_UPDATED = "customer.subscription.updated"
    CHARGE_REFUNDED = "charge.refunded"
    DISPUTE_CREATED = "charge.dispute.created"
    CUSTOMER_UPDATED = "customer.updated"


@dataclass(frozen=True)
class CheckoutSession:
    """A Checkout Session: a one-off gift, or the start of a monthly one."""

    id: str
    mode: str | None = None
    payment_status: str | None = None
    currency: str | None = None
    amount_total: int | None = None
    created: int = 0
    client_reference_id: str | None = None
    payment_intent: str | None = None
    customer: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    # Who paid, for a tax receipt: the card holder's name, and the postal address when
    # billing_address_collection asked for it (customer_details).
    customer_name: str | None = None
    customer_address: dict[str, str] = field(default_factory=dict)
    # The ways the page let the donor pay: the method used, when there was only one.
    payment_method_types: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> CheckoutSession:
        reference = raw.get("client_reference_id")
        details = _mapping(raw.get("customer_details"))
        methods = raw.get("payment_method_types")
        return cls(
            id=str(raw["id"]),
            mode=_text(raw.get("mode")),
            payment_status=_text(raw.get("payment_status")),
            currency=_text(raw.get("currency")),
            amount_total=_amount_or_none(raw.get("amount_total")),
            created=_amount(raw.get("created")),
            client_reference_id=reference if isinstance(reference, str) else None,
            payment_intent=_reference(raw.get("payment_intent")),
            customer=_reference(raw.get("customer")),
            metadata=_metadata(raw),
            customer_name=_text(details.get("name")),
            customer_address=_address(details.get("address")),
            payment_method_types=tuple(
                method for method in (methods if isinstance(methods, list) else [])
                if isinstance(method, str)
            ),
        )


@dataclass(frozen=True)
class Invoice:
    """A paid invoice: one month of a monthly gift, the first one included."""

    id: str
    amount_paid: int = 0
    currency: str | None = None
    created: int = 0
    customer: str | None = None
    billing_reason: str | None = None
    subscription: str | None = None
    payment_intent: str | None = None
    # The subscription's metadata, when the invoice carries a copy of it.
    metadata: dict[str, str] = field(default_factory=dict)
    # When the period this invoice paid for ends: the gift's next payment date.
    period_end: int | None = None
    # The customer's name and address as the invoice was finalized with them (tax receipts).
    customer_name: str | None = None
    customer_address: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Invoice:
        # Newer API versions move the subscription under parent.subscription_details.
        details = _mapping(_mapping(raw.get("parent")).get("subscription_details"))
        return cls(
            id=str(raw["id"]),
            amount_paid=_amount(raw.get("amount_paid")),
            currency=_text(raw.get("currency")),
            created=_amount(raw.get("created")),
            customer=_reference(raw.get("customer")),
            billing_reason=_text(raw.get("billing_reason")),
            subscription=(
                _reference(raw.get("subscription")) or _reference(details.get("subscription"))
            ),
            payment_intent=_invoice_payment_intent(raw),
            metadata=_metadata(details) or _metadata(_mapping(raw.get("subscription_details"))),
            period_end=_lines_period_end(raw),
            customer_name=_text(raw.get("customer_name")),
            customer_address=_address(raw.get("customer_address")),
        )


# The metadata of the product Checkout makes for the card fee a donor covers: which item of a
# subscription is the fee, whatever order Stripe lists the items in.
FEE_LINE_MARK = {"line": "covered_fee"}


def _fee_item(
    items: list[Mapping[str, Any]], metadata: Mapping[str, str]
) -> Mapping[str, Any] | None:
    """The fee's item: its product marked (when Stripe expanded it), else the one priced at the
    fee the metadata names (an event lists products by id only)."""
    if len(items) < 2:
        return None
    marked = [
        item for item in items
        if _metadata(_mapping(_mapping(item.get("price")).get("product"))).get("line")
        == FEE_LINE_MARK["line"]
    ]
    fee = metadata.get("covered_fee", "")
    # From the end: were the gift and the fee alike, the gift stays the first.
    priced = [
        item for item in reversed(items)
        if str(_mapping(item.get("price")).get("unit_amount")) == fee
    ]
    return (marked or priced or [None])[0]


# A subscription in one of these will never collect again.
ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})


@dataclass(frozen=True)
class Subscription:
    """A Stripe subscription, behind a monthly gift, with its one priced item."""

    id: str
    metadata: dict[str, str] = field(default_factory=dict)
    created: int = 0
    status: str | None = None
    customer: str | None = None
    start_date: int | None = None
    # The item's price times its quantity, per period.
    amount: int | None = None
    item: str | None = None
    product: str | None = None
    # The second item of a gift whose donor covers the card fees (stripe_client's fee line).
    fee_item: str | None = None
    fee_product: str | None = None
    # Current API versions put the period on the items; older ones on the subscription too.
    current_period_end: int | None = None
    # Set while collection is paused: when it resumes by itself (None: until resumed).
    paused: bool = False
    resumes_at: int | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Subscription:
        listed = _mapping(raw.get("items")).get("data")
        items = [_mapping(item) for item in listed] if isinstance(listed, list) else []
        metadata = _metadata(raw)
        second = _fee_item(items, metadata)
        first = next((item for item in items if item is not second), {})
        second = second or {}
        price = _mapping(first.get("price"))
        unit, quantity = _amount_or_none(price.get("unit_amount")), _amount(first.get("quantity"))
        pause = raw.get("pause_collection")
        return cls(
            id=str(raw["id"]),
            metadata=metadata,
            created=_amount(raw.get("created")),
            status=_text(raw.get("status")),
            customer=_reference(raw.get("customer")),
            start_date=_amount_or_none(raw.get("start_date")),
            amount=unit * quantity if unit is not None else None,
            item=_text(first.get("id")),
            product=_reference(price.get("product")),
            fee_item=_text(second.get("id")),
            fee_product=_reference(_mapping(second.get("price")).get("product")),
            current_period_end=(
                _amount_or_none(first.get("current_period_end"))
                or _amount_or_none(raw.get("current_period_end"))
            ),
            paused=isinstance(pause, Mapping),
            resumes_at=_amount_or_none(_mapping(pause).get("resumes_at")),
        )


@dataclass(frozen=True)
class Charge:
    """A charge as a refund event shows it: how much of its payment was refunded so far."""

    payment_intent: str | None = None
    amount_refunded: int = 0

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Charge:
        return cls(
            payment_intent=_reference(raw.get("payment_intent")),
            amount_refunded=_amount(raw.get("amount_refunded")),
        )


@dataclass(frozen=True)
class Dispute:
    """A dispute opened against a payment."""

    id: str
    payment_intent: str | None = None
    amount: int = 0

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Dispute:
        return cls(
            id=str(raw["id"]),
            payment_intent=_reference(raw.get("payment_intent")),
            amount=_amount(raw.get("amount")),
        )


@dataclass(frozen=True)
class Customer:
    """A customer, for the card its invoices are paid with."""

    id: str
    default_payment_method: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Customer:
        settings = _mapping(raw.get("invoice_settings"))
        return cls(
            id=str(raw["id"]),
            default_payment_method=_reference(settings.get("default_payment_method")),
        )


StripeObject = CheckoutSession | Invoice | Subscription | Charge | Dispute | Customer

_PARSERS: dict[EventType, Callable[[Mapping[str, Any]], StripeObject]] = {
    EventType.CHECKOUT_COMPLETED: CheckoutSession.parse,
    EventType.CHECKOUT_ASYNC_SUCCEEDED: CheckoutSession.parse,
    EventType.CHECKOUT_ASYNC_FAILED: CheckoutSession.parse,
    EventType.CHECKOUT_EXPIRED: CheckoutSession.parse,
    EventType.INVOICE_PAID: Invoice.parse,
    EventType.SUBSCRIPTION_DELETED: Subscription.parse,
    EventType.SUBSCRIPTION_UPDATED: Subscription.parse,
    EventType.CHARGE_REFUNDED: Charge.parse,
    EventType.DISPUTE_CREATED: Dispute.parse,
    EventType.CUSTOMER_UPDATED: Customer.parse,
}


@dataclass(frozen=True)
class StripeEvent:
    """A verified event of a type the bot handles, with its object parsed."""

    id: str | None
    type: EventType
    created: int
    object: StripeObject
    # Whether the change made another card the default one for invoices (customer.updated).
    card_changed: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> StripeEvent | None:
        """The event as a record; None for a type the bot ignores or an object it cannot read."""
        kind = raw.get("type")
        if kind not in _PARSERS:
            return None
        obj = _mapping(raw.get("data")).get("object")
        if not isinstance(obj, Mapping):
            return None
        event_type = EventType(kind)
        try:
            parsed = _PARSERS[event_type](obj)
        except KeyError:
            # No id: not an object Stripe sent, and nothing the bot could file it under.
            return None
        previous = _mapping(_mapping(raw.get("data")).get("previous_attributes"))
        card_changed = "default_payment_method" in _mapping(previous.get("invoice_settings"))
        return cls(
            _text(raw.get("id")), event_type, _amount(raw.get("created")), parsed, card_changed
        )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _amount_or_none(value: object) -> int | None:
    # Amounts and timestamps are JSON integers; a bool is an int to Python, never to Stripe.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _amount(value: object) -> int:
    return _amount_or_none(value) or 0


def _reference(value: object) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in _mapping(obj.get("metadata")).items()}


# The parts of a Stripe address; a part left blank is left out.
ADDRESS_PARTS = ("line1", "line2", "postal_code", "city", "state", "country")


def _address(value: object) -> dict[str, str]:
    address = _mapping(value)
    return {part: address[part] for part in ADDRESS_PARTS if _text(address.get(part))}


def _invoice_payment_intent(invoice: Mapping[str, Any]) -> str | None:
    # Current API versions list the invoice's payments instead of naming one PaymentIntent.
    direct = _reference(invoice.get("payment_intent"))
    if direct:
        return direct
    payments = _mapping(invoice.get("payments")).get("data")
    for payment in payments if isinstance(payments, list) else []:
        found = _reference(_mapping(_mapping(payment).get("payment")).get("payment_intent"))
        if found:
            return found
    return None


def _lines_period_end(invoice: Mapping[str, Any]) -> int | None:
    lines = _mapping(invoice.get("lines")).get("data")
    ends = [
        _amount(_mapping(_mapping(line).get("period")).get("end"))
        for line in (lines if isinstance(lines, list) else [])
    ]
    return max(ends, default=0) or None

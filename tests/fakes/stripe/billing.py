"""Subscriptions, their invoices, invoice payments and lines, shaped as the API returns them."""

from __future__ import annotations

import calendar
import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from tests.fakes.stripe.payments import format_money
from tests.fakes.stripe.state import DAY, new_id

Json = dict[str, Any]


@dataclass
class Item:
    """One priced line of a Checkout Session or an invoice."""

    price: Json
    name: str
    quantity: int

    @property
    def amount(self) -> int:
        """Line total in minor units."""
        return int(self.price["unit_amount"]) * self.quantity

    @property
    def recurring(self) -> Json | None:
        """The price's recurring block, or None for one-time prices."""
        return cast("Json | None", self.price["recurring"])


def add_interval(anchor: int, interval: str, count: int) -> int:
    """Anchor plus count intervals, clamping month ends the way Stripe's billing does."""
    if interval == "day":
        return anchor + count * DAY
    if interval == "week":
        return anchor + count * 7 * DAY
    start = datetime.fromtimestamp(anchor, tz=UTC)
    months = count if interval == "month" else 12 * count
    years, month0 = divmod(start.month - 1 + months, 12)
    year, month = start.year + years, month0 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def subscription(now: int, items: list[Item], customer_id: str, data: Json) -> Json:
    """An active subscription for the recurring items, with subscription_data applied."""
    recurring = [item for item in items if item.recurring]
    period = cast(Json, recurring[0].recurring)
    end = add_interval(now, period["interval"], period["interval_count"])
    sub_id = new_id("sub")
    sub_items = [
        {
            "id": new_id("si", 14),
            "object": "subscription_item",
            "created": now,
            "current_period_end": end,
            "current_period_start": now,
            "metadata": {},
            "price": copy.deepcopy(item.price),
            "quantity": item.quantity,
            "subscription": sub_id,
        }
        for item in recurring
    ]
    return {
        "id": sub_id,
        "object": "subscription",
        "billing_cycle_anchor": now,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "created": now,
        "currency": recurring[0].price["currency"],
        "current_period_end": end,
        "current_period_start": now,
        "customer": customer_id,
        "description": data.get("description"),
        "ended_at": None,
        "items": {
            "object": "list",
            "data": sub_items,
            "has_more": False,
            "total_count": len(sub_items),
            "url": f"/v1/subscription_items?subscription={sub_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": dict(data.get("metadata", {})),
        "pause_collection": None,
        "start_date": now,
        "status": "active",
    }


def invoice(
    now: int,
    subscription: Json,
    customer: Json,
    lines: list[Json],
    *,
    billing_reason: str,
    number: int,
    payment_intent: Json,
) -> Json:
    """A finalized subscription invoice paid (or being paid) by payment_intent."""
    invoice_id = str(lines[0]["invoice"])
    first_item = subscription["items"]["data"][0]
    total = sum(int(line["amount"]) for line in lines)
    paid = payment_intent["status"] == "succeeded"
    metadata = dict(subscription["metadata"])
    cycle = billing_reason == "subscription_cycle"
    return {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": total,
        "amount_paid": total if paid else 0,
        "amount_remaining": 0 if paid else total,
        "attempt_count": 1,
        "billing_reason": billing_reason,
        "charge": payment_intent["latest_charge"],
        "created": now,
        "currency": subscription["currency"],
        "customer": customer["id"],
        # Copied from the customer when the invoice is finalized.
        "customer_address": customer.get("address"),
        "customer_email": customer["email"],
        "customer_name": customer.get("name"),
        "lines": {
            "object": "list",
            "data": lines,
            "has_more": False,
            "total_count": len(lines),
            "url": f"/v1/invoices/{invoice_id}/lines",
        },
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": f"{customer['invoice_prefix']}-{number:04d}",
        "paid": paid,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": metadata, "subscription": subscription["id"]},
        },
        "payment_intent": payment_intent["id"],
        "period_end": first_item["current_period_end"] if cycle else now,
        "period_start": first_item["current_period_start"] if cycle else now,
        "status": "paid" if paid else "open",
        "status_transitions": {
            "finalized_at": now,
            "paid_at": now if paid else None,
        },
        "subscription": subscription["id"],
        "subscription_details": {"metadata": metadata},
        "subtotal": total,
        "total": total,
    }


def invoice_payment(now: int, invoice: Json) -> Json:
    """The InvoicePayment linking an invoice to its PaymentIntent (expand=payments)."""
    paid = invoice["status"] == "paid"
    return {
        "id": new_id("inpay"),
        "object": "invoice_payment",
        "amount_paid": invoice["total"] if paid else None,
        "amount_requested": invoice["total"],
        "created": now,
        "currency": invoice["currency"],
        "invoice": invoice["id"],
        "is_default": True,
        "livemode": False,
        "payment": {"type": "payment_intent", "payment_intent": invoice["payment_intent"]},
        "status": "paid" if paid else "open",
        "status_transitions": {"canceled_at": None, "paid_at": now if paid else None},
    }


def invoice_line(invoice_id: str, subscription: Json, item: Item) -> Json:
    """One invoice line for a subscription item, carrying the subscription's metadata."""
    recurring = cast(Json, item.recurring)
    sub_item = next(
        candidate
        for candidate in subscription["items"]["data"]
        if candidate["price"]["id"] == item.price["id"]
    )
    money = format_money(int(item.price["unit_amount"]), str(item.price["currency"]))
    per = recurring["interval"]
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": item.amount,
        "currency": item.price["currency"],
        "description": f"{item.quantity} \u00d7 {item.name} (at {money} / {per})",
        "invoice": invoice_id,
        "livemode": False,
        "metadata": dict(subscription["metadata"]),
        "parent": {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": subscription["id"],
                "subscription_item": sub_item["id"],
            },
        },
        "period": {
            "start": sub_item["current_period_start"],
            "end": sub_item["current_period_end"],
        },
        "price": copy.deepcopy(item.price),
        "pricing": {
            "type": "price_details",
            "price_details": {"price": item.price["id"], "product": item.price["product"]},
            "unit_amount_decimal": str(item.price["unit_amount"]),
        },
        "proration": False,
        "quantity": item.quantity,
        "subscription": subscription["id"],
        "subscription_item": sub_item["id"],
        "type": "subscription",
    }

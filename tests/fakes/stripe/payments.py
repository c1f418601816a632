"""Customers, PaymentIntents with their charges, refunds and disputes, shaped as the API returns
them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final, Literal

from tests.fakes.stripe.state import DAY, new_id, rand

Json = dict[str, Any]
PaymentState = Literal["succeeded", "processing"]

ZERO_DECIMAL: Final = frozenset({
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
})  # fmt: skip


def format_money(amount: int, currency: str) -> str:
    """Human form of a minor-unit amount, as Stripe writes it in messages and descriptions."""
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency}"
    return f"{amount // 100}.{amount % 100:02d} {currency}"


def customer(now: int, email: str | None, name: str | None) -> Json:
    """A new Customer."""
    return {
        "id": new_id("cus", 14),
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": now,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "email": email,
        "invoice_prefix": rand(8).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": name,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def outcome(state: str) -> Json:
    """The risk/network outcome block of a charge."""
    if state == "failed":
        return {
            "network_status": "declined_by_network",
            "reason": "insufficient_funds",
            "risk_level": "normal",
            "seller_message": "The bank returned the decline code `insufficient_funds`.",
            "type": "issuer_declined",
        }
    return {
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": "normal",
        "seller_message": "Payment complete.",
        "type": "authorized",
    }


def payment_error(charge: Json) -> Json:
    """A PaymentIntent's last_payment_error for a failed charge."""
    return {
        "charge": charge["id"],
        "code": "card_declined",
        "decline_code": charge["failure_code"],
        "message": charge["failure_message"],
        "type": "card_error",
    }


def _method_details(delayed: bool, now: int) -> Json:
    """A SEPA debit for delayed payments, else a Visa test card."""
    if delayed:
        return {"type": "sepa_debit", "sepa_debit": {"country": "DE", "last4": "3000"}}
    year = datetime.fromtimestamp(now, tz=UTC).year + 3
    card = {"brand": "visa", "country": "US", "exp_month": 12, "exp_year": year}
    return {"type": "card", "card": {**card, "funding": "credit", "last4": "4242"}}


def payment(
    now: int,
    *,
    amount: int,
    currency: str,
    customer: str | None,
    metadata: Json,
    description: str | None,
    invoice: str | None,
    state: PaymentState,
    email: str | None,
    name: str | None,
) -> tuple[Json, Json]:
    """A PaymentIntent and its charge (the PI's metadata is copied to the charge)."""
    pi_id, charge_id = new_id("pi"), new_id("ch")
    succeeded = state == "succeeded"
    details = _method_details(not succeeded, now)
    charge: Json = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if succeeded else 0,
        "amount_refunded": 0,
        "balance_transaction": new_id("txn") if succeeded else None,
        "billing_details": {"address": None, "email": email, "name": name, "phone": None},
        "captured": succeeded,
        "created": now,
        "currency": currency,
        "customer": customer,
        "description": description,
        "disputed": False,
        "failure_code": None,
        "failure_message": None,
        "invoice": invoice,
        "livemode": False,
        "metadata": dict(metadata),
        "outcome": outcome(state),
        "paid": succeeded,
        "payment_intent": pi_id,
        "payment_method": new_id("pm"),
        "payment_method_details": details,
        "receipt_email": email,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{rand(40)}",
        "refunded": False,
        "status": "succeeded" if succeeded else "pending",
    }
    payment_intent: Json = {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": amount if succeeded else 0,
        "canceled_at": None,
        "capture_method": "automatic_async",
        "client_secret": f"{pi_id}_secret_{rand(25)}",
        "confirmation_method": "automatic",
        "created": now,
        "currency": currency,
        "customer": customer,
        "description": description,
        "invoice": invoice,
        "last_payment_error": None,
        "latest_charge": charge_id,
        "livemode": False,
        "metadata": dict(metadata),
        "payment_method": charge["payment_method"],
        "payment_method_types": [details["type"]],
        "receipt_email": email,
        "status": state,
    }
    return payment_intent, charge


def refund(now: int, charge: Json, amount: int, reason: str | None) -> Json:
    """A succeeded Refund of part or all of a charge."""
    return {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn"),
        "charge": charge["id"],
        "created": now,
        "currency": charge["currency"],
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "receipt_number": None,
        "status": "succeeded",
    }


def dispute(now: int, charge: Json, amount: int) -> Json:
    """A Dispute that needs a response."""
    return {
        "id": new_id("dp"),
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": charge["id"],
        "created": now,
        "currency": charge["currency"],
        "evidence": {},
        "evidence_details": {
            "due_by": now + 7 * DAY,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "reason": "fraudulent",
        "status": "needs_response",
    }

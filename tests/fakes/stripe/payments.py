"""Customers, PaymentIntents with their charges, refunds and disputes: the fields the bot and
the fake's own bookkeeping read, named and nested as the API returns them."""

from __future__ import annotations

from typing import Any, Final, Literal

from tests.fakes.stripe.state import new_id, rand

Json = dict[str, Any]

ZERO_DECIMAL: Final = frozenset({
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
})  # fmt: skip


def format_money(amount: int, currency: str) -> str:
    """Human form of a minor-unit amount, as Stripe writes it in messages and descriptions."""
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency}"
    return f"{amount // 100}.{amount % 100:02d} {currency}"


def customer(now: int, email: str | None, name: str | None, address: Json | None = None) -> Json:
    """A new Customer; Checkout saves the billing address it collected on the one it creates."""
    return {
        "id": new_id("cus", 14),
        "object": "customer",
        "address": address,
        "created": now,
        "email": email,
        "invoice_prefix": rand(8).upper(),
        "invoice_settings": {
            "custom_fields": None, "default_payment_method": None, "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": name,
    }


def payment(
    now: int,
    *,
    amount: int,
    currency: str,
    customer: str | None,
    metadata: Json,
    description: str | None,
    invoice: str | None,
    state: Literal["succeeded", "processing"],
    email: str | None,
) -> tuple[Json, Json]:
    """A PaymentIntent and its charge (the PI's metadata is copied to the charge); a
    processing one is a SEPA debit still on its way."""
    pi_id, charge_id = new_id("pi"), new_id("ch")
    succeeded = state == "succeeded"
    charge: Json = {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if succeeded else 0,
        "amount_refunded": 0,
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
        "paid": succeeded,
        "payment_intent": pi_id,
        "receipt_email": email,
        "receipt_number": None,
        # Stripe's hosted receipt page, kept up to date with refunds.
        "receipt_url": receipt_url(),
        "refunded": False,
        "status": "succeeded" if succeeded else "pending",
    }
    payment_intent: Json = {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if succeeded else 0,
        "created": now,
        "currency": currency,
        "customer": customer,
        "description": description,
        "invoice": invoice,
        "last_payment_error": None,
        "latest_charge": charge_id,
        "livemode": False,
        "metadata": dict(metadata),
        "payment_method_types": ["card" if succeeded else "sepa_debit"],
        "receipt_email": email,
        "status": state,
    }
    return payment_intent, charge


def receipt_url() -> str:
    """The address of a charge's receipt page, shaped as Stripe's."""
    return f"https://pay.stripe.com/receipts/payment/{rand(64)}"


def settle(payment_intent: Json, charge: Json, *, succeeded: bool) -> None:
    """A processing payment clears, or is declined for insufficient funds."""
    if succeeded:
        payment_intent.update(status="succeeded", amount_received=payment_intent["amount"])
        charge.update(status="succeeded", paid=True, captured=True)
        charge["amount_captured"] = charge["amount"]
        return
    charge.update(
        status="failed",
        failure_code="insufficient_funds",
        failure_message="The account has insufficient funds.",
    )
    payment_intent["status"] = "requires_payment_method"
    payment_intent["last_payment_error"] = {
        "charge": charge["id"],
        "code": "card_declined",
        "decline_code": charge["failure_code"],
        "message": charge["failure_message"],
        "type": "card_error",
    }


def refund(now: int, charge: Json, amount: int, reason: str | None) -> Json:
    """A succeeded Refund of part or all of a charge."""
    return {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "charge": charge["id"],
        "created": now,
        "currency": charge["currency"],
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "status": "succeeded",
    }


def dispute(now: int, charge: Json, amount: int) -> Json:
    """A Dispute that needs a response."""
    return {
        "id": new_id("dp"),
        "object": "dispute",
        "amount": amount,
        "charge": charge["id"],
        "created": now,
        "currency": charge["currency"],
        "livemode": False,
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "reason": "fraudulent",
        "status": "needs_response",
    }

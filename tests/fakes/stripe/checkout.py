"""POST /v1/checkout/sessions: the params Stripe refuses, and the session and plan it keeps."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from tests.fakes.stripe.billing import Item
from tests.fakes.stripe.errors import bad, missing_param, no_such, unsupported
from tests.fakes.stripe.payments import format_money
from tests.fakes.stripe.state import DAY, StripeState, new_id, rand

Json = dict[str, Any]

_CURRENCY: Final = re.compile(r"[a-z]{3}")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MAX_AMOUNT: Final = 99_999_999
_MAX_INTERVAL_COUNT: Final = {"day": 365, "week": 52, "month": 12, "year": 1}
# Stripe's per-currency minimum charge, in minor units (https://docs.stripe.com/currencies).
_MINIMUM_CHARGE: Final = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
    "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50,
    "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300,
    "sgd": 50, "thb": 1000,
}  # fmt: skip
# Params that change what is charged or when; the fake refuses them rather than ignore them.
_UNSIMULATED: Final = ("discounts", "optional_items", "shipping_options", "expand")


@dataclass
class Plan:
    """What a Checkout Session will create on completion; Stripe keeps this server-side."""

    items: list[Item]
    payment_intent_data: Json
    subscription_data: Json
    customer_creation: str | None
    delayed: bool = False


def check_url(value: str, param: str) -> None:
    """Stripe refuses redirect URLs that are not absolute http(s) URLs."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 5000:
        raise bad("Not a valid URL", param, "url_invalid")


def _check_mode(params: Json, mode: str) -> None:
    """Params only one of the two modes accepts."""
    if "submit_type" in params and mode != "payment":
        raise bad("`submit_type` can only be used in `payment` mode.", "submit_type")
    if "subscription_data" in params and mode != "subscription":
        raise bad(f"You can not pass `subscription_data` in `{mode}` mode.", "subscription_data")
    if "payment_intent_data" in params and mode != "payment":
        raise bad(
            f"You can not pass `payment_intent_data` in `{mode}` mode.", "payment_intent_data"
        )
    if "customer_creation" in params and mode != "payment":
        raise bad(
            "`customer_creation` can only be used in `payment` and `setup` mode.",
            "customer_creation",
        )
    for name in ("trial_period_days", "trial_end", "billing_cycle_anchor"):
        if name in params.get("subscription_data", {}):
            raise unsupported(f"subscription_data[{name}]")


def _price(now: int, data: Json, path: str) -> tuple[Json, Json]:
    """An inline price and its product from price_data, not yet stored."""
    currency = str(data["currency"]).lower()
    if not _CURRENCY.fullmatch(currency):
        raise bad(f"Invalid currency: {data['currency']}", f"{path}[currency]")
    if "unit_amount" not in data:
        raise missing_param(f"{path}[unit_amount]")
    amount = int(data["unit_amount"])
    if amount < 0:
        raise bad("This value must be greater than or equal to 0.", f"{path}[unit_amount]")
    if amount > _MAX_AMOUNT:
        raise bad(
            f"This value must be less than or equal to {_MAX_AMOUNT}.", f"{path}[unit_amount]"
        )
    if "product_data" not in data:
        raise unsupported("prices of existing products (pass product_data)")
    product_data = data["product_data"]
    product = {
        "id": new_id("prod", 14),
        "object": "product",
        "active": False,
        "created": now,
        "livemode": False,
        "metadata": product_data.get("metadata", {}),
        "name": product_data["name"],
    }
    recurring: Json | None = None
    if "recurring" in data:
        interval = data["recurring"]["interval"]
        count = data["recurring"].get("interval_count", 1)
        if not 1 <= count <= _MAX_INTERVAL_COUNT[interval]:
            raise bad(
                "Invalid interval_count: maximum of one year interval allowed (1 year, "
                "12 months, or 52 weeks).",
                f"{path}[recurring][interval_count]",
            )
        recurring = {
            "interval": interval,
            "interval_count": count,
            "usage_type": "licensed",
        }
    price: Json = {
        "id": new_id("price"),
        "object": "price",
        "active": False,
        "created": now,
        "currency": currency,
        "livemode": False,
        "metadata": {},
        "product": product["id"],
        "recurring": recurring,
        "type": "one_time" if recurring is None else "recurring",
        "unit_amount": amount,
    }
    return price, product


def _items(account: StripeState, raw: Any, mode: str) -> list[Item]:
    """Validated line_items; their prices and products are stored only if all are valid."""
    if not raw:
        raise bad(f"`line_items` is required in `{mode}` mode.", "line_items")
    items: list[Item] = []
    created: list[tuple[Json, Json]] = []
    for index, line in enumerate(raw):
        path = f"line_items[{index}]"
        if "price_data" not in line:
            raise unsupported(f"{path} without price_data")
        price, product = _price(account.now(), line["price_data"], f"{path}[price_data]")
        if "quantity" not in line:
            raise missing_param(f"{path}[quantity]")
        if line["quantity"] < 1:
            raise bad("Quantity must be greater than 0.", f"{path}[quantity]")
        if price["recurring"] is not None and mode == "payment":
            raise bad(
                "You specified `payment` mode but passed a recurring price. Either switch "
                "to `subscription` mode or use only one-time prices.",
                f"{path}[price_data][recurring]",
            )
        if price["recurring"] is None and mode == "subscription":
            raise unsupported("one-time items in `subscription` mode")
        items.append(Item(price=price, name=str(product["name"]), quantity=line["quantity"]))
        created.append((price, product))
    if len({item.price["currency"] for item in items}) > 1:
        raise bad("All line items must use the same currency.", "line_items")
    periods = {
        (recurring.get("interval"), recurring.get("interval_count"))
        for recurring in (item.price["recurring"] or {} for item in items)
    }
    if len(periods) > 1:
        raise bad(
            "Checkout does not support multiple prices with different billing intervals.",
            "line_items",
        )
    for price, product in created:
        account.prices[price["id"]] = price
        account.products[product["id"]] = product
    return items


def _check_total(items: list[Item]) -> None:
    """Stripe's minimum charge per currency and its maximum amount."""
    currency = str(items[0].price["currency"])
    total = sum(item.amount for item in items)
    minimum = max(_MINIMUM_CHARGE.get(currency, 0), 1)
    if total < minimum:
        raise bad(
            "The Checkout Session's total amount due must add up to at least "
            f"{format_money(minimum, currency)}",
            "line_items",
            "amount_too_small",
        )
    if total > _MAX_AMOUNT:
        raise bad(
            "The Checkout Session's total amount due must be no more than "
            f"{format_money(_MAX_AMOUNT, currency)}",
            "line_items",
            "amount_too_large",
        )


def _without_blanks(data: Json) -> Json:
    """Data whose metadata keeps only non-empty values, as Stripe stores metadata."""
    metadata = {key: value for key, value in data.get("metadata", {}).items() if value}
    return {**data, "metadata": metadata}


def create_session(account: StripeState, params: Json, base_url: str) -> tuple[Json, Plan]:
    """A new open Checkout Session, and the plan of what completing it creates."""
    mode = params.get("mode")
    if mode is None:
        raise missing_param("mode")
    if mode not in ("payment", "subscription"):
        raise unsupported(f"Checkout in {mode} mode")
    if params.get("ui_mode", "hosted_page") != "hosted_page":
        raise unsupported(f"ui_mode={params['ui_mode']}")
    for name in _UNSIMULATED:
        if name in params:
            raise unsupported(f"`{name}`")
    if params.get("automatic_tax", {}).get("enabled"):
        raise unsupported("automatic tax")
    if "success_url" not in params:
        raise missing_param("success_url")
    check_url(params["success_url"], "success_url")
    if "cancel_url" in params:
        check_url(params["cancel_url"], "cancel_url")
    _check_mode(params, mode)
    customer, email = params.get("customer"), params.get("customer_email")
    if customer is not None and email is not None:
        raise bad("You may only specify one of these parameters: customer, customer_email.")
    if customer is not None and customer not in account.customers:
        raise no_such("customer", customer, "customer")
    if email is not None and not _EMAIL.fullmatch(email):
        raise bad(f"Invalid email address: {email}", "customer_email", "email_invalid")
    reference = params.get("client_reference_id")
    if reference is not None and len(reference) > 200:
        raise bad("client_reference_id must be at most 200 characters", "client_reference_id")
    now = account.now()
    expires_at = params.get("expires_at", now + DAY)
    # A few seconds of slack: the caller computed "now + 30 min" before sending.
    if not now + 1800 - 10 <= expires_at <= now + DAY:
        raise bad(
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
            "Checkout Session creation.",
            "expires_at",
        )
    items = _items(account, params.get("line_items"), mode)
    _check_total(items)
    total = sum(item.amount for item in items)
    session_id = f"cs_test_{rand(58)}"
    customer_creation = params.get("customer_creation", "if_required")
    session: Json = {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": total,
        "amount_total": total,
        "billing_address_collection": params.get("billing_address_collection"),
        "cancel_url": params.get("cancel_url"),
        "client_reference_id": reference,
        "created": now,
        "currency": items[0].price["currency"],
        "customer": customer,
        "customer_creation": customer_creation if mode == "payment" else None,
        "customer_details": None,
        "customer_email": email,
        "expires_at": expires_at,
        "invoice": None,
        "livemode": False,
        "locale": params.get("locale"),
        "metadata": _without_blanks(params)["metadata"],
        "mode": mode,
        "payment_intent": None,
        # The account offers cards only unless the session names other methods.
        "payment_method_types": list(params.get("payment_method_types", ["card"])),
        "payment_status": "unpaid",
        "status": "open",
        "submit_type": params.get("submit_type"),
        "subscription": None,
        "success_url": params["success_url"],
        # Where Checkout would be; the fake serves no page there, tests pay with its helpers.
        "url": f"{base_url}/pay/{session_id}",
    }
    plan = Plan(
        items=items,
        payment_intent_data=_without_blanks(params.get("payment_intent_data", {})),
        subscription_data=_without_blanks(params.get("subscription_data", {})),
        customer_creation=session["customer_creation"],
    )
    account.sessions[session_id] = session
    return copy.deepcopy(session), plan

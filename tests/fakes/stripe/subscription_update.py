"""POST /v1/subscriptions/<id> (a price swap, pause_collection, metadata) and POST
/v1/billing_portal/sessions, shaped as the API answers them."""

from __future__ import annotations

import copy
from typing import Any, Final

from tests.fakes.stripe.checkout import check_url
from tests.fakes.stripe.errors import bad, missing_param, no_such, unsupported
from tests.fakes.stripe.state import StripeState, new_id, rand

Json = dict[str, Any]

# What the bot changes on a subscription; anything else is refused rather than ignored.
_SIMULATED: Final = frozenset({"items", "proration_behavior", "pause_collection", "metadata"})
_ENDED: Final = ("canceled", "incomplete_expired")


def _swap_price(account: StripeState, item: Json, data: Json, path: str) -> None:
    """The item's price replaced by a new inline one of an existing product."""
    for name in ("currency", "product", "recurring"):
        if name not in data:
            raise missing_param(f"{path}[{name}]")
    if "unit_amount" not in data:
        raise unsupported(f"{path} without unit_amount")
    if data["product"] not in account.products:
        raise no_such("product", data["product"], f"{path}[product]")
    if data["unit_amount"] < 0:
        raise bad("This value must be greater than or equal to 0.", f"{path}[unit_amount]")
    now = account.now()
    price = {
        "id": new_id("price"), "object": "price", "active": False, "created": now,
        "currency": str(data["currency"]).lower(), "livemode": False, "metadata": {},
        "product": data["product"],
        "recurring": {
            "interval": data["recurring"]["interval"],
            "interval_count": data["recurring"].get("interval_count", 1),
            "usage_type": "licensed",
        },
        "type": "recurring", "unit_amount": data["unit_amount"],
    }  # fmt: skip
    account.prices[price["id"]] = price
    item["price"] = copy.deepcopy(price)


def update_subscription(account: StripeState, subscription: Json, params: Json) -> Json:
    """Apply validated update params; returns the previous_attributes of what changed."""
    for name in params:
        if name not in _SIMULATED:
            raise unsupported(f"`{name}` on a subscription update")
    if subscription["status"] in _ENDED:
        raise bad(
            "A canceled subscription can only update its cancellation_details and metadata."
        )
    previous: Json = {}
    if "items" in params:
        if params.get("proration_behavior", "create_prorations") != "none":
            raise unsupported("prorations (pass proration_behavior=none)")
        previous["items"] = copy.deepcopy(subscription["items"])
        by_id = {item["id"]: item for item in subscription["items"]["data"]}
        for index, change in enumerate(params["items"]):
            path = f"items[{index}]"
            item = by_id.get(change.get("id", ""))
            if item is None:
                raise unsupported(f"{path} that adds an item (pass the id of an existing one)")
            if "price_data" not in change:
                raise unsupported(f"{path} without price_data")
            _swap_price(account, item, change["price_data"], f"{path}[price_data]")
            if "quantity" in change:
                item["quantity"] = change["quantity"]
    if "pause_collection" in params:
        pause = params["pause_collection"]
        previous["pause_collection"] = copy.deepcopy(subscription["pause_collection"])
        if pause == "":
            subscription["pause_collection"] = None
        else:
            if "behavior" not in pause:
                raise missing_param("pause_collection[behavior]")
            resumes_at = pause.get("resumes_at")
            if resumes_at is not None and resumes_at <= account.now():
                raise bad("resumes_at must be in the future.", "pause_collection[resumes_at]")
            subscription["pause_collection"] = {
                "behavior": pause["behavior"], "resumes_at": resumes_at
            }
    if "metadata" in params:
        previous["metadata"] = dict(subscription["metadata"])
        for key, value in params["metadata"].items():
            # An empty value unsets the key, as Stripe's metadata does.
            if value:
                subscription["metadata"][key] = value
            else:
                subscription["metadata"].pop(key, None)
    return previous


def portal_session(account: StripeState, params: Json, base_url: str) -> Json:
    """A customer-portal session for an existing customer, maybe limited to one flow."""
    if "customer" not in params:
        raise missing_param("customer")
    customer = params["customer"]
    if customer not in account.customers:
        raise no_such("customer", customer, "customer")
    for name in ("configuration", "customer_account", "on_behalf_of", "after_expiration"):
        if name in params:
            raise unsupported(f"`{name}` on a portal session")
    if "return_url" in params:
        check_url(params["return_url"], "return_url")
    flow_data = params.get("flow_data")
    flow: Json | None = None
    if flow_data is not None:
        if flow_data.get("type") != "payment_method_update":
            raise unsupported(f"portal flow {flow_data.get('type')}")
        flow = {
            "type": "payment_method_update",
            "after_completion": {
                "type": "portal_homepage", "hosted_confirmation": None, "redirect": None,
            },
            "subscription_cancel": None, "subscription_update": None,
            "subscription_update_confirm": None,
        }  # fmt: skip
    session_id = f"bps_{rand(24)}"
    session = {
        "id": session_id,
        "object": "billing_portal.session",
        "configuration": "bpc_fake_default",
        "created": account.now(),
        "customer": customer,
        "flow": flow,
        "livemode": False,
        "locale": params.get("locale"),
        "on_behalf_of": None,
        "return_url": params.get("return_url"),
        # Where the portal would be; the fake serves no page there.
        "url": f"{base_url}/p/session/{session_id}",
    }
    account.portal_sessions[session_id] = session
    return copy.deepcopy(session)

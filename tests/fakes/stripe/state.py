"""What the fake Stripe account holds, and the events it announces changes with."""

from __future__ import annotations

import copy
import secrets
import string
import time
from typing import Any, Final

from stripe._api_version import _ApiVersion

Json = dict[str, Any]

API_KEY: Final = "sk_test_fake_4242"
WEBHOOK_SECRET: Final = "whsec_test_fake_secret"
# The version the SDK pins; a real webhook endpoint created by this SDK would get the same one.
API_VERSION: Final = _ApiVersion.CURRENT
DAY: Final = 86_400

_ALNUM: Final = string.ascii_letters + string.digits
# Fields that API versions before 2025-03-31.basil returned; dropped when legacy_fields=False.
_LEGACY_FIELDS: Final = {
    "invoice": ("charge", "paid", "payment_intent", "subscription", "subscription_details"),
    "subscription": ("current_period_end", "current_period_start"),
    "charge": ("invoice",),
    "payment_intent": ("invoice",),
    "line_item": ("price", "proration", "subscription", "subscription_item", "type"),
}


def rand(length: int) -> str:
    """Random alphanumerics, like the tail of a Stripe id."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id such as ``pi_3Px...``."""
    return f"{prefix}_{rand(length)}"


def strip_legacy(value: Any) -> None:
    """Drop pre-basil fields from every nested object, by its ``object`` type."""
    if isinstance(value, dict):
        for name in _LEGACY_FIELDS.get(str(value.get("object")), ()):
            value.pop(name, None)
        for item in value.values():
            strip_legacy(item)
    elif isinstance(value, list):
        for item in value:
            strip_legacy(item)


class StripeState:
    """The account's objects by kind, its clock, and the events of every change."""

    def __init__(self, api_version: str, legacy_fields: bool) -> None:
        self.api_version = api_version
        # Real accounts on current API versions lack these; tests can turn them off to match.
        self.legacy_fields = legacy_fields
        self.sessions: dict[str, Json] = {}
        self.subscriptions: dict[str, Json] = {}
        self.invoices: dict[str, Json] = {}
        self.invoice_payments: dict[str, Json] = {}
        self.charges: dict[str, Json] = {}
        self.payment_intents: dict[str, Json] = {}
        self.customers: dict[str, Json] = {}
        self.refunds: dict[str, Json] = {}
        self.disputes: dict[str, Json] = {}
        self.prices: dict[str, Json] = {}
        self.products: dict[str, Json] = {}
        self.events: dict[str, Json] = {}
        self.portal_sessions: dict[str, Json] = {}

    def now(self) -> int:
        """Stripe's clock (unix seconds)."""
        return int(time.time())

    def public(self, obj: Json) -> Json:
        """A copy as the API would show it (legacy fields removed if so configured)."""
        out = copy.deepcopy(obj)
        if not self.legacy_fields:
            strip_legacy(out)
        return out

    def event(
        self,
        type: str,
        obj: Json,
        *,
        previous_attributes: Json | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Json:
        """A well-formed event around a snapshot of obj, stored with the account's events."""
        data: Json = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = copy.deepcopy(previous_attributes)
        event: Json = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": self.api_version,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": request_id, "idempotency_key": idempotency_key},
            "type": type,
        }
        self.events[event["id"]] = event
        return event

    def events_of_type(self, event_type: str) -> list[Json]:
        """Stored events of one type, oldest first."""
        return [event for event in self.events.values() if event["type"] == event_type]

    def emit(
        self,
        out: list[Json],
        event_type: str,
        obj: Json,
        *,
        previous: Json | None = None,
        request: tuple[str, str | None] | None = None,
    ) -> None:
        """Announce a change: an event of the object as the API shows it, appended to out;
        request is the id and idempotency key of the API call that caused it."""
        request_id, key = request if request is not None else (None, None)
        out.append(
            self.event(
                event_type,
                self.public(obj),
                previous_attributes=previous,
                request_id=request_id,
                idempotency_key=key,
            )
        )

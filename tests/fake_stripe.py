"""A local Stripe API that the real SDK talks to, plus Stripe's side of a donation for tests."""

from __future__ import annotations

import base64
import binascii
import calendar
import copy
import fnmatch
import functools
import html
import json
import re
import secrets
import socket
import string
import time
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal, Self, cast
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import stripe
import stripe._request_options as stripe_request_options
from aiohttp import web
from stripe._api_version import _ApiVersion
from stripe.params import (
    ChargeListParams,
    ChargeRetrieveParams,
    CustomerListParams,
    CustomerRetrieveParams,
    DisputeListParams,
    DisputeRetrieveParams,
    EventListParams,
    EventRetrieveParams,
    InvoiceListParams,
    InvoicePaymentListParams,
    InvoicePaymentRetrieveParams,
    InvoiceRetrieveParams,
    PaymentIntentListParams,
    PaymentIntentRetrieveParams,
    PriceRetrieveParams,
    ProductRetrieveParams,
    RefundCreateParams,
    RefundListParams,
    RefundRetrieveParams,
    SubscriptionCancelParams,
    SubscriptionListParams,
    SubscriptionRetrieveParams,
    SubscriptionUpdateParams,
)
from stripe.params import billing_portal as portal_params
from stripe.params import checkout as checkout_params

__all__ = [
    "API_KEY",
    "API_VERSION",
    "WEBHOOK_SECRET",
    "Delivery",
    "FakeStripe",
    "StripeRequest",
    "decode_form",
    "encode_event",
]

API_KEY: Final = "sk_test_fake_4242"
WEBHOOK_SECRET: Final = "whsec_test_fake_secret"
# The version the SDK pins; a real webhook endpoint created by this SDK would get the same one.
API_VERSION: Final = _ApiVersion.CURRENT

Json = dict[str, Any]
Handler = Callable[["_Call"], Json]

_ALNUM: Final = string.ascii_letters + string.digits
_WEBHOOK_USER_AGENT: Final = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
_INTEGER: Final = re.compile(r"-?\d+")
_CURRENCY: Final = re.compile(r"[a-z]{3}")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_FORM_KEY: Final = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_FORM_INDEX: Final = re.compile(r"\[([^\[\]]*)\]")
_ID: Final = r"(?P<id>[^/]+)"
_DAY: Final = 86_400
_MAX_AMOUNT: Final = 99_999_999
_MAX_INTERVAL_COUNT: Final = {"day": 365, "week": 52, "month": 12, "year": 1}
# Stripe's per-currency minimum charge, in minor units (https://docs.stripe.com/currencies).
_MINIMUM_CHARGE: Final = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
    "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50,
    "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300,
    "sgd": 50, "thb": 1000,
}  # fmt: skip
_ZERO_DECIMAL: Final = frozenset(
    (
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    )
)
# Fields that API versions before 2025-03-31.basil returned; dropped when legacy_fields=False.
_LEGACY_FIELDS: Final = {
    "invoice": ("charge", "paid", "payment_intent", "subscription", "subscription_details"),
    "subscription": ("current_period_end", "current_period_start"),
    "charge": ("invoice",),
    "payment_intent": ("invoice",),
    "line_item": ("price", "proration", "subscription", "subscription_item", "type"),
}
_PAGING: Final = frozenset({"limit", "starting_after", "ending_before", "expand", "created"})
_OPTION_KEYS: Final = frozenset(stripe_request_options.RequestOptions.__annotations__)
_HINTS: dict[object, dict[str, Any]] = {}


def _rand(length: int) -> str:
    """Random alphanumerics, like the tail of a Stripe id."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def _new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id such as ``pi_3Px...``."""
    return f"{prefix}_{_rand(length)}"


def _format_money(amount: int, currency: str) -> str:
    """Human form of a minor-unit amount, for messages and descriptions."""
    if currency in _ZERO_DECIMAL:
        return f"{amount} {currency}"
    return f"{amount // 100}.{amount % 100:02d} {currency}"


def _add_interval(anchor: int, interval: str, count: int) -> int:
    """Anchor plus count intervals, clamping month ends the way Stripe's billing does."""
    if interval == "day":
        return anchor + count * _DAY
    if interval == "week":
        return anchor + count * 7 * _DAY
    start = datetime.fromtimestamp(anchor, tz=UTC)
    months = count if interval == "month" else 12 * count
    years, month0 = divmod(start.month - 1 + months, 12)
    year, month = start.year + years, month0 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def decode_form(pairs: Iterable[tuple[str, str]]) -> Json:
    """Rebuild the nested params the SDK flattened into ``a[b][0][c]=v`` form keys."""
    root: Json = {}
    for key, value in pairs:
        match = _FORM_KEY.fullmatch(key)
        tokens = [match.group(1), *_FORM_INDEX.findall(match.group(2))] if match else [key]
        node = root
        for position, token in enumerate(tokens):
            # An empty index ("expand[]") appends, as Stripe's Rack parser does.
            name = token if token else str(len(node))
            if position == len(tokens) - 1:
                node[name] = value
                continue
            child = node.get(name)
            if not isinstance(child, dict):
                child = {}
                node[name] = child
            node = child
    return {key: _listify(value) for key, value in root.items()}


def _listify(value: Any) -> Any:
    """Turn dicts keyed "0", "1", ... into lists, since the SDK always indexes arrays."""
    if not isinstance(value, dict):
        return value
    items = {key: _listify(item) for key, item in value.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def encode_event(event: Json) -> bytes:
    """Serialize an event the way Stripe's webhook sender does (pretty-printed UTF-8 JSON)."""
    return json.dumps(event, indent=2, ensure_ascii=False).encode("utf-8")


@dataclass
class StripeRequest:
    """One API request the fake received, decoded from the SDK's wire format."""

    method: str
    path: str
    params: Json
    idempotency_key: str | None
    at: float
    stripe_version: str | None = None
    api_key: str | None = None
    status: int = 0
    replayed: bool = False


@dataclass
class Delivery:
    """One webhook POST made by FakeStripe.deliver."""

    event_id: str
    type: str
    url: str
    status: int
    body: str


class _ApiError(Exception):
    """A Stripe-style API error, rendered as ``{"error": {...}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        """Keep the fields Stripe puts in an error body."""
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.param = param
        self.code = code

    def body(self) -> Json:
        """The JSON body the SDK parses into a StripeError subclass."""
        error: Json = {"type": self.kind, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        return {"error": error}


def _bad(message: str, param: str | None = None, code: str | None = None) -> _ApiError:
    """A 400 invalid_request_error."""
    return _ApiError(400, message, param=param, code=code)


def _missing_param(param: str) -> _ApiError:
    """Stripe's error for an absent required parameter."""
    return _bad(f"Missing required param: {param}.", param, "parameter_missing")


def _no_such(kind: str, object_id: str, param: str, status: int = 400) -> _ApiError:
    """Stripe's resource_missing error (404 for path ids, 400 for ids inside params)."""
    return _ApiError(
        status, f"No such {kind}: '{object_id}'", param=param, code="resource_missing"
    )


def _unsupported(what: str) -> _ApiError:
    """Refuse loudly rather than silently ignore something that would change money or state."""
    return _bad(f"FakeStripe does not simulate {what}.", code="fake_unsupported")


# --- parameter validation against the SDK's own TypedDicts (the API's accepted params) ---


def _hints(schema: object) -> dict[str, Any]:
    """Resolved field types of an SDK params TypedDict, without the request-option keys."""
    cached = _HINTS.get(schema)
    if cached is None:
        # RequestOptions names types it imports only under TYPE_CHECKING.
        namespace = {**vars(stripe_request_options), "StripeContext": stripe.StripeContext}
        resolved = typing.get_type_hints(schema, localns=namespace)
        cached = {key: tp for key, tp in resolved.items() if key not in _OPTION_KEYS}
        _HINTS[schema] = cached
    return cached


def _join(path: str, key: str | int) -> str:
    """Stripe's spelling of a nested param name."""
    return f"{path}[{key}]" if path else str(key)


def _is_typeddict(schema: Any) -> bool:
    """Whether a type is a TypedDict (typing or typing_extensions flavour)."""
    return isinstance(schema, type) and hasattr(schema, "__required_keys__")


def _is_stripe_object(schema: Any) -> bool:
    """Whether a union arm is the SDK's response-object type, which is not a param shape."""
    target = typing.get_origin(schema) or schema
    return isinstance(target, type) and issubclass(target, stripe.StripeObject)


def _validate(params: Json, schema: object) -> Json:
    """Check decoded params against an SDK params TypedDict and coerce ints and bools."""
    return cast(Json, _check_hash(params, schema, ""))


def _check(value: Any, schema: Any, path: str) -> Any:
    """Check and coerce one decoded value against its declared type."""
    if _is_typeddict(schema):
        return _check_hash(value, schema, path)
    origin = typing.get_origin(schema)
    args = typing.get_args(schema)
    if origin is typing.Union or origin is types.UnionType:
        return _check_union(value, args, path)
    if origin is Literal:
        return _check_union(value, (schema,), path)
    if origin is list:
        if not isinstance(value, list):
            raise _bad(f"Invalid array: {path}", path)
        return [_check(item, args[0], _join(path, index)) for index, item in enumerate(value)]
    if origin is dict:
        return _check_map(value, args[1] if len(args) == 2 else str, path)
    if schema in (str, int, bool, float, Decimal):
        return _check_scalar(value, schema, path)
    return value


def _check_hash(value: Any, schema: Any, path: str) -> Any:
    """Reject unknown keys the way Stripe does, and missing required ones."""
    if not isinstance(value, dict):
        raise _bad(f"Invalid hash: {path}", path)
    hints = _hints(schema)
    out: Json = {}
    for key, item in value.items():
        name = _join(path, key)
        if key not in hints:
            raise _bad(f"Received unknown parameter: {name}", name)
        out[key] = _check(item, hints[key], name)
    for key in sorted(getattr(schema, "__required_keys__", frozenset()) - _OPTION_KEYS):
        if key not in value:
            raise _missing_param(_join(path, key))
    return out


def _check_union(value: Any, arms: tuple[Any, ...], path: str) -> Any:
    """Accept a value matching any arm; ``Literal[...] | str`` is an enum, not free text."""
    literals = [
        option
        for arm in arms
        if typing.get_origin(arm) is Literal
        for option in typing.get_args(arm)
    ]
    if isinstance(value, str) and value in literals:
        return value
    is_enum = any(option != "" for option in literals)
    if value == "":
        raise _empty(path)
    candidates = [
        arm
        for arm in arms
        if typing.get_origin(arm) is not Literal
        and not _is_stripe_object(arm)
        and not (is_enum and arm is str)
    ]
    errors: list[tuple[Any, _ApiError]] = []
    for arm in candidates:
        try:
            return _check(value, arm, path)
        except _ApiError as error:
            errors.append((arm, error))
    if is_enum and isinstance(value, str):
        leaf = path.rsplit("[", 1)[-1].rstrip("]")
        options = ", ".join(str(option) for option in literals if option != "")
        raise _bad(f"Invalid {leaf}: must be one of {options}", path)
    for arm, arm_error in errors:
        # Report the arm shaped like the value: a hash error for a hash, etc.
        if isinstance(value, dict) == (_is_typeddict(arm) or typing.get_origin(arm) is dict):
            raise arm_error
    if errors:
        raise errors[0][1]
    raise _bad(f"Invalid value for {path}", path)


def _check_map(value: Any, item_schema: Any, path: str) -> Json:
    """Check a free-form hash such as metadata, with Stripe's metadata limits."""
    if not isinstance(value, dict):
        raise _bad(f"Invalid hash: {path}", path)
    out: Json = {}
    for key, item in value.items():
        name = _join(path, key)
        if item_schema is str:
            if not isinstance(item, str):
                raise _bad(f"Invalid value type: {name} must be a string", name)
            out[key] = item
        else:
            out[key] = _check(item, item_schema, name)
    if path.endswith("metadata"):
        if len(out) > 50:
            raise _bad("You can specify up to 50 metadata keys.", path)
        for key, item in out.items():
            if len(key) > 40:
                raise _bad(f"Metadata keys can have up to 40 characters: {key}", _join(path, key))
            if isinstance(item, str) and len(item) > 500:
                raise _bad(
                    "Metadata values can have up to 500 characters, but you passed in a value "
                    f"that is {len(item)} characters.",
                    _join(path, key),
                )
    return out


def _check_scalar(value: Any, schema: Any, path: str) -> Any:
    """Parse a form string as the declared scalar type."""
    if not isinstance(value, str):
        raise _bad(f"Invalid {schema.__name__}: {path} must be a scalar", path)
    if value == "":
        raise _empty(path)
    if schema is bool:
        if value not in ("true", "false"):
            raise _bad(f"Invalid boolean: {value}", path)
        return value == "true"
    if schema is int:
        if not _INTEGER.fullmatch(value):
            raise _bad(f"Invalid integer: {value}", path)
        return int(value)
    if schema in (float, Decimal):
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise _bad(f"Invalid decimal: {value}", path) from None
        if not number.is_finite():
            raise _bad(f"Invalid decimal: {value}", path)
        return number if schema is Decimal else float(number)
    return value


def _empty(path: str) -> _ApiError:
    """Stripe treats "" as an attempt to unset, which most create params forbid."""
    return _bad(
        f"You passed an empty string for '{path}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{path}' cannot be unset. You should remove '{path}' "
        "from your request or supply a non-empty value.",
        path,
    )


def _check_url(value: str, param: str) -> None:
    """Stripe rejects redirect URLs that are not absolute http(s) URLs."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 5000:
        raise _bad("Not a valid URL", param, "url_invalid")


# --- internal records ---


@dataclass
class _Item:
    """One priced line of a Checkout Session."""

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


@dataclass
class _Plan:
    """What a Checkout Session will create on completion; Stripe keeps this server-side."""

    items: list[_Item]
    line_items: list[Json]
    payment_intent_data: Json
    subscription_data: Json
    customer_creation: str | None
    delayed: bool = False


@dataclass
class _Failure:
    """A queued simulated outage."""

    remaining: int
    status: int
    path_prefix: str
    message: str
    should_retry: bool | None


@dataclass
class _Stored:
    """An idempotent result, replayed for a repeated Idempotency-Key."""

    method: str
    path: str
    params: Json
    body: Json
    request_id: str


@dataclass
class _Call:
    """What a route handler gets: the decoded request and its URL match."""

    record: StripeRequest
    params: Json
    match: re.Match[str]
    request_id: str

    @property
    def id(self) -> str:
        """The object id from the URL."""
        return self.match.group("id")


@dataclass
class _Collection:
    """A retrievable and listable resource."""

    path: str
    name: str
    store: dict[str, Json]
    retrieve_params: object
    list_params: object
    filters: frozenset[str]


class FakeStripe:
    """A Stripe-compatible HTTP server on 127.0.0.1 plus helpers that play Stripe's side."""

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        webhook_secret: str = WEBHOOK_SECRET,
        api_version: str = API_VERSION,
        legacy_fields: bool = True,
        extra_events: bool = False,
        webhook_url: str | None = None,
    ) -> None:
        """Configure; nothing listens until start()."""
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.api_version = api_version
        # Real accounts on current API versions lack these; tests can turn them off to match.
        self.legacy_fields = legacy_fields
        # Real Stripe also sends customer.created, charge.succeeded, ...; off by default.
        self.extra_events = extra_events
        # Where the hosted /pay page delivers events when a human clicks "Pay".
        self.webhook_url = webhook_url
        self.webhook_timeout = 10.0
        self.requests: list[StripeRequest] = []
        self.deliveries: list[Delivery] = []
        self.internal_errors: list[BaseException] = []
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
        self.portal_sessions: dict[str, Json] = {}
        self.events: dict[str, Json] = {}
        self._plans: dict[str, _Plan] = {}
        self._periods: dict[str, int] = {}
        self._failures: list[_Failure] = []
        self._idempotency: dict[tuple[str, str], _Stored] = {}
        self._clock_offset = 0
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._prefixes: dict[str, dict[str, Json]] = {
            "cs": self.sessions, "sub": self.subscriptions, "in": self.invoices,
            "inpay": self.invoice_payments, "ch": self.charges, "pi": self.payment_intents,
            "cus": self.customers, "re": self.refunds, "dp": self.disputes, "price": self.prices,
            "prod": self.products, "bps": self.portal_sessions, "evt": self.events,
        }  # fmt: skip
        self._routes = self._build_routes()

    # --- lifecycle ---

    @property
    def url(self) -> str:
        """Base address to pass as ``base_addresses={"api": fake.url}``."""
        if self._url is None:
            raise RuntimeError("FakeStripe is not started")
        return self._url

    async def start(self) -> None:
        """Listen on a free 127.0.0.1 port."""
        if self._runner is not None:
            raise RuntimeError("FakeStripe is already started")
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        # Binding our own socket gives the port without reaching into aiohttp internals.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self._url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Stop listening; stored objects stay inspectable."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()

    # --- test controls ---

    def now(self) -> int:
        """Stripe's clock (unix seconds), shifted by advance_time()."""
        return int(time.time()) + self._clock_offset

    def advance_time(self, seconds: int) -> None:
        """Move Stripe's clock forward for created/expires_at/period stamps (not signatures)."""
        self._clock_offset += seconds

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        path_prefix: str = "/v1/",
        message: str | None = None,
        should_retry: bool | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests (each SDK retry counts) with an error."""
        text = message or f"FakeStripe simulated outage (HTTP {status})."
        self._failures.append(_Failure(count, status, path_prefix, text, should_retry))

    def create_customer(self, *, email: str | None = None, name: str | None = None) -> Json:
        """Add a customer, e.g. to pass as ``customer=`` when creating a session."""
        return self._new_customer(email, name)

    def events_of_type(self, event_type: str) -> list[Json]:
        """Stored events of one type, oldest first."""
        return [event for event in self.events.values() if event["type"] == event_type]

    def redirect_url(self, session_id: str) -> str:
        """The success_url Stripe would redirect to, with {CHECKOUT_SESSION_ID} filled in."""
        return str(self.sessions[session_id]["success_url"]).replace(
            "{CHECKOUT_SESSION_ID}", session_id
        )

    # --- Stripe's side: checkout ---

    def complete_session(
        self, session_id: str, *, email: str | None = None, name: str | None = None
    ) -> list[Json]:
        """The donor pays by card: money captured at once."""
        return self._finish_session(session_id, paid=True, email=email, name=name)

    def complete_session_async(
        self, session_id: str, *, email: str | None = None, name: str | None = None
    ) -> list[Json]:
        """The donor pays with a delayed method (e.g. SEPA debit): complete but unpaid."""
        return self._finish_session(session_id, paid=False, email=email, name=name)

    def async_payment_succeeded(self, session_id: str) -> list[Json]:
        """The delayed payment of a completed session clears."""
        session, plan = self._delayed_session(session_id)
        out: list[Json] = []
        pi_id = self._session_payment_intent(session)
        self._settle_payment(pi_id, succeeded=True, out=out)
        session["payment_status"] = "paid"
        plan.delayed = False
        self._emit(out, "checkout.session.async_payment_succeeded", session)
        if session["mode"] == "subscription":
            invoice = self.invoices[session["invoice"]]
            self._mark_invoice_paid(invoice)
            self._emit(out, "invoice.paid", invoice)
            self._emit(out, "invoice.payment_succeeded", invoice, extra=True)
        return out

    def async_payment_failed(self, session_id: str) -> list[Json]:
        """The delayed payment of a completed session fails; no money arrives."""
        session, plan = self._delayed_session(session_id)
        out: list[Json] = []
        pi_id = self._session_payment_intent(session)
        self._settle_payment(pi_id, succeeded=False, out=out)
        plan.delayed = False
        self._emit(out, "checkout.session.async_payment_failed", session)
        if session["mode"] == "subscription":
            invoice = self.invoices[session["invoice"]]
            invoice["attempt_count"] = 1
            invoice["next_payment_attempt"] = None
            self._emit(out, "invoice.payment_failed", invoice)
            subscription = self.subscriptions[session["subscription"]]
            previous = {"status": subscription["status"]}
            subscription["status"] = "past_due"
            self._emit(out, "customer.subscription.updated", subscription, previous=previous)
        return out

    def expire_session(self, session_id: str) -> list[Json]:
        """The session times out unpaid."""
        session = self._open_session(session_id)
        out: list[Json] = []
        self._expire(session, out)
        return out

    # --- Stripe's side: subscriptions ---

    def renew_subscription(self, subscription_id: str) -> list[Json]:
        """A billing period ends and the renewal charge succeeds (or the subscription ends)."""
        subscription = self._live_subscription(subscription_id)
        out: list[Json] = []
        if subscription["cancel_at_period_end"]:
            self._end_subscription(subscription, "cancellation_requested", out)
            return out
        self._renew(subscription, paid=True, out=out)
        return out

    def fail_renewal(self, subscription_id: str) -> list[Json]:
        """A billing period ends and the renewal charge is declined: now past_due."""
        subscription = self._live_subscription(subscription_id)
        out: list[Json] = []
        self._renew(subscription, paid=False, out=out)
        return out

    def pay_invoice(self, invoice_id: str) -> list[Json]:
        """A retry of an open (declined) subscription invoice succeeds."""
        invoice = self.invoices.get(invoice_id)
        if invoice is None or invoice["status"] != "open":
            raise ValueError(f"invoice {invoice_id} is not open")
        out: list[Json] = []
        self._settle_payment(invoice["payment_intent"], succeeded=True, out=out)
        subscription = self.subscriptions[invoice["subscription"]]
        previous = {"status": subscription["status"]}
        self._mark_invoice_paid(invoice)
        self._emit(out, "invoice.paid", invoice)
        self._emit(out, "invoice.payment_succeeded", invoice, extra=True)
        if previous["status"] != subscription["status"]:
            self._emit(out, "customer.subscription.updated", subscription, previous=previous)
        return out

    def cancel_subscription_event(
        self, subscription_id: str, *, reason: str = "cancellation_requested"
    ) -> list[Json]:
        """Stripe ends the subscription (customer portal, dunning, dashboard)."""
        subscription = self._live_subscription(subscription_id)
        out: list[Json] = []
        self._end_subscription(subscription, reason, out)
        return out

    # --- Stripe's side: money back ---

    def refund(
        self, payment_intent_id: str, amount: int | None = None, *, reason: str | None = None
    ) -> list[Json]:
        """Refund part (amount) or the rest (None) of a payment's charge."""
        charge = self._charge_of(payment_intent_id)
        out: list[Json] = []
        try:
            self._refund_charge(charge, amount, reason, {}, out)
        except _ApiError as error:
            raise ValueError(error.message) from None
        return out

    def dispute(self, payment_intent_id: str, amount: int | None = None) -> list[Json]:
        """The card holder disputes the payment (a chargeback)."""
        charge = self._charge_of(payment_intent_id)
        if charge["disputed"]:
            raise ValueError(f"charge {charge['id']} is already disputed")
        disputed = charge["amount"] if amount is None else amount
        if not 0 < disputed <= charge["amount"]:
            raise ValueError(f"dispute amount {disputed} is outside 1..{charge['amount']}")
        now = self.now()
        dispute: Json = {
            "id": _new_id("dp"),
            "object": "dispute",
            "amount": disputed,
            "balance_transactions": [],
            "charge": charge["id"],
            "created": now,
            "currency": charge["currency"],
            "evidence": {},
            "evidence_details": {
                "due_by": now + 7 * _DAY,
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
        self.disputes[dispute["id"]] = dispute
        charge["disputed"] = True
        out: list[Json] = []
        self._emit(out, "charge.dispute.created", dispute)
        self._emit(out, "charge.dispute.funds_withdrawn", dispute, extra=True)
        return out

    def close_dispute(self, dispute_id: str, *, won: bool) -> list[Json]:
        """The bank decides the dispute."""
        dispute = self.disputes[dispute_id]
        if dispute["status"] in ("won", "lost"):
            raise ValueError(f"dispute {dispute_id} is already {dispute['status']}")
        previous = {"status": dispute["status"]}
        dispute["status"] = "won" if won else "lost"
        out: list[Json] = []
        self._emit(out, "charge.dispute.closed", dispute, previous=previous)
        return out

    # --- events, signing, delivery ---

    def event(
        self,
        type: str,
        obj: Json,
        *,
        previous_attributes: Json | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Json:
        """A well-formed event around a snapshot of obj, stored for GET /v1/events."""
        data: Json = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = copy.deepcopy(previous_attributes)
        event: Json = {
            "id": _new_id("evt"),
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

    def sign(
        self, payload: bytes | str, *, secret: str | None = None, timestamp: int | None = None
    ) -> str:
        """The Stripe-Signature header value for payload, computed with the SDK's own HMAC."""
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
        stamp = int(time.time()) if timestamp is None else timestamp
        signature = stripe.WebhookSignature._compute_signature(
            f"{stamp}.{text}", secret or self.webhook_secret
        )
        return f"t={stamp},v1={signature}"

    def signed_payload(
        self, event: Json, *, secret: str | None = None, timestamp: int | None = None
    ) -> tuple[bytes, str]:
        """Body and Stripe-Signature header, for calling a webhook handler without HTTP."""
        payload = encode_event(event)
        return payload, self.sign(payload, secret=secret, timestamp=timestamp)

    async def deliver(
        self,
        event: Json,
        webhook_url: str,
        *,
        secret: str | None = None,
        timestamp: int | None = None,
    ) -> int:
        """POST one signed event like Stripe's webhook sender; returns the HTTP status."""
        async with aiohttp.ClientSession() as http:
            return await self._post_event(http, event, webhook_url, secret, timestamp)

    async def deliver_all(self, events: list[Json], webhook_url: str) -> list[int]:
        """Deliver events one after another, in order; returns their statuses."""
        async with aiohttp.ClientSession() as http:
            return [
                await self._post_event(http, event, webhook_url, None, None) for event in events
            ]

    async def _post_event(
        self,
        http: aiohttp.ClientSession,
        event: Json,
        url: str,
        secret: str | None,
        timestamp: int | None,
    ) -> int:
        """Send one event; Stripe does not follow redirects, so neither do we."""
        payload, header = self.signed_payload(event, secret=secret, timestamp=timestamp)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": _WEBHOOK_USER_AGENT,
            "Accept": "*/*; q=0.5, application/xml",
            "Cache-Control": "no-cache",
            "Stripe-Signature": header,
        }
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
        async with http.post(
            url, data=payload, headers=headers, allow_redirects=False, timeout=timeout
        ) as response:
            body = await response.text()
            status = response.status
        self.deliveries.append(Delivery(event["id"], event["type"], url, status, body))
        return status

    # --- object builders ---

    def _public(self, obj: Json) -> Json:
        """A copy as the API would show it (legacy fields removed if so configured)."""
        out = copy.deepcopy(obj)
        if not self.legacy_fields:
            _strip_legacy(out)
        return out

    def _emit(
        self,
        out: list[Json],
        event_type: str,
        obj: Json,
        *,
        extra: bool = False,
        previous: Json | None = None,
        call: _Call | None = None,
    ) -> None:
        """Create an event unless it is an optional one and extra_events is off."""
        if extra and not self.extra_events:
            return
        out.append(
            self.event(
                event_type,
                self._public(obj),
                previous_attributes=previous,
                request_id=call.request_id if call else None,
                idempotency_key=call.record.idempotency_key if call else None,
            )
        )

    def _new_customer(self, email: str | None, name: str | None) -> Json:
        """Store a customer object."""
        customer: Json = {
            "id": _new_id("cus", 14),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": self.now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": None,
            "email": email,
            "invoice_prefix": _rand(8).upper(),
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
        self.customers[customer["id"]] = customer
        return customer

    def _new_payment(
        self,
        *,
        amount: int,
        currency: str,
        customer: str | None,
        metadata: Json,
        description: str | None,
        invoice: str | None,
        state: Literal["succeeded", "processing", "failed"],
        email: str | None,
        name: str | None,
    ) -> tuple[Json, Json]:
        """Store a PaymentIntent and its charge (the PI's metadata is copied to the charge)."""
        now = self.now()
        pi_id, charge_id = _new_id("pi"), _new_id("ch")
        delayed = state == "processing"
        method_type = "sepa_debit" if delayed else "card"
        method_details: Json = (
            {"type": "sepa_debit", "sepa_debit": {"country": "DE", "last4": "3000"}}
            if delayed
            else {
                "type": "card",
                "card": {
                    "brand": "visa",
                    "country": "US",
                    "exp_month": 12,
                    "exp_year": datetime.fromtimestamp(now, tz=UTC).year + 3,
                    "funding": "credit",
                    "last4": "4242",
                },
            }
        )
        charge: Json = {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount if state == "succeeded" else 0,
            "amount_refunded": 0,
            "balance_transaction": _new_id("txn") if state == "succeeded" else None,
            "billing_details": {"address": None, "email": email, "name": name, "phone": None},
            "captured": state == "succeeded",
            "created": now,
            "currency": currency,
            "customer": customer,
            "description": description,
            "disputed": False,
            "failure_code": "insufficient_funds" if state == "failed" else None,
            "failure_message": "Your card has insufficient funds." if state == "failed" else None,
            "invoice": invoice,
            "livemode": False,
            "metadata": dict(metadata),
            "outcome": _outcome(state),
            "paid": state == "succeeded",
            "payment_intent": pi_id,
            "payment_method": _new_id("pm"),
            "payment_method_details": method_details,
            "receipt_email": email,
            "receipt_url": f"https://pay.stripe.com/receipts/payment/{_rand(40)}",
            "refunded": False,
            "status": {"succeeded": "succeeded", "processing": "pending", "failed": "failed"}[
                state
            ],
        }
        payment_intent: Json = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": amount if state == "succeeded" else 0,
            "canceled_at": None,
            "capture_method": "automatic_async",
            "client_secret": f"{pi_id}_secret_{_rand(25)}",
            "confirmation_method": "automatic",
            "created": now,
            "currency": currency,
            "customer": customer,
            "description": description,
            "invoice": invoice,
            "last_payment_error": _payment_error(charge) if state == "failed" else None,
            "latest_charge": charge_id,
            "livemode": False,
            "metadata": dict(metadata),
            "payment_method": charge["payment_method"],
            "payment_method_types": [method_type],
            "receipt_email": email,
            "status": {
                "succeeded": "succeeded",
                "processing": "processing",
                "failed": "requires_payment_method",
            }[state],
        }
        self.payment_intents[pi_id] = payment_intent
        self.charges[charge_id] = charge
        return payment_intent, charge

    def _settle_payment(self, pi_id: str, *, succeeded: bool, out: list[Json]) -> None:
        """Resolve a processing payment."""
        payment_intent = self.payment_intents[pi_id]
        charge = self.charges[payment_intent["latest_charge"]]
        if succeeded and charge["status"] == "failed":
            # A retry after a decline is a new charge on the same PaymentIntent.
            charge = copy.deepcopy(charge)
            charge.update(
                id=_new_id("ch"), created=self.now(), failure_code=None, failure_message=None
            )
            self.charges[charge["id"]] = charge
            payment_intent.update(latest_charge=charge["id"], last_payment_error=None)
        if succeeded:
            payment_intent.update(status="succeeded", amount_received=payment_intent["amount"])
            charge.update(
                status="succeeded",
                paid=True,
                captured=True,
                amount_captured=charge["amount"],
                balance_transaction=_new_id("txn"),
                outcome=_outcome("succeeded"),
            )
            self._emit(out, "charge.succeeded", charge, extra=True)
            self._emit(out, "payment_intent.succeeded", payment_intent, extra=True)
        else:
            charge.update(
                status="failed",
                failure_code="insufficient_funds",
                failure_message="The account has insufficient funds.",
                outcome=_outcome("failed"),
            )
            payment_intent.update(
                status="requires_payment_method", last_payment_error=_payment_error(charge)
            )
            self._emit(out, "charge.failed", charge, extra=True)
            self._emit(out, "payment_intent.payment_failed", payment_intent, extra=True)

    def _finish_session(
        self, session_id: str, *, paid: bool, email: str | None, name: str | None
    ) -> list[Json]:
        """Complete an open session and create what Stripe creates for its mode."""
        session = self._open_session(session_id)
        plan = self._plans[session_id]
        out: list[Json] = []
        customer_id: str | None = session["customer"]
        known = self.customers.get(customer_id or "", {})
        email = email or session["customer_email"] or known.get("email") or "donor@example.com"
        name = name or known.get("name") or "Test Donor"
        # Payment mode makes a guest (no Customer) unless customer_creation=always.
        if customer_id is None and (
            session["mode"] == "subscription" or plan.customer_creation == "always"
        ):
            customer = self._new_customer(email, name)
            customer_id = customer["id"]
            self._emit(out, "customer.created", customer, extra=True)
        session.update(
            status="complete",
            payment_status="paid" if paid else "unpaid",
            customer=customer_id,
            customer_details={
                "address": None,
                "email": email,
                "name": name,
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
            url=None,
        )
        plan.delayed = not paid
        state: Literal["succeeded", "processing"] = "succeeded" if paid else "processing"
        if session["mode"] == "payment":
            payment_intent, charge = self._new_payment(
                amount=session["amount_total"],
                currency=session["currency"],
                customer=customer_id,
                metadata=plan.payment_intent_data.get("metadata", {}),
                description=plan.payment_intent_data.get("description"),
                invoice=None,
                state=state,
                email=email,
                name=name,
            )
            session["payment_intent"] = payment_intent["id"]
            if paid:
                self._emit(out, "charge.succeeded", charge, extra=True)
                self._emit(out, "payment_intent.succeeded", payment_intent, extra=True)
            else:
                self._emit(out, "payment_intent.processing", payment_intent, extra=True)
            self._emit(out, "checkout.session.completed", session)
            return out
        assert customer_id is not None
        subscription = self._new_subscription(plan, customer_id)
        self._emit(out, "customer.subscription.created", subscription, extra=True)
        invoice = self._new_invoice(
            subscription,
            plan.items,
            "subscription_create",
            state=state,
            email=email,
            name=name,
            out=out,
        )
        session.update(subscription=subscription["id"], invoice=invoice["id"])
        self._emit(out, "checkout.session.completed", session)
        if paid:
            self._emit(out, "invoice.paid", invoice)
            self._emit(out, "invoice.payment_succeeded", invoice, extra=True)
        return out

    def _new_subscription(self, plan: _Plan, customer_id: str) -> Json:
        """Store an active subscription for the session's recurring prices."""
        now = self.now()
        recurring = [item for item in plan.items if item.recurring]
        period = cast(Json, recurring[0].recurring)
        end = _add_interval(now, period["interval"], period["interval_count"])
        sub_id = _new_id("sub")
        items = [
            {
                "id": _new_id("si", 14),
                "object": "subscription_item",
                "created": now,
                "current_period_end": end,
                "current_period_start": now,
                "discounts": [],
                "metadata": {},
                "price": copy.deepcopy(item.price),
                "quantity": item.quantity,
                "subscription": sub_id,
                "tax_rates": [],
            }
            for item in recurring
        ]
        data = plan.subscription_data
        subscription: Json = {
            "id": sub_id,
            "object": "subscription",
            "application": None,
            "billing_cycle_anchor": now,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically",
            "created": now,
            "currency": recurring[0].price["currency"],
            "current_period_end": end,
            "current_period_start": now,
            "customer": customer_id,
            "days_until_due": None,
            "default_payment_method": _new_id("pm"),
            "description": data.get("description"),
            "discounts": [],
            "ended_at": None,
            "items": {
                "object": "list",
                "data": items,
                "has_more": False,
                "total_count": len(items),
                "url": f"/v1/subscription_items?subscription={sub_id}",
            },
            "latest_invoice": None,
            "livemode": False,
            "metadata": dict(data.get("metadata", {})),
            "start_date": now,
            "status": "active",
            "trial_end": None,
            "trial_start": None,
        }
        self.subscriptions[sub_id] = subscription
        self._periods[sub_id] = 1
        return subscription

    def _new_invoice(
        self,
        subscription: Json,
        items: list[_Item],
        billing_reason: str,
        *,
        state: Literal["succeeded", "processing", "failed"],
        email: str | None,
        name: str | None,
        out: list[Json],
    ) -> Json:
        """Store a finalized subscription invoice with its payment."""
        now = self.now()
        customer = self.customers[subscription["customer"]]
        invoice_id = _new_id("in")
        first_item = subscription["items"]["data"][0]
        period_start = first_item["current_period_start"]
        period_end = first_item["current_period_end"]
        total = sum(item.amount for item in items)
        currency = subscription["currency"]
        creating = billing_reason == "subscription_create"
        description = "Subscription creation" if creating else "Subscription update"
        payment_intent, charge = self._new_payment(
            amount=total,
            currency=currency,
            customer=customer["id"],
            metadata={},
            description=description,
            invoice=invoice_id,
            state=state,
            email=email or customer["email"],
            name=name or customer["name"],
        )
        lines = [self._invoice_line(invoice_id, subscription, item) for item in items]
        count = sum(1 for other in self.invoices.values() if other["customer"] == customer["id"])
        metadata = dict(subscription["metadata"])
        paid = state == "succeeded"
        invoice: Json = {
            "id": invoice_id,
            "object": "invoice",
            "account_country": "US",
            "account_name": "FakeStripe Test Account",
            "amount_due": total,
            "amount_overpaid": 0,
            "amount_paid": total if paid else 0,
            "amount_remaining": 0 if paid else total,
            "amount_shipping": 0,
            "attempt_count": 1,
            "attempted": True,
            "auto_advance": not paid,
            "billing_reason": billing_reason,
            "charge": charge["id"],
            "collection_method": "charge_automatically",
            "created": now,
            "currency": currency,
            "customer": customer["id"],
            "customer_email": customer["email"],
            "customer_name": customer["name"],
            "description": None,
            "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_fake/test_{_rand(40)}",
            "invoice_pdf": f"https://pay.stripe.com/invoice/acct_fake/test_{_rand(40)}/pdf",
            "lines": {
                "object": "list",
                "data": lines,
                "has_more": False,
                "total_count": len(lines),
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": now + 3 * _DAY if state == "failed" else None,
            "number": f"{customer['invoice_prefix']}-{count + 1:04d}",
            "paid": paid,
            "parent": {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {
                    "metadata": metadata,
                    "subscription": subscription["id"],
                },
            },
            "payment_intent": payment_intent["id"],
            "period_end": period_end if billing_reason == "subscription_cycle" else now,
            "period_start": period_start if billing_reason == "subscription_cycle" else now,
            "status": "paid" if paid else "open",
            "status_transitions": {
                "finalized_at": now,
                "marked_uncollectible_at": None,
                "paid_at": now if paid else None,
                "voided_at": None,
            },
            "subscription": subscription["id"],
            "subscription_details": {"metadata": metadata},
            "subtotal": total,
            "total": total,
        }
        invoice_payment: Json = {
            "id": _new_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": total if paid else None,
            "amount_requested": total,
            "created": now,
            "currency": currency,
            "invoice": invoice_id,
            "is_default": True,
            "livemode": False,
            "payment": {"type": "payment_intent", "payment_intent": payment_intent["id"]},
            "status": "paid" if paid else "open",
            "status_transitions": {"canceled_at": None, "paid_at": now if paid else None},
        }
        self.invoices[invoice_id] = invoice
        self.invoice_payments[invoice_payment["id"]] = invoice_payment
        subscription["latest_invoice"] = invoice_id
        self._emit(out, "invoice.created", invoice, extra=True)
        self._emit(out, "invoice.finalized", invoice, extra=True)
        if paid:
            self._emit(out, "charge.succeeded", charge, extra=True)
            self._emit(out, "payment_intent.succeeded", payment_intent, extra=True)
        elif state == "failed":
            self._emit(out, "charge.failed", charge, extra=True)
            self._emit(out, "payment_intent.payment_failed", payment_intent, extra=True)
        return invoice

    def _invoice_line(self, invoice_id: str, subscription: Json, item: _Item) -> Json:
        """One invoice line; subscription lines carry the subscription's metadata."""
        recurring = item.recurring
        sub_item = next(
            (
                candidate
                for candidate in subscription["items"]["data"]
                if candidate["price"]["id"] == item.price["id"]
            ),
            None,
        )
        money = _format_money(int(item.price["unit_amount"]), str(item.price["currency"]))
        if recurring is not None and sub_item is not None:
            description = (
                f"{item.quantity} \u00d7 {item.name} (at {money} / {recurring['interval']})"
            )
            period = {
                "start": sub_item["current_period_start"],
                "end": sub_item["current_period_end"],
            }
            parent: Json = {
                "type": "subscription_item_details",
                "invoice_item_details": None,
                "subscription_item_details": {
                    "invoice_item": None,
                    "proration": False,
                    "proration_details": {"credited_items": None},
                    "subscription": subscription["id"],
                    "subscription_item": sub_item["id"],
                },
            }
            metadata = dict(subscription["metadata"])
        else:
            description = item.name
            now = self.now()
            period = {"start": now, "end": now}
            parent = {
                "type": "invoice_item_details",
                "invoice_item_details": {
                    "invoice_item": _new_id("ii"),
                    "proration": False,
                    "proration_details": {"credited_items": None},
                    "subscription": subscription["id"],
                },
                "subscription_item_details": None,
            }
            metadata = {}
        return {
            "id": _new_id("il"),
            "object": "line_item",
            "amount": item.amount,
            "currency": item.price["currency"],
            "description": description,
            "discount_amounts": [],
            "discountable": True,
            "discounts": [],
            "invoice": invoice_id,
            "livemode": False,
            "metadata": metadata,
            "parent": parent,
            "period": period,
            "pretax_credit_amounts": [],
            "price": copy.deepcopy(item.price),
            "pricing": {
                "type": "price_details",
                "price_details": {"price": item.price["id"], "product": item.price["product"]},
                "unit_amount_decimal": str(item.price["unit_amount"]),
            },
            "proration": False,
            "quantity": item.quantity,
            "subscription": subscription["id"],
            "subscription_item": sub_item["id"] if sub_item else None,
            "taxes": [],
            "type": "subscription" if sub_item else "invoiceitem",
        }

    def _mark_invoice_paid(self, invoice: Json) -> None:
        """Record that an open invoice's payment cleared."""
        now = self.now()
        invoice.update(
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            paid=True,
            status="paid",
            auto_advance=False,
            next_payment_attempt=None,
        )
        invoice["status_transitions"]["paid_at"] = now
        for payment in self.invoice_payments.values():
            if payment["invoice"] == invoice["id"]:
                payment.update(status="paid", amount_paid=payment["amount_requested"])
                payment["status_transitions"]["paid_at"] = now
        subscription = self.subscriptions[invoice["subscription"]]
        if subscription["status"] == "past_due":
            subscription["status"] = "active"

    def _renew(self, subscription: Json, *, paid: bool, out: list[Json]) -> None:
        """Start the next period and bill it."""
        period_index = self._periods[subscription["id"]]
        anchor = subscription["billing_cycle_anchor"]
        items = subscription["items"]["data"]
        recurring = items[0]["price"]["recurring"]
        start = _add_interval(
            anchor, recurring["interval"], recurring["interval_count"] * period_index
        )
        end = _add_interval(
            anchor, recurring["interval"], recurring["interval_count"] * (period_index + 1)
        )
        self._periods[subscription["id"]] = period_index + 1
        previous: Json = {
            "current_period_start": subscription["current_period_start"],
            "current_period_end": subscription["current_period_end"],
            "latest_invoice": subscription["latest_invoice"],
        }
        for item in items:
            item.update(current_period_start=start, current_period_end=end)
        subscription.update(current_period_start=start, current_period_end=end)
        plan_items = [
            _Item(
                price=item["price"],
                name=str(self.products[item["price"]["product"]]["name"]),
                quantity=item["quantity"],
            )
            for item in items
        ]
        invoice = self._new_invoice(
            subscription,
            plan_items,
            "subscription_cycle",
            state="succeeded" if paid else "failed",
            email=None,
            name=None,
            out=out,
        )
        if paid:
            if subscription["status"] == "past_due":
                # A paid renewal clears an earlier failed one, as Stripe's dunning does.
                previous["status"] = "past_due"
                subscription["status"] = "active"
            self._emit(
                out, "customer.subscription.updated", subscription, extra=True, previous=previous
            )
            self._emit(out, "invoice.paid", invoice)
            self._emit(out, "invoice.payment_succeeded", invoice, extra=True)
            return
        self._emit(out, "invoice.payment_failed", invoice)
        previous["status"] = subscription["status"]
        subscription["status"] = "past_due"
        self._emit(out, "customer.subscription.updated", subscription, previous=previous)

    def _end_subscription(
        self, subscription: Json, reason: str, out: list[Json], call: _Call | None = None
    ) -> None:
        """Cancel now and announce customer.subscription.deleted."""
        now = self.now()
        subscription.update(
            status="canceled",
            canceled_at=subscription["canceled_at"] or now,
            ended_at=now,
        )
        subscription["cancellation_details"]["reason"] = reason
        self._emit(out, "customer.subscription.deleted", subscription, call=call)

    def _expire(self, session: Json, out: list[Json], call: _Call | None = None) -> None:
        """Expire an open session."""
        session.update(status="expired", url=None)
        self._emit(out, "checkout.session.expired", session, call=call)

    def _refund_charge(
        self,
        charge: Json,
        amount: int | None,
        reason: str | None,
        metadata: Json,
        out: list[Json],
        call: _Call | None = None,
    ) -> Json:
        """Refund a charge; amount_refunded is cumulative, refunded only when fully refunded."""
        if not charge["paid"]:
            raise _bad(
                "This PaymentIntent does not have a successful charge to refund.",
                "payment_intent",
            )
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining == 0:
            raise _bad(
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        refunded = remaining if amount is None else amount
        if refunded <= 0:
            raise _bad("Refund amount must be positive.", "amount")
        if refunded > remaining:
            raise _bad(
                f"Refund amount ({_format_money(refunded, charge['currency'])}) is greater than "
                f"unrefunded amount on charge ({_format_money(remaining, charge['currency'])})",
                "amount",
                "amount_too_large",
            )
        refund: Json = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": refunded,
            "balance_transaction": _new_id("txn"),
            "charge": charge["id"],
            "created": self.now(),
            "currency": charge["currency"],
            "metadata": dict(metadata),
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        previous: Json = {"amount_refunded": charge["amount_refunded"]}
        charge["amount_refunded"] += refunded
        if charge["amount_refunded"] == charge["amount"]:
            previous["refunded"] = False
            charge["refunded"] = True
        self._emit(out, "refund.created", refund, extra=True, call=call)
        self._emit(out, "charge.refunded", charge, previous=previous, call=call)
        return refund

    # --- lookups for the Stripe-side helpers ---

    def _open_session(self, session_id: str) -> Json:
        """An open session, or ValueError: Stripe cannot complete an expired/complete one."""
        session = self.sessions.get(session_id)
        if session is None:
            raise ValueError(f"no checkout session {session_id}")
        if session["status"] != "open":
            raise ValueError(f"checkout session {session_id} is {session['status']}, not open")
        return session

    def _delayed_session(self, session_id: str) -> tuple[Json, _Plan]:
        """A session completed with a delayed method whose payment is still processing."""
        session = self.sessions.get(session_id)
        plan = self._plans.get(session_id)
        if session is None or plan is None:
            raise ValueError(f"no checkout session {session_id}")
        if not plan.delayed:
            raise ValueError(f"checkout session {session_id} has no payment pending")
        return session, plan

    def _session_payment_intent(self, session: Json) -> str:
        """The PaymentIntent that pays for a session (directly or via its first invoice)."""
        if session["mode"] == "payment":
            return str(session["payment_intent"])
        return str(self.invoices[session["invoice"]]["payment_intent"])

    def _live_subscription(self, subscription_id: str) -> Json:
        """A subscription that has not ended, or ValueError."""
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None:
            raise ValueError(f"no subscription {subscription_id}")
        if subscription["status"] in ("canceled", "incomplete_expired"):
            raise ValueError(f"subscription {subscription_id} is {subscription['status']}")
        return subscription

    def _charge_of(self, payment_intent_id: str) -> Json:
        """The latest charge of a PaymentIntent."""
        payment_intent = self.payment_intents.get(payment_intent_id)
        if payment_intent is None:
            raise ValueError(f"no payment intent {payment_intent_id}")
        return self.charges[payment_intent["latest_charge"]]

    def _lookup(self, object_id: str) -> Json | None:
        """Find any stored object by its id prefix."""
        store = self._prefixes.get(object_id.rsplit("_", 1)[0].split("_", 1)[0])
        return None if store is None else store.get(object_id)

    # --- HTTP ---

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        """Method, full-match path pattern and handler for every endpoint served."""
        collections = [
            _Collection(
                "checkout/sessions", "checkout.session", self.sessions,
                checkout_params.SessionRetrieveParams, checkout_params.SessionListParams,
                frozenset({"customer", "customer_details", "payment_intent", "payment_link",
                           "status", "subscription"}),
            ),
            _Collection(
                "subscriptions", "subscription", self.subscriptions,
                SubscriptionRetrieveParams, SubscriptionListParams,
                frozenset({"customer", "status", "collection_method"}),
            ),
            _Collection(
                "invoices", "invoice", self.invoices, InvoiceRetrieveParams, InvoiceListParams,
                frozenset({"customer", "status", "subscription", "collection_method"}),
            ),
            _Collection(
                "invoice_payments", "invoice_payment", self.invoice_payments,
                InvoicePaymentRetrieveParams, InvoicePaymentListParams,
                frozenset({"invoice", "payment", "status"}),
            ),
            _Collection(
                "charges", "charge", self.charges, ChargeRetrieveParams, ChargeListParams,
                frozenset({"customer", "payment_intent"}),
            ),
            _Collection(
                "payment_intents", "payment_intent", self.payment_intents,
                PaymentIntentRetrieveParams, PaymentIntentListParams, frozenset({"customer"}),
            ),
            _Collection(
                "customers", "customer", self.customers, CustomerRetrieveParams,
                CustomerListParams, frozenset({"email"}),
            ),
            _Collection(
                "refunds", "refund", self.refunds, RefundRetrieveParams, RefundListParams,
                frozenset({"charge", "payment_intent"}),
            ),
            _Collection(
                "disputes", "dispute", self.disputes, DisputeRetrieveParams, DisputeListParams,
                frozenset({"charge", "payment_intent"}),
            ),
            _Collection(
                "events", "event", self.events, EventRetrieveParams, EventListParams,
                frozenset({"type", "types"}),
            ),
            _Collection("prices", "price", self.prices, PriceRetrieveParams, None, frozenset()),
            _Collection(
                "products", "product", self.products, ProductRetrieveParams, None, frozenset()
            ),
        ]  # fmt: skip
        routes: list[tuple[str, str, Handler]] = [
            ("POST", "/v1/checkout/sessions", self._create_session),
            ("POST", f"/v1/checkout/sessions/{_ID}/expire", self._expire_session_api),
            ("GET", f"/v1/checkout/sessions/{_ID}/line_items", self._session_line_items),
            ("POST", f"/v1/subscriptions/{_ID}", self._update_subscription),
            ("DELETE", f"/v1/subscriptions/{_ID}", self._cancel_subscription_api),
            ("POST", "/v1/refunds", self._create_refund),
            ("POST", "/v1/billing_portal/sessions", self._create_portal_session),
            ("GET", "/v1/account", self._account),
        ]
        for collection in collections:
            if collection.list_params is not None:
                routes.append(
                    ("GET", f"/v1/{collection.path}", functools.partial(self._list, collection))
                )
            routes.append(
                (
                    "GET",
                    f"/v1/{collection.path}/{_ID}",
                    functools.partial(self._retrieve, collection),
                )
            )
        return [(method, re.compile(pattern), handler) for method, pattern, handler in routes]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        """Entry point for every HTTP request."""
        if not request.path.startswith("/v1/"):
            return await self._hosted_page(request)
        # yarl's query_string is already percent-decoded, which would break "&" inside values.
        query = request.rel_url.raw_query_string
        raw = await request.text() if request.method == "POST" else query
        params = decode_form(parse_qsl(raw, keep_blank_values=True))
        record = StripeRequest(
            method=request.method,
            path=request.path,
            params=params,
            idempotency_key=request.headers.get("Idempotency-Key"),
            at=time.time(),
            stripe_version=request.headers.get("Stripe-Version"),
            api_key=_api_key_of(request.headers.get("Authorization")),
        )
        self.requests.append(record)
        request_id = _new_id("req", 14)
        status, body, headers = self._handle(record, params, request_id)
        record.status = status
        headers["Request-Id"] = request_id
        headers["Stripe-Version"] = record.stripe_version or self.api_version
        if record.method == "POST" and record.idempotency_key:
            headers["Idempotency-Key"] = record.idempotency_key
        return web.json_response(body, status=status, headers=headers)

    def _handle(
        self, record: StripeRequest, params: Json, request_id: str
    ) -> tuple[int, Json, dict[str, str]]:
        """Outage, auth, idempotency and routing, in the order Stripe's edge applies them."""
        failure = next(
            (
                item
                for item in self._failures
                if item.remaining > 0 and record.path.startswith(item.path_prefix)
            ),
            None,
        )
        if failure is not None:
            failure.remaining -= 1
            self._failures = [item for item in self._failures if item.remaining > 0]
            kind = "api_error" if failure.status >= 500 else "invalid_request_error"
            code = {409: "lock_timeout", 429: "rate_limit"}.get(failure.status)
            error = _ApiError(failure.status, failure.message, kind=kind, code=code)
            headers: dict[str, str] = {}
            if failure.should_retry is not None:
                headers["Stripe-Should-Retry"] = "true" if failure.should_retry else "false"
            return failure.status, error.body(), headers
        if record.api_key is None:
            error = _ApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            )
            return 401, error.body(), {}
        if record.api_key != self.api_key:
            masked = record.api_key[:8] + "*" * max(0, len(record.api_key) - 12)
            masked += record.api_key[-4:]
            error = _ApiError(401, f"Invalid API Key provided: {masked}", code="api_key_invalid")
            return 401, error.body(), {}
        key = record.idempotency_key if record.method == "POST" else None
        if key is not None:
            stored = self._idempotency.get((record.api_key, key))
            if stored is not None:
                return self._replay(record, stored, key)
        try:
            body = self._route(record, params, request_id)
        except _ApiError as error:
            return error.status, error.body(), {}
        except Exception as error:
            # A bug in the fake must show up in the test, not pass as a Stripe outage.
            self.internal_errors.append(error)
            failure_body = _ApiError(500, f"FakeStripe bug: {error!r}", kind="api_error").body()
            # Deterministic bugs should not be retried by the SDK.
            return 500, failure_body, {"Stripe-Should-Retry": "false"}
        if key is not None:
            self._idempotency[(record.api_key, key)] = _Stored(
                record.method, record.path, params, copy.deepcopy(body), request_id
            )
        return 200, body, {}

    def _replay(
        self, record: StripeRequest, stored: _Stored, key: str
    ) -> tuple[int, Json, dict[str, str]]:
        """Stripe's idempotency: same request replays, anything else is an idempotency_error."""
        if (stored.method, stored.path) != (record.method, record.path):
            message = (
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{stored.method} {stored.path}' vs "
                f"'{record.method} {record.path}'). Try using a key other than '{key}' if you "
                "meant to execute a different request."
            )
        elif stored.params != record.params:
            message = (
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request."
            )
        else:
            record.replayed = True
            headers = {"Idempotent-Replayed": "true", "Original-Request": stored.request_id}
            return 200, copy.deepcopy(stored.body), headers
        error = _ApiError(400, message, kind="idempotency_error")
        return 400, error.body(), {}

    def _route(self, record: StripeRequest, params: Json, request_id: str) -> Json:
        """Find and run the handler for a path."""
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(record.path)
            if match is not None and method == record.method:
                return handler(_Call(record, params, match, request_id))
        raise _ApiError(
            404,
            f"Unrecognized request URL ({record.method}: {record.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        )

    # --- generic retrieve / list / expand ---

    def _retrieve(self, collection: _Collection, call: _Call) -> Json:
        """GET /v1/<things>/<id>."""
        params = _validate(call.params, collection.retrieve_params)
        obj = collection.store.get(call.id)
        if obj is None:
            raise _no_such(collection.name, call.id, "id", 404)
        return self._render(obj, params.get("expand", []))

    def _account(self, call: _Call) -> Json:
        """GET /v1/account: the account the key belongs to (used by the bot's start-up check)."""
        return {
            "id": "acct_fake_campaign", "object": "account", "charges_enabled": True,
            "payouts_enabled": True, "country": "FR", "default_currency": "eur",
            "settings": {"dashboard": {"display_name": "FakeStripe Test Account"}},
        }

    def _list(self, collection: _Collection, call: _Call) -> Json:
        """GET /v1/<things> with filters and cursor pagination, newest first."""
        params = _validate(call.params, collection.list_params)
        filters = {key: value for key, value in params.items() if key not in _PAGING}
        for key in filters:
            if key not in collection.filters:
                raise _unsupported(f"the `{key}` filter on /v1/{collection.path}")
        created = params.get("created")
        is_subscriptions = collection.store is self.subscriptions

        def keep(obj: Json) -> bool:
            """Whether obj passes every filter."""
            if not _created_matches(obj["created"], created):
                return False
            for key, wanted in filters.items():
                if key == "type":
                    if not fnmatch.fnmatchcase(obj["type"], wanted):
                        return False
                elif key == "types":
                    if obj["type"] not in wanted:
                        return False
                elif key == "status" and is_subscriptions:
                    if not _subscription_status_matches(obj["status"], wanted):
                        return False
                elif not _value_matches(obj.get(key), wanted):
                    return False
            if is_subscriptions and "status" not in filters:
                # Stripe hides canceled subscriptions unless status is given.
                return obj["status"] not in ("canceled", "incomplete_expired")
            return True

        ordered = list(reversed(collection.store.values()))
        return self._page(ordered, params, f"/v1/{collection.path}", keep)

    def _page(
        self, ordered: list[Json], params: Json, url: str, keep: Callable[[Json], bool]
    ) -> Json:
        """One page of a list object, honouring limit/starting_after/ending_before."""
        limit = params.get("limit", 10)
        if not 1 <= limit <= 100:
            raise _bad("Invalid limit: must be between 1 and 100", "limit")
        if "starting_after" in params and "ending_before" in params:
            raise _bad(
                "You may only specify one of these parameters: ending_before, starting_after."
            )
        ids = [obj["id"] for obj in ordered]
        cursor_param = "starting_after" if "starting_after" in params else "ending_before"
        cursor = params.get(cursor_param)
        if cursor is not None and cursor not in ids:
            raise _no_such("object", cursor, cursor_param)
        if cursor is None:
            matched = [obj for obj in ordered if keep(obj)]
            page = matched[:limit]
        elif cursor_param == "starting_after":
            matched = [obj for obj in ordered[ids.index(cursor) + 1 :] if keep(obj)]
            page = matched[:limit]
        else:
            matched = [obj for obj in ordered[: ids.index(cursor)] if keep(obj)]
            page = matched[-limit:]
        expand = []
        for path in params.get("expand", []):
            if not path.startswith("data."):
                raise _bad(f"This property cannot be expanded ({path}).", "expand")
            expand.append(path.removeprefix("data."))
        return {
            "object": "list",
            "data": [self._render(obj, expand) for obj in page],
            "has_more": len(matched) > len(page),
            "url": url,
        }

    def _render(self, obj: Json, expand: list[str]) -> Json:
        """The public form of a stored object with the requested expansions."""
        out = self._public(obj)
        for path in expand:
            parts = path.split(".")
            if len(parts) > 4:
                raise _bad("You cannot expand more than 4 levels of a property.", "expand")
            self._expand(out, parts, path)
        return out

    def _expand(self, target: Json, parts: list[str], full: str) -> None:
        """Replace an id (or an includable field) at parts with the object it names."""
        head, rest = parts[0], parts[1:]
        included = self._includable(target, head)
        value = target.get(head)
        if included is not None:
            target[head] = included
        elif isinstance(value, str) and (found := self._lookup(value)) is not None:
            target[head] = self._public(found)
        elif value is None and head in target:
            return
        elif not isinstance(value, dict):
            raise _bad(f"This property cannot be expanded ({full}).", "expand")
        if not rest:
            return
        nested = target[head]
        if rest[0] == "data" and nested.get("object") == "list":
            for item in nested["data"]:
                if rest[1:]:
                    self._expand(item, rest[1:], full)
            return
        self._expand(nested, rest, full)

    def _includable(self, target: Json, field: str) -> Json | None:
        """Fields Stripe only returns when expanded: session line_items, invoice payments."""
        kind = target.get("object")
        if kind == "checkout.session" and field == "line_items":
            items = self._plans[target["id"]].line_items
            return {
                "object": "list",
                "data": copy.deepcopy(items[:10]),
                "has_more": len(items) > 10,
                "url": f"/v1/checkout/sessions/{target['id']}/line_items",
            }
        if kind == "invoice" and field == "payments":
            payments = [
                self._public(payment)
                for payment in self.invoice_payments.values()
                if payment["invoice"] == target["id"]
            ]
            return {
                "object": "list",
                "data": payments,
                "has_more": False,
                "url": f"/v1/invoice_payments?invoice={target['id']}",
            }
        return None

    # --- endpoint handlers ---

    def _create_session(self, call: _Call) -> Json:
        """POST /v1/checkout/sessions."""
        params = _validate(call.params, checkout_params.SessionCreateParams)
        mode = params.get("mode")
        if mode is None:
            raise _missing_param("mode")
        if mode not in ("payment", "subscription"):
            raise _unsupported(f"Checkout in {mode} mode")
        if params.get("ui_mode", "hosted_page") != "hosted_page":
            raise _unsupported(f"ui_mode={params['ui_mode']}")
        for name in ("discounts", "optional_items", "shipping_options"):
            if name in params:
                raise _unsupported(f"`{name}` (it changes what is charged)")
        if params.get("automatic_tax", {}).get("enabled"):
            raise _unsupported("automatic tax")
        if "success_url" not in params:
            raise _missing_param("success_url")
        _check_url(params["success_url"], "success_url")
        if "cancel_url" in params:
            _check_url(params["cancel_url"], "cancel_url")
        if "submit_type" in params and mode != "payment":
            raise _bad("`submit_type` can only be used in `payment` mode.", "submit_type")
        if "subscription_data" in params and mode != "subscription":
            raise _bad(
                f"You can not pass `subscription_data` in `{mode}` mode.", "subscription_data"
            )
        if "payment_intent_data" in params and mode != "payment":
            raise _bad(
                f"You can not pass `payment_intent_data` in `{mode}` mode.", "payment_intent_data"
            )
        if "customer_creation" in params and mode != "payment":
            raise _bad(
                "`customer_creation` can only be used in `payment` and `setup` mode.",
                "customer_creation",
            )
        subscription_data = params.get("subscription_data", {})
        for name in ("trial_period_days", "trial_end", "billing_cycle_anchor"):
            if name in subscription_data:
                raise _unsupported(f"subscription_data[{name}]")
        customer = params.get("customer")
        email = params.get("customer_email")
        if customer is not None and email is not None:
            raise _bad("You may only specify one of these parameters: customer, customer_email.")
        if customer is not None and customer not in self.customers:
            raise _no_such("customer", customer, "customer")
        if email is not None and not _EMAIL.fullmatch(email):
            raise _bad(f"Invalid email address: {email}", "customer_email", "email_invalid")
        reference = params.get("client_reference_id")
        if reference is not None and len(reference) > 200:
            raise _bad("client_reference_id must be at most 200 characters", "client_reference_id")
        now = self.now()
        expires_at = params.get("expires_at", now + _DAY)
        # A few seconds of slack: the caller computed "now + 30 min" before sending.
        if not now + 1800 - 10 <= expires_at <= now + _DAY:
            raise _bad(
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                "Checkout Session creation.",
                "expires_at",
            )
        items, new_objects = self._session_items(params.get("line_items"), mode)
        currency = str(items[0].price["currency"])
        total = sum(item.amount for item in items)
        minimum = _MINIMUM_CHARGE.get(currency, 0)
        if total < max(minimum, 1):
            raise _bad(
                "The Checkout Session's total amount due must add up to at least "
                f"{_format_money(max(minimum, 1), currency)}",
                "line_items",
                "amount_too_small",
            )
        if total > _MAX_AMOUNT:
            raise _bad(
                f"The Checkout Session's total amount due must be no more than "
                f"{_format_money(_MAX_AMOUNT, currency)}",
                "line_items",
                "amount_too_large",
            )
        for obj in new_objects:
            self._prefixes[obj["id"].split("_", 1)[0]][obj["id"]] = obj
        session_id = f"cs_test_{_rand(58)}"
        metadata = {key: value for key, value in params.get("metadata", {}).items() if value}
        session: Json = {
            "id": session_id,
            "object": "checkout.session",
            "after_expiration": None,
            "allow_promotion_codes": params.get("allow_promotion_codes"),
            "amount_subtotal": total,
            "amount_total": total,
            "billing_address_collection": params.get("billing_address_collection"),
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": reference,
            "client_secret": None,
            "created": now,
            "currency": currency,
            "customer": customer,
            "customer_creation": (
                params.get("customer_creation", "if_required") if mode == "payment" else None
            ),
            "customer_details": None,
            "customer_email": email,
            "expires_at": expires_at,
            "invoice": None,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": metadata,
            "mode": mode,
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "always" if mode == "subscription" else "if_required",
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "setup_intent": None,
            "status": "open",
            "submit_type": params.get("submit_type"),
            "subscription": None,
            "success_url": params["success_url"],
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted_page",
            "url": f"{self.url}/pay/{session_id}",
        }
        line_items = [
            {
                "id": _new_id("li"),
                "object": "item",
                "adjustable_quantity": None,
                "amount_discount": 0,
                "amount_subtotal": item.amount,
                "amount_tax": 0,
                "amount_total": item.amount,
                "currency": item.price["currency"],
                "description": item.name,
                "price": copy.deepcopy(item.price),
                "quantity": item.quantity,
            }
            for item in items
        ]
        payment_intent_data = dict(params.get("payment_intent_data", {}))
        payment_intent_data["metadata"] = {
            key: value for key, value in payment_intent_data.get("metadata", {}).items() if value
        }
        subscription_data = dict(subscription_data)
        subscription_data["metadata"] = {
            key: value for key, value in subscription_data.get("metadata", {}).items() if value
        }
        self.sessions[session_id] = session
        self._plans[session_id] = _Plan(
            items=items,
            line_items=line_items,
            payment_intent_data=payment_intent_data,
            subscription_data=subscription_data,
            customer_creation=session["customer_creation"],
        )
        return self._render(session, params.get("expand", []))

    def _session_items(self, raw: Any, mode: str) -> tuple[list[_Item], list[Json]]:
        """Validate line_items; return them and the prices/products to store on success."""
        if not raw:
            raise _bad(f"`line_items` is required in `{mode}` mode.", "line_items")
        items: list[_Item] = []
        new_objects: list[Json] = []
        for index, line in enumerate(raw):
            path = f"line_items[{index}]"
            if "price" in line and "price_data" in line:
                raise _bad(
                    "You may only specify one of these parameters: price, price_data.", path
                )
            if "price" in line:
                price = self.prices.get(line["price"])
                if price is None:
                    raise _no_such("price", line["price"], f"{path}[price]")
                name = str(self.products[price["product"]]["name"])
            elif "price_data" in line:
                price, name, product = self._price_from_data(
                    line["price_data"], f"{path}[price_data]"
                )
                new_objects.append(price)
                if product is not None:
                    new_objects.append(product)
            else:
                raise _bad(
                    "You must specify either `price` or `price_data` in each line item.", path
                )
            if "quantity" not in line:
                raise _missing_param(f"{path}[quantity]")
            if line["quantity"] < 1:
                raise _bad("Quantity must be greater than 0.", f"{path}[quantity]")
            if price["recurring"] is not None and mode == "payment":
                raise _bad(
                    "You specified `payment` mode but passed a recurring price. Either switch "
                    "to `subscription` mode or use only one-time prices.",
                    f"{path}[price_data][recurring]",
                )
            items.append(_Item(price=price, name=name, quantity=line["quantity"]))
        if len({item.price["currency"] for item in items}) > 1:
            raise _bad("All line items must use the same currency.", "line_items")
        periods = {
            (item.price["recurring"]["interval"], item.price["recurring"]["interval_count"])
            for item in items
            if item.price["recurring"] is not None
        }
        if mode == "subscription" and not periods:
            raise _bad(
                "You must provide at least one recurring price in `subscription` mode when "
                "using prices.",
                "line_items",
            )
        if len(periods) > 1:
            raise _bad(
                "Checkout does not support multiple prices with different billing intervals.",
                "line_items",
            )
        return items, new_objects

    def _price_from_data(self, data: Json, path: str) -> tuple[Json, str, Json | None]:
        """An inline price (and product) from price_data, not yet stored."""
        currency = str(data["currency"]).lower()
        if not _CURRENCY.fullmatch(currency):
            raise _bad(f"Invalid currency: {data['currency']}", f"{path}[currency]")
        if "unit_amount" in data and "unit_amount_decimal" in data:
            raise _bad(
                "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
                path,
            )
        if "unit_amount" in data:
            amount = int(data["unit_amount"])
        elif "unit_amount_decimal" in data:
            decimal_amount = Decimal(data["unit_amount_decimal"])
            if decimal_amount != decimal_amount.to_integral_value():
                raise _unsupported("fractional unit_amount_decimal")
            amount = int(decimal_amount)
        else:
            raise _missing_param(f"{path}[unit_amount]")
        if amount < 0:
            raise _bad("This value must be greater than or equal to 0.", f"{path}[unit_amount]")
        if amount > _MAX_AMOUNT:
            raise _bad(
                f"This value must be less than or equal to {_MAX_AMOUNT}.", f"{path}[unit_amount]"
            )
        product: Json | None = None
        if "product" in data and "product_data" in data:
            raise _bad(
                "You may only specify one of these parameters: product, product_data.", path
            )
        if "product" in data:
            existing = self.products.get(data["product"])
            if existing is None:
                raise _no_such("product", data["product"], f"{path}[product]")
            product_id, name = str(existing["id"]), str(existing["name"])
        elif "product_data" in data:
            product_data = data["product_data"]
            product = {
                "id": _new_id("prod", 14),
                "object": "product",
                "active": False,
                "created": self.now(),
                "description": product_data.get("description"),
                "images": product_data.get("images", []),
                "livemode": False,
                "metadata": product_data.get("metadata", {}),
                "name": product_data["name"],
                "type": "service",
                "unit_label": product_data.get("unit_label"),
            }
            product_id, name = product["id"], str(product_data["name"])
        else:
            raise _bad(
                "You must specify either `product` or `product_data` when creating a price.", path
            )
        recurring: Json | None = None
        if "recurring" in data:
            interval = data["recurring"]["interval"]
            count = data["recurring"].get("interval_count", 1)
            if not 1 <= count <= _MAX_INTERVAL_COUNT[interval]:
                raise _bad(
                    "Invalid interval_count: maximum of one year interval allowed (1 year, "
                    "12 months, or 52 weeks).",
                    f"{path}[recurring][interval_count]",
                )
            recurring = {
                "interval": interval,
                "interval_count": count,
                "meter": None,
                "trial_period_days": None,
                "usage_type": "licensed",
            }
        price: Json = {
            "id": _new_id("price"),
            "object": "price",
            "active": False,
            "billing_scheme": "per_unit",
            "created": self.now(),
            "currency": currency,
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": product_id,
            "recurring": recurring,
            "tax_behavior": data.get("tax_behavior", "unspecified"),
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "one_time" if recurring is None else "recurring",
            "unit_amount": amount,
            "unit_amount_decimal": str(amount),
        }
        return price, name, product

    def _expire_session_api(self, call: _Call) -> Json:
        """POST /v1/checkout/sessions/<id>/expire."""
        params = _validate(call.params, checkout_params.SessionExpireParams)
        session = self.sessions.get(call.id)
        if session is None:
            raise _no_such("checkout.session", call.id, "session", 404)
        if session["status"] != "open":
            raise _bad(
                'Only Checkout Sessions with a status in ["open"] can be expired. This '
                f'Checkout Session has a status of "{session["status"]}".'
            )
        self._expire(session, [], call)
        return self._render(session, params.get("expand", []))

    def _session_line_items(self, call: _Call) -> Json:
        """GET /v1/checkout/sessions/<id>/line_items."""
        params = _validate(call.params, checkout_params.SessionListLineItemsParams)
        plan = self._plans.get(call.id)
        if plan is None:
            raise _no_such("checkout.session", call.id, "session", 404)
        url = f"/v1/checkout/sessions/{call.id}/line_items"
        return self._page(plan.line_items, params, url, lambda _: True)

    def _update_subscription(self, call: _Call) -> Json:
        """POST /v1/subscriptions/<id>: cancel_at_period_end, metadata, description."""
        params = _validate(call.params, SubscriptionUpdateParams)
        subscription = self.subscriptions.get(call.id)
        if subscription is None:
            raise _no_such("subscription", call.id, "id", 404)
        handled = {"cancel_at_period_end", "metadata", "description", "cancellation_details"}
        for name in params:
            if name not in handled and name != "expand":
                raise _unsupported(f"updating `{name}` on a subscription")
        if subscription["status"] == "canceled" and set(params) - {
            "metadata",
            "cancellation_details",
            "expand",
        }:
            raise _bad(
                "A canceled subscription can only update its cancellation_details and metadata."
            )
        previous: Json = {}
        if "cancel_at_period_end" in params:
            flag = params["cancel_at_period_end"]
            if flag != subscription["cancel_at_period_end"]:
                previous.update(
                    cancel_at_period_end=subscription["cancel_at_period_end"],
                    cancel_at=subscription["cancel_at"],
                    canceled_at=subscription["canceled_at"],
                )
                subscription.update(
                    cancel_at_period_end=flag,
                    cancel_at=subscription["items"]["data"][0]["current_period_end"]
                    if flag
                    else None,
                    canceled_at=self.now() if flag else None,
                )
                subscription["cancellation_details"]["reason"] = (
                    "cancellation_requested" if flag else None
                )
        if "metadata" in params:
            previous["metadata"] = dict(subscription["metadata"])
            update = params["metadata"]
            if update == "":
                subscription["metadata"] = {}
            else:
                for key, value in update.items():
                    if value == "":
                        subscription["metadata"].pop(key, None)
                    else:
                        subscription["metadata"][key] = value
            if previous["metadata"] == subscription["metadata"]:
                del previous["metadata"]
        if "description" in params:
            previous["description"] = subscription["description"]
            subscription["description"] = params["description"] or None
        for key, value in params.get("cancellation_details", {}).items():
            subscription["cancellation_details"][key] = value or None
        if previous:
            self._emit(
                [], "customer.subscription.updated", subscription, previous=previous, call=call
            )
        return self._render(subscription, params.get("expand", []))

    def _cancel_subscription_api(self, call: _Call) -> Json:
        """DELETE /v1/subscriptions/<id>: cancel immediately."""
        params = _validate(call.params, SubscriptionCancelParams)
        subscription = self.subscriptions.get(call.id)
        if subscription is None:
            raise _no_such("subscription", call.id, "id", 404)
        if subscription["status"] in ("canceled", "incomplete_expired"):
            raise _bad(f"This subscription is already {subscription['status']}.")
        for key, value in params.get("cancellation_details", {}).items():
            subscription["cancellation_details"][key] = value or None
        self._end_subscription(subscription, "cancellation_requested", [], call)
        return self._render(subscription, params.get("expand", []))

    def _create_refund(self, call: _Call) -> Json:
        """POST /v1/refunds."""
        params = _validate(call.params, RefundCreateParams)
        if "payment_intent" in params:
            payment_intent = self.payment_intents.get(params["payment_intent"])
            if payment_intent is None:
                raise _no_such("payment_intent", params["payment_intent"], "payment_intent")
            charge = self.charges[payment_intent["latest_charge"]]
            if "charge" in params and params["charge"] != charge["id"]:
                raise _bad("The charge does not belong to the payment_intent.", "charge")
        elif "charge" in params:
            found = self.charges.get(params["charge"])
            if found is None:
                raise _no_such("charge", params["charge"], "charge")
            charge = found
        else:
            raise _bad("One of `charge` or `payment_intent` is required.")
        metadata = params.get("metadata") or {}
        refund = self._refund_charge(
            charge, params.get("amount"), params.get("reason"), metadata, [], call
        )
        return self._render(refund, params.get("expand", []))

    def _create_portal_session(self, call: _Call) -> Json:
        """POST /v1/billing_portal/sessions."""
        params = _validate(call.params, portal_params.SessionCreateParams)
        customer = params.get("customer")
        if customer is None:
            raise _missing_param("customer")
        if customer not in self.customers:
            raise _no_such("customer", customer, "customer")
        if "return_url" in params:
            _check_url(params["return_url"], "return_url")
        portal_id = _new_id("bps")
        portal: Json = {
            "id": portal_id,
            "object": "billing_portal.session",
            "configuration": "bpc_fakedefault",
            "created": self.now(),
            "customer": customer,
            "flow": None,
            "livemode": False,
            "locale": None,
            "on_behalf_of": None,
            "return_url": params.get("return_url"),
            "url": f"{self.url}/portal/{portal_id}",
        }
        self.portal_sessions[portal_id] = portal
        return self._render(portal, params.get("expand", []))

    # --- the hosted pages ---

    async def _hosted_page(self, request: web.Request) -> web.StreamResponse:
        """Tiny HTML stand-ins for the hosted Checkout and billing portal pages."""
        parts = request.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "pay" and parts[1] in self.sessions:
            if request.method == "POST":
                return await self._pay_action(request, parts[1])
            return web.Response(text=self._pay_html(parts[1]), content_type="text/html")
        if len(parts) == 2 and parts[0] == "portal" and parts[1] in self.portal_sessions:
            portal = self.portal_sessions[parts[1]]
            back = html.escape(str(portal["return_url"] or "/"))
            body = f"<p>Billing portal for {html.escape(portal['customer'])}</p>"
            body += f'<p><a href="{back}">Return</a></p>'
            return web.Response(text=_html_page("Billing portal", body), content_type="text/html")
        return web.Response(
            status=404, text=_html_page("Not found", "<p>Not found</p>"), content_type="text/html"
        )

    def _pay_html(self, session_id: str) -> str:
        """The Checkout page: what is being paid, and buttons when still open."""
        session = self.sessions[session_id]
        plan = self._plans[session_id]
        rows = "".join(
            f"<li>{item.quantity} \u00d7 {html.escape(item.name)}: "
            f"{_format_money(item.amount, session['currency'])}"
            + (f" / {item.recurring['interval']}" if item.recurring else "")
            + "</li>"
            for item in plan.items
        )
        body = f"<ul>{rows}</ul><p>Status: {html.escape(session['status'])}</p>"
        if session["status"] == "open":
            body += (
                f'<form method="post" action="/pay/{session_id}">'
                '<button name="action" value="pay">Pay</button> '
                '<button name="action" value="cancel">Cancel</button></form>'
            )
        return _html_page("FakeStripe Checkout", body)

    async def _pay_action(self, request: web.Request, session_id: str) -> web.StreamResponse:
        """A human clicked Pay or Cancel: play Stripe and redirect like Checkout does."""
        form = await request.post()
        session = self.sessions[session_id]
        if form.get("action") == "cancel" or session["status"] != "open":
            raise web.HTTPSeeOther(str(session["cancel_url"] or f"/pay/{session_id}"))
        events = self.complete_session(session_id)
        if self.webhook_url is not None:
            await self.deliver_all(events, self.webhook_url)
        raise web.HTTPSeeOther(self.redirect_url(session_id))


# --- small pure helpers ---


def _api_key_of(header: str | None) -> str | None:
    """The secret key from Bearer or Basic auth, as Stripe accepts both."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip()).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def _strip_legacy(value: Any) -> None:
    """Drop pre-basil fields from every nested object, by its ``object`` type."""
    if isinstance(value, dict):
        for name in _LEGACY_FIELDS.get(str(value.get("object")), ()):
            value.pop(name, None)
        for item in value.values():
            _strip_legacy(item)
    elif isinstance(value, list):
        for item in value:
            _strip_legacy(item)


def _created_matches(created: int, wanted: Any) -> bool:
    """Stripe's created filter: an exact int or a gt/gte/lt/lte hash."""
    if wanted is None:
        return True
    if isinstance(wanted, int):
        return created == wanted
    checks: dict[str, Callable[[int], bool]] = {
        "gt": lambda bound: created > bound,
        "gte": lambda bound: created >= bound,
        "lt": lambda bound: created < bound,
        "lte": lambda bound: created <= bound,
    }
    return all(checks[key](bound) for key, bound in wanted.items() if key in checks)


def _subscription_status_matches(status: str, wanted: str) -> bool:
    """Subscription list status filter, including Stripe's "all" and "ended"."""
    if wanted == "all":
        return True
    if wanted == "ended":
        return status in ("canceled", "incomplete_expired")
    return status == wanted


def _value_matches(actual: Any, wanted: Any) -> bool:
    """Equality filter that also matches nested hashes such as customer_details[email]."""
    if isinstance(wanted, dict):
        if not isinstance(actual, dict):
            return False
        return all(_value_matches(actual.get(key), value) for key, value in wanted.items())
    return bool(actual == wanted)


def _outcome(state: str) -> Json:
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


def _payment_error(charge: Json) -> Json:
    """A PaymentIntent's last_payment_error for a failed charge."""
    return {
        "charge": charge["id"],
        "code": "card_declined",
        "decline_code": charge["failure_code"],
        "message": charge["failure_message"],
        "type": "card_error",
    }


def _html_page(title: str, body: str) -> str:
    """Wrap a body in a minimal HTML document."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )

"""The fake Stripe's HTTP side: the endpoints the bot's SDK calls, Bearer keys, idempotency
keys, injected outages, and Stripe's error JSON for everything else."""

from __future__ import annotations

import copy
import functools
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web
from stripe.params import (
    InvoiceListParams,
    InvoiceRetrieveParams,
    PaymentIntentRetrieveParams,
    SubscriptionCancelParams,
    SubscriptionRetrieveParams,
    SubscriptionUpdateParams,
)
from stripe.params import billing_portal as portal_params
from stripe.params import checkout as checkout_params

from tests.fakes.serving import Served
from tests.fakes.stripe import lists
from tests.fakes.stripe.checkout import create_session
from tests.fakes.stripe.errors import ApiError, bad, no_such
from tests.fakes.stripe.params import validate
from tests.fakes.stripe.scenarios import StripeSide
from tests.fakes.stripe.signing import post_event, signature_header
from tests.fakes.stripe.state import API_KEY, API_VERSION, WEBHOOK_SECRET, new_id
from tests.fakes.stripe.subscription_update import portal_session, update_subscription
from tests.fakes.stripe.wire import StripeRequest, api_key_of, decode_form

Json = dict[str, Any]
Answer = tuple[int, Json, dict[str, str]]

_ID: Final = r"(?P<id>[^/]+)"
_SESSION_FILTERS: Final = frozenset({"customer", "payment_intent", "status", "subscription"})
_INVOICE_FILTERS: Final = frozenset({"customer", "status", "subscription"})


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
    """What a route handler gets: the decoded request, its URL match and its request id."""

    record: StripeRequest
    match: re.Match[str]
    request_id: str

    @property
    def id(self) -> str:
        """The object id from the URL."""
        return self.match.group("id")


class FakeStripe(StripeSide, Served):
    """A Stripe-compatible HTTP server on 127.0.0.1 plus helpers that play Stripe's side."""

    def __init__(
        self,
        *,
        api_key: str = API_KEY,
        webhook_secret: str = WEBHOOK_SECRET,
        api_version: str = API_VERSION,
        legacy_fields: bool = True,
    ) -> None:
        """Configure; nothing listens until start()."""
        super().__init__(api_version, legacy_fields)
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.requests: list[StripeRequest] = []
        self._failures: list[_Failure] = []
        self._idempotency: dict[tuple[str, str], _Stored] = {}
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

        invoice = functools.partial(self._retrieve, "invoice", InvoiceRetrieveParams)
        subscription = functools.partial(
            self._retrieve, "subscription", SubscriptionRetrieveParams
        )
        payment_intent = functools.partial(
            self._retrieve, "payment_intent", PaymentIntentRetrieveParams
        )
        routes: list[tuple[str, str, Callable[[_Call], Json]]] = [
            ("POST", "/v1/checkout/sessions", self._create_session),
            ("GET", "/v1/checkout/sessions", self._list_sessions),
            ("GET", f"/v1/subscriptions/{_ID}", subscription),
            ("DELETE", f"/v1/subscriptions/{_ID}", self._cancel_subscription),
            ("POST", f"/v1/subscriptions/{_ID}", self._update_subscription),
            ("POST", "/v1/billing_portal/sessions", self._create_portal_session),
            ("GET", "/v1/invoices", self._list_invoices),
            # expand=payments gives the PaymentIntent behind an invoice.
            ("GET", f"/v1/invoices/{_ID}", invoice),
            # expand=latest_charge gives the charge, with its receipt_url (/mygift).
            ("GET", f"/v1/payment_intents/{_ID}", payment_intent),
            ("GET", "/v1/account", self._account),
        ]
        self._stores = {
            "invoice": self.invoices, "subscription": self.subscriptions,
            "payment_intent": self.payment_intents,
        }
        self._routes = [(method, re.compile(path), handler) for method, path, handler in routes]

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

    # --- test controls ---

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

    def sign(
        self, payload: bytes | str, *, secret: str | None = None, timestamp: int | None = None
    ) -> str:
        """The Stripe-Signature header value for payload, with this endpoint's secret."""
        return signature_header(payload, secret or self.webhook_secret, timestamp)

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
            return await post_event(
                http, event, webhook_url, secret or self.webhook_secret, timestamp
            )

    async def deliver_all(self, events: list[Json], webhook_url: str) -> list[int]:
        """Deliver events one after another, in order; returns their statuses."""
        async with aiohttp.ClientSession() as http:
            return [
                await post_event(http, event, webhook_url, self.webhook_secret, None)
                for event in events
            ]

    # --- HTTP ---

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        """Entry point for every HTTP request."""
        # yarl's query_string is already percent-decoded, which would break "&" inside values.
        query = request.rel_url.raw_query_string
        raw = await request.text() if request.method == "POST" else query
        record = StripeRequest(
            method=request.method,
            path=request.path,
            params=decode_form(parse_qsl(raw, keep_blank_values=True)),
            idempotency_key=request.headers.get("Idempotency-Key"),
            at=time.time(),
            stripe_version=request.headers.get("Stripe-Version"),
            api_key=api_key_of(request.headers.get("Authorization")),
        )
        self.requests.append(record)
        request_id = new_id("req", 14)
        status, body, headers = self._handle(record, request_id)
        record.status = status
        headers["Request-Id"] = request_id
        headers["Stripe-Version"] = record.stripe_version or self.api_version
        if record.method == "POST" and record.idempotency_key:
            headers["Idempotency-Key"] = record.idempotency_key
        return web.json_response(body, status=status, headers=headers)

    def _handle(self, record: StripeRequest, request_id: str) -> Answer:
        """Outage, auth, idempotency and routing, in the order Stripe's edge applies them."""
        failure = next(
            (item for item in self._failures if record.path.startswith(item.path_prefix)), None
        )
        if failure is not None:
            failure.remaining -= 1
            self._failures = [item for item in self._failures if item.remaining > 0]
            kind = "api_error" if failure.status >= 500 else "invalid_request_error"
            code = {409: "lock_timeout", 429: "rate_limit"}.get(failure.status)
            error = ApiError(failure.status, failure.message, kind=kind, code=code)
            headers: dict[str, str] = {}
            if failure.should_retry is not None:
                headers["Stripe-Should-Retry"] = "true" if failure.should_retry else "false"
            return failure.status, error.body(), headers
        if record.api_key is None:
            error = ApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            )
            return 401, error.body(), {}
        if record.api_key != self.api_key:
            masked = record.api_key[:8] + "*" * max(0, len(record.api_key) - 12)
            error = ApiError(
                401, f"Invalid API Key provided: {masked}{record.api_key[-4:]}",
                code="api_key_invalid",
            )  # fmt: skip
            return 401, error.body(), {}
        key = record.idempotency_key if record.method == "POST" else None
        stored = self._idempotency.get((record.api_key, key)) if key is not None else None
        if key is not None and stored is not None:
            return self._replay(record, stored, key)
        try:
            body = self._route(record, request_id)
        except ApiError as error:
            return error.status, error.body(), {}
        except Exception as error:
            # A bug in the fake must show up in the test, not pass as a retryable outage.
            failure_body = ApiError(500, f"FakeStripe bug: {error!r}", kind="api_error").body()
            return 500, failure_body, {"Stripe-Should-Retry": "false"}
        if key is not None:
            self._idempotency[(record.api_key, key)] = _Stored(
                record.method, record.path, record.params, copy.deepcopy(body), request_id
            )
        return 200, body, {}

    def _replay(self, record: StripeRequest, stored: _Stored, key: str) -> Answer:
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
        return 400, ApiError(400, message, kind="idempotency_error").body(), {}

    def _route(self, record: StripeRequest, request_id: str) -> Json:
        """Find and run the handler for a path."""
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(record.path)
            if match is not None and method == record.method:
                return handler(_Call(record, match, request_id))
        raise ApiError(
            404,
            f"Unrecognized request URL ({record.method}: {record.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        )

    # --- endpoints ---

    def _create_session(self, call: _Call) -> Json:
        """POST /v1/checkout/sessions."""
        params = validate(call.record.params, checkout_params.SessionCreateParams)
        session, plan = create_session(self, params, self.url)
        self.plans[session["id"]] = plan
        return self.public(session)

    def _list_sessions(self, call: _Call) -> Json:
        """GET /v1/checkout/sessions."""
        params = validate(call.record.params, checkout_params.SessionListParams)
        url = "/v1/checkout/sessions"
        listed = lists.list_objects(self.sessions, params, url, _SESSION_FILTERS)
        return lists.render_page(self, listed, params.get("expand", []))

    def _list_invoices(self, call: _Call) -> Json:
        """GET /v1/invoices."""
        params = validate(call.record.params, InvoiceListParams)
        listed = lists.list_objects(self.invoices, params, "/v1/invoices", _INVOICE_FILTERS)
        return lists.render_page(self, listed, params.get("expand", []))

    def _retrieve(self, name: str, schema: object, call: _Call) -> Json:
        """GET /v1/<things>/<id>, with the expansions the bot asks for."""
        params = validate(call.record.params, schema)
        found = self._stores[name].get(call.id)
        if found is None:
            raise no_such(name, call.id, "id", 404)
        return lists.render(self, found, params.get("expand", []))

    def _cancel_subscription(self, call: _Call) -> Json:
        """DELETE /v1/subscriptions/<id>: cancel at once, announced as Stripe announces it."""
        params = validate(call.record.params, SubscriptionCancelParams)
        subscription = self.subscriptions.get(call.id)
        if subscription is None:
            raise no_such("subscription", call.id, "id", 404)
        if subscription["status"] in ("canceled", "incomplete_expired"):
            raise bad(f"This subscription is already {subscription['status']}.")
        for key, value in params.get("cancellation_details", {}).items():
            subscription["cancellation_details"][key] = value or None
        request = (call.request_id, call.record.idempotency_key)
        self.end_subscription(subscription, "cancellation_requested", [], request)
        return lists.render(self, subscription, params.get("expand", []))

    def _update_subscription(self, call: _Call) -> Json:
        """POST /v1/subscriptions/<id>: announced as customer.subscription.updated."""
        params = validate(call.record.params, SubscriptionUpdateParams)
        subscription = self.subscriptions.get(call.id)
        if subscription is None:
            raise no_such("subscription", call.id, "id", 404)
        previous = update_subscription(self, subscription, params)
        request = (call.request_id, call.record.idempotency_key)
        self.emit(
            [], "customer.subscription.updated", subscription, previous=previous, request=request
        )
        return self.public(subscription)

    def _create_portal_session(self, call: _Call) -> Json:
        """POST /v1/billing_portal/sessions."""
        params = validate(call.record.params, portal_params.SessionCreateParams)
        return portal_session(self, params, self.url)

    def _account(self, call: _Call) -> Json:
        """GET /v1/account: the account the key belongs to (the bot's start-up check)."""
        return {
            "id": "acct_fake_campaign", "object": "account", "charges_enabled": True,
            "payouts_enabled": True, "country": "FR", "default_currency": "eur",
            "settings": {"dashboard": {"display_name": "FakeStripe Test Account"}},
        }  # fmt: skip

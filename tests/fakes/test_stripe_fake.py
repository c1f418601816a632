"""The fake Stripe answers as Stripe documents: error JSON, list objects with cursors, the
Stripe-Signature scheme the real SDK verifies, idempotency keys, Checkout and subscriptions."""

from __future__ import annotations

import contextlib
import copy
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import stripe
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.donations.stripe_objects import Customer, StripeEvent
from tests.fakes.stripe import API_KEY, WEBHOOK_SECRET, FakeStripe, encode_event

Json = dict[str, Any]


@contextlib.asynccontextmanager
async def sdk(
    fake: FakeStripe, key: str = API_KEY, retries: int = 0
) -> AsyncIterator[stripe.StripeClient]:
    """The real SDK's async client, built as the bot builds it."""
    http = stripe.AIOHTTPClient()
    try:
        yield stripe.StripeClient(
            key, base_addresses={"api": fake.url}, http_client=http, max_network_retries=retries
        )
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]


@pytest.fixture
async def client(stripe_server: FakeStripe) -> AsyncIterator[stripe.StripeClient]:
    """The SDK without its retries, so each error reaches the test."""
    async with sdk(stripe_server) as built:
        yield built


def pledge(mode: str = "payment", amount: int = 1500, **extra: Any) -> Json:
    """Checkout Session params shaped as the bot's create_checkout sends them."""
    metadata = {"telegram_user_id": "42", "locale": "fr", "frequency": "once"}
    price_data: Json = {"currency": "eur", "unit_amount": amount, "product_data": {"name": "Gift"}}
    params: Json = {
        "mode": mode,
        "line_items": [{"price_data": price_data, "quantity": 1}],
        "metadata": metadata,
        "success_url": "https://example.org/ok?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://example.org/cancel",
        **extra,
    }
    if mode == "payment":
        params["payment_intent_data"] = {"metadata": metadata}
    else:
        price_data["recurring"] = {"interval": "month"}
        params["subscription_data"] = {"metadata": metadata}
    return params


async def create(client: stripe.StripeClient, params: Json, key: str | None = None) -> Json:
    options: Any = {"idempotency_key": key} if key else {}
    session = await client.v1.checkout.sessions.create_async(params, options)  # type: ignore[arg-type]
    return session.to_dict()


async def get(fake: FakeStripe, path: str, key: str | None = API_KEY) -> tuple[int, Json]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{fake.url}{path}", headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_errors_are_stripe_error_json(
    stripe_server: FakeStripe, client: stripe.StripeClient
) -> None:
    status, body = await get(stripe_server, "/v1/invoices/in_missing")
    assert status == 404
    assert body == {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": "No such invoice: 'in_missing'",
            "param": "id",
            "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        }
    }
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await client.v1.subscriptions.retrieve_async("sub_missing")
    assert (raised.value.http_status, raised.value.code, raised.value.param) == (
        404, "resource_missing", "id",
    )  # fmt: skip


async def test_unknown_and_missing_params_are_refused(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError, match="Received unknown parameter: bogus"):
        await create(client, pledge(bogus="1"))
    params = pledge()
    del params["success_url"]
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await create(client, params)
    assert (raised.value.code, raised.value.param) == ("parameter_missing", "success_url")
    with pytest.raises(stripe.InvalidRequestError, match=r"must add up to at least 0\.50 eur"):
        await create(client, pledge(amount=49))


async def test_a_missing_or_wrong_key_is_401(stripe_server: FakeStripe) -> None:
    status, body = await get(stripe_server, "/v1/account", key=None)
    assert status == 401
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("You did not provide an API key.")
    async with sdk(stripe_server, key="sk_test_wrong_key_1234") as wrong:
        with pytest.raises(
            stripe.AuthenticationError, match=r"Invalid API Key provided: sk_test_\*+1234"
        ):
            await wrong.v1.accounts.retrieve_current_async()


async def test_lists_are_list_objects_paged_newest_first(
    stripe_server: FakeStripe, client: stripe.StripeClient
) -> None:
    ids = [(await create(client, pledge(amount=1000 + n)))["id"] for n in range(3)]
    for session_id in ids:
        stripe_server.complete_session(session_id)
    status, first = await get(stripe_server, "/v1/checkout/sessions?limit=2&status=complete")
    assert status == 200
    assert (first["object"], first["has_more"], first["url"]) == (
        "list", True, "/v1/checkout/sessions",
    )  # fmt: skip
    assert [s["id"] for s in first["data"]] == [ids[2], ids[1]]
    _, rest = await get(stripe_server, f"/v1/checkout/sessions?limit=2&starting_after={ids[1]}")
    assert ([s["id"] for s in rest["data"]], rest["has_more"]) == ([ids[0]], False)
    listed = await client.v1.checkout.sessions.list_async(
        {"created": {"gte": int(time.time()) - 60}, "status": "complete", "limit": 1}
    )
    assert [s.id async for s in listed.auto_paging_iter()] == ids[::-1]
    status, body = await get(stripe_server, "/v1/checkout/sessions?starting_after=cs_nope")
    assert (status, body["error"]["code"]) == (400, "resource_missing")


async def test_an_idempotency_key_replays_the_first_answer(
    stripe_server: FakeStripe, client: stripe.StripeClient
) -> None:
    first = await create(client, pledge(), key="pledge-1")
    again = await create(client, pledge(), key="pledge-1")
    assert again == first
    assert len(stripe_server.sessions) == 1
    assert stripe_server.requests[-1].replayed
    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        await create(client, pledge(amount=2000), key="pledge-1")


async def test_signatures_are_the_scheme_the_sdk_verifies(
    stripe_server: FakeStripe, client: stripe.StripeClient
) -> None:
    session = await create(client, pledge())
    event = stripe_server.complete_session(session["id"])[0]
    payload = encode_event(event)
    header = stripe_server.sign(payload)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    verified = stripe.Webhook.construct_event(payload, header, WEBHOOK_SECRET)
    assert (verified.id, verified.type) == (event["id"], "checkout.session.completed")
    forged = stripe_server.sign(payload, secret="whsec_other")
    stale = stripe_server.sign(payload, timestamp=int(time.time()) - 301)
    for bad_header in (forged, stale):
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.WebhookSignature.verify_header(
                payload, bad_header, WEBHOOK_SECRET, stripe.Webhook.DEFAULT_TOLERANCE
            )


async def test_deliveries_are_signed_posts_of_the_event(
    stripe_server: FakeStripe, client: stripe.StripeClient
) -> None:
    received: list[Json] = []

    async def endpoint(request: web.Request) -> web.Response:
        body = await request.read()
        header = request.headers.get("Stripe-Signature", "")
        stripe.WebhookSignature.verify_header(body, header, WEBHOOK_SECRET, 300)
        assert request.content_type == "application/json"
        received.append(json.loads(body))
        return web.Response(status=204 if len(received) > 1 else 200)

    app = web.Application()
    app.router.add_post("/hook", endpoint)
    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("/hook"))
        session = await create(client, pledge("subscription"))
        events = stripe_server.complete_session(session["id"])
        assert await stripe_server.deliver_all(events, url) == [200, 204]
    assert [event["type"] for event in received] == ["checkout.session.completed", "invoice.paid"]


async def test_a_one_off_gift_completes_with_its_payment_intent(
    stripe_server: FakeStripe, client: stripe.StripeClient
) -> None:
    session = await create(client, pledge(submit_type="donate"))
    assert (session["object"], session["status"], session["payment_status"]) == (
        "checkout.session", "open", "unpaid",
    )  # fmt: skip
    assert session["url"].startswith("http") and session["amount_total"] == 1500
    [completed] = stripe_server.complete_session(session["id"])
    paid = completed["data"]["object"]
    assert (completed["object"], completed["api_version"]) == ("event", stripe_server.api_version)
    assert (paid["status"], paid["payment_status"], paid["mode"]) == (
        "complete",
        "paid",
        "payment",
    )
    assert paid["metadata"]["telegram_user_id"] == "42"
    payment_intent = stripe_server.payment_intents[paid["payment_intent"]]
    assert (payment_intent["status"], payment_intent["amount"]) == ("succeeded", 1500)
    assert payment_intent["metadata"] == paid["metadata"]
    [refunded] = stripe_server.refund(paid["payment_intent"], 500)
    assert refunded["type"] == "charge.refunded"
    assert refunded["data"]["object"]["amount_refunded"] == 500
    assert refunded["data"]["previous_attributes"] == {"amount_refunded": 0}


async def test_a_payment_intent_expands_its_latest_charge_with_the_receipt(
    stripe_server: FakeStripe, client: stripe.StripeClient
) -> None:
    session = await create(client, pledge(submit_type="donate"))
    [completed] = stripe_server.complete_session(session["id"])
    pi_id = completed["data"]["object"]["payment_intent"]
    plain = await client.v1.payment_intents.retrieve_async(pi_id)
    assert (plain.object, plain.status) == ("payment_intent", "succeeded")
    assert isinstance(plain.latest_charge, str) and plain.latest_charge.startswith("ch_")
    stripe_server.refund(pi_id, 500)
    expanded = await client.v1.payment_intents.retrieve_async(
        pi_id, {"expand": ["latest_charge"]}
    )
    charge = expanded.to_dict()["latest_charge"]
    assert (charge["object"], charge["id"], charge["payment_intent"]) == (
        "charge", plain.latest_charge, pi_id,
    )  # fmt: skip
    assert charge["amount_refunded"] == 500
    assert re.fullmatch(r"https://pay\.stripe\.com/receipts/payment/\w+", charge["receipt_url"])
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        await client.v1.payment_intents.retrieve_async(pi_id, {"expand": ["customer"]})
    with pytest.raises(stripe.InvalidRequestError, match="No such payment_intent") as missing:
        await client.v1.payment_intents.retrieve_async("pi_missing")
    assert missing.value.http_status == 404


async def test_a_monthly_gift_is_a_subscription_with_paid_invoices(
    stripe_server: FakeStripe, client: stripe.StripeClient
) -> None:
    session = await create(client, pledge("subscription"))
    completed, paid = stripe_server.complete_session(session["id"])
    subscription_id = completed["data"]["object"]["subscription"]
    subscription = await client.v1.subscriptions.retrieve_async(subscription_id)
    assert (subscription.status, subscription.metadata["locale"]) == ("active", "fr")
    invoice_id = paid["data"]["object"]["id"]
    invoice = await client.v1.invoices.retrieve_async(invoice_id, {"expand": ["payments"]})
    payment = invoice.to_dict()["payments"]["data"][0]["payment"]
    assert payment["payment_intent"] == paid["data"]["object"]["payment_intent"]
    [renewed] = stripe_server.renew_subscription(subscription_id)
    assert renewed["data"]["object"]["billing_reason"] == "subscription_cycle"
    invoices = await client.v1.invoices.list_async({"status": "paid", "limit": 100})
    assert [i.id async for i in invoices.auto_paging_iter()] == [
        renewed["data"]["object"]["id"], invoice_id,
    ]  # fmt: skip
    canceled = await client.v1.subscriptions.cancel_async(subscription_id)
    assert canceled.status == "canceled"
    assert stripe_server.events_of_type("customer.subscription.deleted")
    # The bot treats a second cancel as done by reading "cancel" in Stripe's message.
    with pytest.raises(stripe.InvalidRequestError, match="already canceled"):
        await client.v1.subscriptions.cancel_async(subscription_id)


async def test_current_api_versions_leave_the_legacy_fields_out(
    stripe_server: FakeStripe, client: stripe.StripeClient
) -> None:
    stripe_server.legacy_fields = False
    session = await create(client, pledge("subscription"))
    _, paid = stripe_server.complete_session(session["id"])
    invoice = paid["data"]["object"]
    assert "payment_intent" not in invoice and "subscription" not in invoice
    assert invoice["parent"]["subscription_details"]["subscription"].startswith("sub_")


async def test_outages_are_api_errors_the_sdk_retries(
    stripe_server: FakeStripe, client: stripe.StripeClient
) -> None:
    stripe_server.fail_next(1, status=500)
    with pytest.raises(stripe.APIError) as raised:
        await client.v1.accounts.retrieve_current_async()
    assert raised.value.http_status == 500
    stripe_server.fail_next(1, status=503)
    async with sdk(stripe_server, retries=1) as retrying:
        account = await retrying.v1.accounts.retrieve_current_async()
    assert account.id == "acct_fake_campaign"
    assert [r.status for r in stripe_server.requests[-2:]] == [503, 200]


async def test_a_subscription_update_swaps_the_price_pauses_and_is_announced(
    stripe_server: FakeStripe, client: stripe.StripeClient
) -> None:
    session = await create(client, pledge("subscription"))
    completed, _ = stripe_server.complete_session(session["id"])
    subscription_id = completed["data"]["object"]["subscription"]
    item = copy.deepcopy(stripe_server.subscriptions[subscription_id]["items"]["data"][0])
    price_data: Any = {
        "currency": "eur", "product": item["price"]["product"], "unit_amount": 2500,
        "recurring": {"interval": "month"},
    }  # fmt: skip
    swap: Any = {"items": [{"id": item["id"], "price_data": price_data}]}
    with pytest.raises(stripe.InvalidRequestError, match="prorations"):
        await client.v1.subscriptions.update_async(subscription_id, swap)
    swap["proration_behavior"] = "none"
    options: Any = {"idempotency_key": "swap-1"}
    swapped = await client.v1.subscriptions.update_async(subscription_id, swap, options)
    again = await client.v1.subscriptions.update_async(subscription_id, swap, options)
    assert again.to_dict() == swapped.to_dict() and stripe_server.requests[-1].replayed
    price = swapped.to_dict()["items"]["data"][0]["price"]
    assert (price["unit_amount"], price["product"]) == (2500, item["price"]["product"])
    assert price["id"] != item["price"]["id"] and price["id"] in stripe_server.prices
    (updated,) = stripe_server.events_of_type("customer.subscription.updated")
    assert updated["request"]["idempotency_key"] == "swap-1"
    old_items = updated["data"]["previous_attributes"]["items"]["data"]
    assert old_items[0]["price"]["unit_amount"] == 1500
    [renewed] = stripe_server.renew_subscription(subscription_id)
    assert renewed["data"]["object"]["amount_paid"] == 2500

    resumes_at = int(time.time()) + 75 * 86_400
    pause: Any = {"pause_collection": {"behavior": "void", "resumes_at": resumes_at}}
    paused = await client.v1.subscriptions.update_async(subscription_id, pause)
    assert paused.to_dict()["pause_collection"] == pause["pause_collection"]
    # Paused: the period passes unpaid; past resumes_at Stripe collects again by itself.
    assert stripe_server.renew_subscription(subscription_id) == []
    assert stripe_server.subscriptions[subscription_id]["pause_collection"] is not None
    back, paid = stripe_server.renew_subscription(subscription_id)
    assert back["type"] == "customer.subscription.updated"
    assert back["data"]["object"]["pause_collection"] is None
    assert back["data"]["previous_attributes"]["pause_collection"]["resumes_at"] == resumes_at
    assert paid["type"] == "invoice.paid"
    await client.v1.subscriptions.update_async(subscription_id, pause)
    resumed = await client.v1.subscriptions.update_async(
        subscription_id, {"pause_collection": "", "metadata": {"locale": ""}}
    )
    assert resumed.pause_collection is None and "locale" not in resumed.metadata
    _, paused_event, _, _, resumed_event = stripe_server.events_of_type(
        "customer.subscription.updated"
    )
    assert paused_event["data"]["previous_attributes"] == {"pause_collection": None}
    assert resumed_event["data"]["object"]["pause_collection"] is None
    await client.v1.subscriptions.cancel_async(subscription_id)
    with pytest.raises(stripe.InvalidRequestError, match="canceled subscription"):
        await client.v1.subscriptions.update_async(subscription_id, pause)


async def test_a_portal_session_opens_the_card_flow_for_a_customer(
    stripe_server: FakeStripe, client: stripe.StripeClient
) -> None:
    session = await create(client, pledge("subscription"))
    completed, _ = stripe_server.complete_session(session["id"])
    customer = completed["data"]["object"]["customer"]
    params: Any = {
        "customer": customer, "flow_data": {"type": "payment_method_update"},
        "locale": "fr", "return_url": "https://example.org/back",
    }  # fmt: skip
    options: Any = {"idempotency_key": "card-1"}
    portal = (await client.v1.billing_portal.sessions.create_async(params, options)).to_dict()
    assert portal["object"] == "billing_portal.session" and portal["id"].startswith("bps_")
    assert (portal["customer"], portal["locale"]) == (customer, "fr")
    assert portal["flow"]["type"] == "payment_method_update"
    assert portal["return_url"] == "https://example.org/back"
    assert portal["url"].startswith(stripe_server.url)
    again = await client.v1.billing_portal.sessions.create_async(params, options)
    assert again.id == portal["id"] and len(stripe_server.portal_sessions) == 1
    params["customer"] = "cus_nope"
    with pytest.raises(stripe.InvalidRequestError, match="No such customer"):
        await client.v1.billing_portal.sessions.create_async(params)

    # The card saved there becomes the default for invoices: customer.updated says so.
    (updated,) = stripe_server.change_default_card(customer)
    assert updated["type"] == "customer.updated"
    card = updated["data"]["object"]["invoice_settings"]["default_payment_method"]
    assert card.startswith("pm_")
    assert updated["data"]["previous_attributes"] == {
        "invoice_settings": {"default_payment_method": None}
    }
    parsed = StripeEvent.parse(updated)
    assert parsed is not None and parsed.card_changed
    assert parsed.object == Customer(customer, card)
    assert stripe_server.customers[customer]["invoice_settings"]["default_payment_method"] == card
    # Another change of the customer (its address, say) is no card change.
    updated["data"]["previous_attributes"] = {"address": None}
    other = StripeEvent.parse(updated)
    assert other is not None and not other.card_changed


async def test_a_required_billing_address_comes_back_on_the_session_customer_and_invoice(
    stripe_server: FakeStripe, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError, match="must be one of auto, required"):
        await create(client, pledge(billing_address_collection="always"))
    asked = await create(client, pledge(billing_address_collection="required"), key="with-address")
    assert (asked["billing_address_collection"], asked["payment_method_types"]) == (
        "required", ["card"],
    )  # fmt: skip
    # A pledge asked again with the address now required is other parameters for Stripe.
    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        await create(client, pledge(), key="with-address")
    typed = {"line1": "12 quai de la Colonne", "postal_code": "62100", "city": "Calais"}
    [completed] = stripe_server.complete_session(asked["id"], name="Ana Lima", address=typed)
    details = completed["data"]["object"]["customer_details"]
    assert details["name"] == "Ana Lima"
    assert details["address"] == {
        "city": "Calais", "country": "FR", "line1": "12 quai de la Colonne", "line2": None,
        "postal_code": "62100", "state": None,
    }  # fmt: skip

    plain = await create(client, pledge())
    [completed] = stripe_server.complete_session(plain["id"], name="Ana Lima")
    assert completed["data"]["object"]["billing_address_collection"] is None
    assert completed["data"]["object"]["customer_details"]["address"] is None

    monthly = await create(client, pledge("subscription", billing_address_collection="required"))
    _, paid = stripe_server.complete_session(monthly["id"], name="Ana Lima")
    invoice = (await client.v1.invoices.retrieve_async(paid["data"]["object"]["id"])).to_dict()
    customer = stripe_server.customers[invoice["customer"]]
    assert invoice["customer_name"] == customer["name"] == "Ana Lima"
    assert invoice["customer_address"] == customer["address"]
    assert invoice["customer_address"]["line1"] == "1 rue de la Paix"

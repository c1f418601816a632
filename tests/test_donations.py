"""Giving through Stripe Checkout, end to end: menu, link, payment, webhook, thanks, totals."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from tests.conftest import Harness
from tests.donation_steps import (
    normalise,
    open_donate_menu,
    pay,
    pledge,
    wait_for_link,
    wait_for_thanks,
)


async def test_french_donor_gives_ten_euros_and_is_thanked_in_french(harness: Harness) -> None:
    user = harness.user(3001, "fr")
    menu = await open_donate_menu(harness, user)
    labels = [button.text for row in menu.buttons for button in row]
    assert [normalise(label) for label in labels[2:7]] == ["5 €", "10 €", "20 €", "50 €", "100 €"]
    assert "✏️ Autre montant" in labels

    mark = harness.telegram.mark()
    user.tap(menu, "10\xa0€")
    link, session_id = await wait_for_link(harness, user, mark)
    assert "Donner 10" in link.buttons[0][0].text
    session = harness.stripe.sessions[session_id]
    assert session["mode"] == "payment"
    assert session["submit_type"] == "donate"
    assert session["locale"] == "fr"
    assert session["amount_total"] == 1000
    assert session["currency"] == "eur"
    assert session["client_reference_id"] == "3001"
    assert session["metadata"]["telegram_user_id"] == "3001"
    assert session["metadata"]["locale"] == "fr"
    assert "start=thanks" in session["success_url"]

    mark = harness.telegram.mark()
    await pay(harness, session_id)
    thanks = await wait_for_thanks(harness, user, mark)
    assert "Merci ! Votre don de 10 € est bien arrivé" in normalise(thanks.rendered_text)
    assert thanks.button("Suivre").callback_data == "follow"
    totals = await harness.totals()
    assert (totals.raised, totals.donors, totals.donations) == (1000, 1, 1)

    mark = harness.telegram.mark()
    user.send("/progress")
    progress = await harness.telegram.wait_for_message(3001, after=mark)
    assert "10 € collectés sur 10 000 € (0 %) · 1 donateur" in normalise(progress.rendered_text)
    chart = await harness.telegram.wait_for(
        lambda call: call.method == "sendPhoto" and call.chat_id == 3001, after=mark, timeout=15
    )
    assert next(iter(chart.files.values())).startswith(b"\x89PNG")


async def test_english_buttons_show_the_euro_sign_first(harness: Harness) -> None:
    menu = await open_donate_menu(harness, harness.user(3002, "en"))
    labels = [button.text for row in menu.buttons for button in row]
    assert labels[2:7] == ["€5", "€10", "€20", "€50", "€100"]


async def test_a_retried_tap_creates_one_checkout_session(harness: Harness) -> None:
    user = harness.user(3003, "en")
    menu = await open_donate_menu(harness, user)
    mark = harness.telegram.mark()
    user.tap(menu, "€20")
    user.tap(menu, "€20")
    await harness.telegram.wait_for(
        lambda call: call.chat_id == 3003 and bool(call.buttons) and bool(call.buttons[0][0].url),
        after=mark,
    )
    second = await harness.telegram.wait_for(
        lambda call: call.chat_id == 3003 and bool(call.buttons) and bool(call.buttons[0][0].url),
        after=harness.telegram.calls.index(
            next(c for c in harness.telegram.calls[mark:] if c.chat_id == 3003 and c.buttons
                 and c.buttons[0][0].url)
        ) + 1,
    )
    created = [r for r in harness.stripe.requests if r.path == "/v1/checkout/sessions"
               and r.method == "POST"]
    assert len(created) == 2
    assert created[0].idempotency_key == created[1].idempotency_key
    assert len(harness.stripe.sessions) == 1
    assert second.buttons[0][0].url == next(iter(harness.stripe.sessions.values()))["url"]


async def test_typed_amount_with_comma_is_accepted(harness: Harness) -> None:
    user = harness.user(3004, "fr")
    menu = await open_donate_menu(harness, user)
    mark = harness.telegram.mark()
    user.tap(menu, "Autre montant")
    prompt = await harness.telegram.wait_for_message(3004, after=mark)
    assert "entre 2 € et 10 000 €" in normalise(prompt.rendered_text)
    mark = harness.telegram.mark()
    user.send("15,50")
    _, session_id = await wait_for_link(harness, user, mark)
    assert harness.stripe.sessions[session_id]["amount_total"] == 1550
    await pay(harness, session_id)
    assert (await harness.totals()).raised == 1550


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("abc", "avec des chiffres uniquement"),
        ("-5", "Le plus petit don possible est de 2 €"),
        ("0", "Le plus petit don possible est de 2 €"),
        ("1.50", "Le plus petit don possible est de 2 €"),
        ("1e3", "avec des chiffres uniquement"),
        ("NaN", "avec des chiffres uniquement"),
        ("1_000", "avec des chiffres uniquement"),
        ("١٠", "avec des chiffres uniquement"),
        ("12,345", "avec des chiffres uniquement"),
        ("20000", "Le plus grand don possible ici est de 10 000 €"),
    ],
)
async def test_refused_amounts_get_one_localised_line_and_a_retry(
    harness: Harness, typed: str, expected: str
) -> None:
    user = harness.user(3005, "fr")
    menu = await open_donate_menu(harness, user)
    mark = harness.telegram.mark()
    user.tap(menu, "Autre montant")
    await harness.telegram.wait_for_message(3005, after=mark)
    mark = harness.telegram.mark()
    user.send(typed)
    refusal = await harness.telegram.wait_for_message(3005, after=mark)
    assert expected in normalise(refusal.rendered_text)
    assert refusal.button("Annuler").callback_data == "don:x"
    assert not harness.stripe.sessions
    mark = harness.telegram.mark()
    user.send("12")
    _, session_id = await wait_for_link(harness, user, mark)
    assert harness.stripe.sessions[session_id]["amount_total"] == 1200


async def test_cancel_stops_waiting_for_an_amount(harness: Harness) -> None:
    user = harness.user(3006, "en")
    menu = await open_donate_menu(harness, user)
    mark = harness.telegram.mark()
    user.tap(menu, "Other amount")
    prompt = await harness.telegram.wait_for_message(3006, after=mark)
    user.tap(prompt, "Cancel")
    await harness.telegram.wait_for(lambda call: call.method == "editMessageText", after=mark)
    mark = harness.telegram.mark()
    user.send("15")
    hint = await harness.telegram.wait_for_message(3006, after=mark)
    assert "I answer commands" in (hint.rendered_text or "")


async def test_monthly_gift_with_two_renewals_counts_three_payments(harness: Harness) -> None:
    user = harness.user(3007, "en")
    _, session_id = await pledge(harness, user, "€10 / month", monthly=True)
    session = harness.stripe.sessions[session_id]
    assert session["mode"] == "subscription"
    assert "submit_type" not in session or session["submit_type"] is None
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    first = await wait_for_thanks(harness, user, mark)
    assert "monthly gift of €10 has started" in (first.rendered_text or "")
    subscription_id = harness.stripe.sessions[session_id]["subscription"]
    for _ in range(2):
        mark = harness.telegram.mark()
        await harness.deliver(harness.stripe.renew_subscription(subscription_id))
        renewal = await wait_for_thanks(harness, user, mark)
        assert "arrived again this month" in (renewal.rendered_text or "")
    totals = await harness.totals()
    assert (totals.raised, totals.donations, totals.donors) == (3000, 3, 1)


async def test_current_api_invoices_without_payment_intent_are_looked_up(
    harness: Harness,
) -> None:
    harness.stripe.legacy_fields = False
    user = harness.user(3008, "en")
    _, session_id = await pledge(harness, user, "€20 / month", monthly=True)
    events = harness.stripe.complete_session(session_id)
    invoice = next(e for e in events if e["type"] == "invoice.paid")["data"]["object"]
    assert "payment_intent" not in invoice
    await harness.deliver(events)
    payment_intent = next(iter(harness.stripe.payment_intents))
    await harness.deliver(harness.stripe.refund(payment_intent, 500))
    totals = await harness.totals()
    assert (totals.gross, totals.refunded, totals.raised) == (2000, 500, 1500)


async def test_the_same_event_fifty_times_concurrently_counts_once(harness: Harness) -> None:
    user = harness.user(3009, "en")
    _, session_id = await pledge(harness, user, "€50")
    events = harness.stripe.complete_session(session_id)
    mark = harness.telegram.mark()
    statuses = await asyncio.gather(
        *(harness.stripe.deliver(events[0], harness.webhook_url) for _ in range(50))
    )
    assert statuses == [200] * 50
    for _ in range(5):
        assert await harness.stripe.deliver(events[0], harness.webhook_url) == 200
    await wait_for_thanks(harness, user, mark)
    await harness.telegram.assert_no_message(3009, after=harness.telegram.mark(), within=0.5)
    thanks = [
        c for c in harness.telegram.sent_to(3009)
        if c.index >= mark and "💛" in (c.rendered_text or "")
    ]
    assert len(thanks) == 1
    totals = await harness.totals()
    assert (totals.raised, totals.donations, totals.donors) == (5000, 1, 1)


async def test_async_payment_counts_once_on_success(harness: Harness) -> None:
    user = harness.user(3010, "en")
    _, session_id = await pledge(harness, user, "€20")
    await harness.deliver(harness.stripe.complete_session_async(session_id))
    assert (await harness.totals()).raised == 0
    succeeded = harness.stripe.async_payment_succeeded(session_id)
    completed_again = harness.stripe.event(
        "checkout.session.completed", harness.stripe.sessions[session_id]
    )
    await harness.deliver([*succeeded, completed_again])
    totals = await harness.totals()
    assert (totals.raised, totals.donations) == (2000, 1)


async def test_failed_async_payment_counts_nothing_and_tells_the_donor(harness: Harness) -> None:
    user = harness.user(3011, "fr")
    _, session_id = await pledge(harness, user, "20\xa0€")
    await harness.deliver(harness.stripe.complete_session_async(session_id))
    mark = harness.telegram.mark()
    failed = harness.stripe.async_payment_failed(session_id)
    await harness.deliver(failed)
    await harness.deliver(failed)
    notice = await harness.telegram.wait_for_message(3011, after=mark)
    assert "n'a pas abouti" in (notice.rendered_text or "")
    await harness.telegram.assert_no_message(3011, after=notice.index + 1, within=0.5)
    assert (await harness.totals()).raised == 0


async def test_expired_session_changes_nothing(harness: Harness) -> None:
    _, session_id = await pledge(harness, harness.user(3012, "en"), "€5")
    await harness.deliver(harness.stripe.expire_session(session_id))
    assert (await harness.totals()).donations == 0


async def test_partial_then_full_refund_and_replays_lower_totals_exactly(
    harness: Harness,
) -> None:
    _, session_id = await pledge(harness, harness.user(3013, "en"), "€100")
    await pay(harness, session_id)
    payment_intent = harness.stripe.sessions[session_id]["payment_intent"]
    partial = harness.stripe.refund(payment_intent, 3000)
    full = harness.stripe.refund(payment_intent)
    await harness.deliver(full)
    await harness.deliver(partial)
    await harness.deliver(full)
    totals = await harness.totals()
    assert (totals.gross, totals.refunded, totals.raised) == (10000, 10000, 0)


async def test_refund_arriving_before_the_payment_is_applied_when_it_lands(
    harness: Harness,
) -> None:
    _, session_id = await pledge(harness, harness.user(3014, "en"), "€50")
    events = harness.stripe.complete_session(session_id)
    payment_intent = harness.stripe.sessions[session_id]["payment_intent"]
    refund = harness.stripe.refund(payment_intent, 2000)
    await harness.deliver(refund)
    assert (await harness.totals()).raised == 0
    await harness.deliver(events)
    totals = await harness.totals()
    assert (totals.gross, totals.raised, totals.refunded) == (5000, 3000, 2000)


async def test_dispute_lowers_totals_once(harness: Harness) -> None:
    _, session_id = await pledge(harness, harness.user(3015, "en"), "€20")
    await pay(harness, session_id)
    dispute = harness.stripe.dispute(harness.stripe.sessions[session_id]["payment_intent"])
    await harness.deliver(dispute)
    await harness.deliver(dispute)
    totals = await harness.totals()
    assert (totals.raised, totals.disputed) == (0, 2000)


@pytest.mark.parametrize(
    "tamper",
    ["wrong-secret", "missing-header", "bad-timestamp", "body-changed", "stale"],
)
async def test_forged_or_stale_webhooks_are_refused_and_change_nothing(
    harness: Harness, tamper: str
) -> None:
    _, session_id = await pledge(harness, harness.user(3016, "en"), "€10")
    event = harness.stripe.complete_session(session_id)[0]
    payload = json.dumps(event).encode()
    headers = {"Content-Type": "application/json"}
    now = harness.stripe.now()
    if tamper == "wrong-secret":
        headers["Stripe-Signature"] = harness.stripe.sign(payload, secret="whsec_other_secret")
    elif tamper == "bad-timestamp":
        headers["Stripe-Signature"] = "t=abc,v1=" + "0" * 64
    elif tamper == "body-changed":
        headers["Stripe-Signature"] = harness.stripe.sign(payload)
        payload = payload.replace(b'"amount_total": 1000', b'"amount_total": 9999')
        assert b"9999" in payload
    elif tamper == "stale":
        headers["Stripe-Signature"] = harness.stripe.sign(payload, timestamp=now - 301)
    async with (
        aiohttp.ClientSession() as http,
        http.post(harness.webhook_url, data=payload, headers=headers) as response,
    ):
        assert response.status == 400
    totals = await harness.totals()
    assert totals.donations == 0


async def test_unknown_event_types_are_acknowledged_and_ignored(harness: Harness) -> None:
    await harness.deliver([harness.stripe.event("customer.created", {"id": "cus_1"})])
    assert (await harness.totals()).donations == 0


async def test_stripe_outage_tells_the_donor_to_try_again(harness: Harness) -> None:
    user = harness.user(3017, "fr")
    menu = await open_donate_menu(harness, user)
    harness.stripe.fail_next(5, status=500)
    mark = harness.telegram.mark()
    user.tap(menu, "10\xa0€")
    reply = await harness.telegram.wait_for_message(3017, after=mark, timeout=15)
    assert "réessayer dans un instant" in (reply.rendered_text or "")

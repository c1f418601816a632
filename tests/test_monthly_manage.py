"""A monthly donor manages the gift from the chat: amount, pause, card, and forged buttons."""

from __future__ import annotations

import asyncio
import copy
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import aiohttp

from bot.donations.monthly_gifts import add_months
from bot.donations.stripe_client import portal_return_url
from bot.i18n import long_date
from bot.storage import keys
from tests.conftest import Harness
from tests.donation_steps import normalise, pay, pledge, wait_for_thanks
from tests.fakes.telegram import ApiCall, FakeUser

ZONE = ZoneInfo("Europe/Paris")


def day(epoch: int, locale: str) -> str:
    return long_date(datetime.fromtimestamp(epoch, ZONE).date(), locale)


async def give_monthly(harness: Harness, user: FakeUser, label: str) -> str:
    """A monthly gift set up and paid; returns its subscription id."""
    _, session_id = await pledge(harness, user, label, monthly=True)
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    await wait_for_thanks(harness, user, mark)
    return str(harness.stripe.sessions[session_id]["subscription"])


async def open_view(harness: Harness, user: FakeUser, manage: str, heading: str) -> ApiCall:
    """/donate, then the button that shows the donor's gifts (/mygift)."""
    mark = harness.telegram.mark()
    user.send("/donate")
    menu = await harness.telegram.wait_for_message(user.id, after=mark)
    user.tap(menu, manage)
    return await harness.telegram.wait_for(
        lambda call: call.chat_id == user.id and heading in (call.rendered_text or ""),
        after=mark,
    )


async def tap_and_see(harness: Harness, user: FakeUser, message: ApiCall, label: str) -> ApiCall:
    mark = harness.telegram.mark()
    user.tap(message, label)
    return await harness.telegram.wait_for(
        lambda call: call.ok and call.chat_id == user.id and call.method != "answerCallbackQuery",
        after=mark,
    )


async def alert_for(harness: Harness, user: FakeUser, message_id: int, data: str) -> str:
    mark = harness.telegram.mark()
    user.tap_data(message_id, data)
    answer = await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery" and "text" in call.params, after=mark
    )
    return normalise(str(answer.params["text"]))


def updates_of(harness: Harness, subscription_id: str) -> list[dict[str, object]]:
    """The subscription updates Stripe made, none of them repeated answers."""
    return [
        {**request.params, "key": request.idempotency_key}
        for request in harness.stripe.requests
        if request.method == "POST" and request.path == f"/v1/subscriptions/{subscription_id}"
        and request.status == 200 and not request.replayed
    ]


async def test_a_new_amount_applies_from_the_next_payment_counted_once_whatever_the_order(
    harness: Harness,
) -> None:
    user = harness.user(7101, "en")
    subscription_id = await give_monthly(harness, user, "€10 / month")
    stripe_sub = harness.stripe.subscriptions[subscription_id]
    product = stripe_sub["items"]["data"][0]["price"]["product"]
    next_payment = stripe_sub["items"]["data"][0]["current_period_end"]
    view = await open_view(harness, user, "My gifts", "Your monthly gifts")
    shown = view.rendered_text or ""
    assert "€10 / month" in shown and f"Next payment: {day(next_payment, 'en')}" in shown
    assert f"Giving since {day(stripe_sub['start_date'], 'en')}: €10 given so far" in shown

    prompt = await tap_and_see(harness, user, view, "Change amount")
    assert "€10 / month" not in str(prompt.buttons) and "€20 / month" in str(prompt.buttons)
    confirm = await tap_and_see(harness, user, prompt, "€20 / month")
    assert "will be €20 instead of €10" in (confirm.rendered_text or "")
    # A double tap: the same button twice before the first answer.
    data = confirm.button("Yes, change it").callback_data
    assert data is not None and confirm.message_id is not None
    mark = harness.telegram.mark()
    user.tap_data(confirm.message_id, data)
    user.tap_data(confirm.message_id, data)
    done = await harness.telegram.wait_for(
        lambda call: "your monthly gift is €20" in (call.rendered_text or ""), after=mark
    )
    assert f"From {day(next_payment, 'en')}" in (done.rendered_text or "")
    (update,) = updates_of(harness, subscription_id)
    assert update["proration_behavior"] == "none" and update["key"]
    assert update["items"] == [{
        "id": stripe_sub["items"]["data"][0]["id"],
        "price_data": {
            "currency": "eur", "product": product, "unit_amount": "2000",
            "recurring": {"interval": "month"},
        },
    }]
    assert stripe_sub["items"]["data"][0]["price"]["unit_amount"] == 2000

    # Stripe's announcement of the change, then an older one arriving late: the amount holds.
    (changed,) = harness.stripe.events_of_type("customer.subscription.updated")
    stale = copy.deepcopy(changed)
    stale["created"] -= 60
    stale["data"]["object"]["items"]["data"][0]["price"]["unit_amount"] = 1000
    await harness.deliver([changed, stale])
    view = await open_view(harness, user, "My gifts", "Your monthly gifts")
    assert "€20 / month" in (view.rendered_text or "")
    renewal = harness.stripe.renew_subscription(subscription_id)
    mark = harness.telegram.mark()
    await harness.deliver(renewal + renewal)
    thanks = await wait_for_thanks(harness, user, mark)
    assert "monthly gift of €20 arrived again" in (thanks.rendered_text or "")
    totals = await harness.totals()
    assert (totals.raised, totals.donations) == (3000, 2)
    # Stripe's word of the change again, later than the renewal: its older date stays behind.
    renewed_end = stripe_sub["items"]["data"][0]["current_period_end"]
    assert renewed_end > next_payment
    late = copy.deepcopy(changed)
    late["created"] += 120
    await harness.deliver([late])
    view = await open_view(harness, user, "My gifts", "Your monthly gifts")
    assert "€20 / month" in (view.rendered_text or "")
    assert f"Next payment: {day(renewed_end, 'en')}" in (view.rendered_text or "")
    assert "€30 given so far" in (view.rendered_text or "")
    # Half of the renewal refunded: what the donor reads as given leaves it out.
    renewal_payment = renewal[0]["data"]["object"]["payment_intent"]
    await harness.deliver(harness.stripe.refund(renewal_payment, 500))
    view = await open_view(harness, user, "My gifts", "Your monthly gifts")
    assert "€25 given so far" in (view.rendered_text or "")


async def test_a_typed_amount_is_checked_as_in_donate_then_confirmed(
    harness: Harness,
) -> None:
    user = harness.user(7102, "fr")
    subscription_id = await give_monthly(harness, user, "10\xa0€ / mois")
    view = await open_view(harness, user, "Mes dons", "Vos dons mensuels")
    prompt = await tap_and_see(harness, user, view, "Changer le montant")
    asked = await tap_and_see(harness, user, prompt, "Autre montant")
    assert "entre 2 € et 10 000 €" in normalise(asked.rendered_text)
    mark = harness.telegram.mark()
    user.send("1")
    refused = await harness.telegram.wait_for_message(user.id, after=mark)
    assert "Le plus petit don possible est de 2 €" in normalise(refused.rendered_text)
    mark = harness.telegram.mark()
    user.send("10")
    same = await harness.telegram.wait_for_message(user.id, after=mark)
    assert "déjà de 10 € : rien à changer" in normalise(same.rendered_text)
    await tap_and_see(harness, user, prompt, "Autre montant")
    mark = harness.telegram.mark()
    user.send("15,50")
    confirm = await harness.telegram.wait_for_message(user.id, after=mark)
    assert "sera de 15,50 € au lieu de 10 €" in normalise(confirm.rendered_text)
    done = await tap_and_see(harness, user, confirm, "Oui, le changer")
    assert "votre don mensuel est de 15,50 €" in normalise(done.rendered_text)
    price = harness.stripe.subscriptions[subscription_id]["items"]["data"][0]["price"]
    assert price["unit_amount"] == 1550

    # Stripe ends the gift (failed payments) and its word of it is still on the way.
    harness.stripe.cancel_subscription_event(subscription_id)
    assert done.message_id is not None
    alert = await alert_for(harness, user, done.message_id, f"mon:pm:{subscription_id}:1")
    assert "déjà terminé, rien n'a donc été modifié" in alert
    assert harness.stripe.subscriptions[subscription_id]["pause_collection"] is None
    mark = harness.telegram.mark()
    user.send("/donate")
    menu = await harness.telegram.wait_for_message(user.id, after=mark)
    assert "Mes dons mensuels" not in str(menu.buttons)


async def choose_language(harness: Harness, user: FakeUser, label: str) -> None:
    mark = harness.telegram.mark()
    user.send("/language")
    prompt = await harness.telegram.wait_for_message(user.id, after=mark)
    user.tap(prompt, label)
    await harness.telegram.wait_for(lambda call: call.method == "editMessageText", after=mark)


async def test_a_pause_resumes_by_itself_after_one_reminder_or_when_the_donor_says(
    harness: Harness,
) -> None:
    user = harness.user(7106, "fr")
    subscription_id = await give_monthly(harness, user, "10\xa0€ / mois")
    stripe_sub = harness.stripe.subscriptions[subscription_id]
    period_end = stripe_sub["items"]["data"][0]["current_period_end"]
    view = await open_view(harness, user, "Mes dons", "Vos dons mensuels")
    months = await tap_and_see(harness, user, view, "Mettre en pause")
    assert [button.text for button in months.buttons[0]] == ["1 mois", "2 mois", "3 mois"]
    paused = await tap_and_see(harness, user, months, "2 mois")
    resumes_at = add_months(period_end, 2) - 3600
    assert stripe_sub["pause_collection"] == {"behavior": "void", "resumes_at": resumes_at}
    assert f"jusqu'au {day(resumes_at, 'fr')}, date à laquelle il reprendra tout seul" in (
        normalise(paused.rendered_text)
    )

    # Two processes' checks at once, the day before: one reminder, in the language the donor
    # chose since.
    await choose_language(harness, user, "English")
    application = harness.bot.application
    assert application is not None and application.job_queue is not None
    services = application.bot_data.services
    assert services is not None
    (job,) = application.job_queue.get_jobs_by_name("monthly-resume-reminders")
    services.clock.offset = resumes_at - 12 * 3600 - time.time()
    mark = harness.telegram.mark()
    await asyncio.gather(job.run(application), job.run(application))
    reminder = await harness.telegram.wait_for_message(user.id, after=mark)
    assert "monthly gift of €10 resumes tomorrow" in normalise(reminder.rendered_text)
    await job.run(application)
    await harness.telegram.assert_no_message(user.id, after=reminder.index + 1, within=0.5)
    services.clock.offset = 0

    view = await open_view(harness, user, "My gifts", "Your monthly gifts")
    assert f"paused until {day(resumes_at, 'en')}" in normalise(view.rendered_text)
    first_resume = resumes_at
    # The two paused months pass unpaid; then Stripe collects again by itself.
    assert harness.stripe.renew_subscription(subscription_id) == []
    assert harness.stripe.renew_subscription(subscription_id) == []
    mark = harness.telegram.mark()
    await harness.deliver(harness.stripe.renew_subscription(subscription_id))
    renewal = await wait_for_thanks(harness, user, mark)
    # Thanked in the language the gift was made in (the subscription's), as every renewal.
    assert "don mensuel de 10 € est de nouveau arrivé" in normalise(renewal.rendered_text)
    period_end = stripe_sub["items"]["data"][0]["current_period_end"]
    view = await open_view(harness, user, "My gifts", "Your monthly gifts")
    assert f"Next payment: {day(period_end, 'en')}" in normalise(view.rendered_text)
    assert "€20 given so far" in normalise(view.rendered_text)

    # Paused again, in English, and resumed by the donor.
    months = await tap_and_see(harness, user, view, "Pause")
    paused = await tap_and_see(harness, user, months, "1 month")
    resumes_at = add_months(period_end, 1) - 3600
    assert f"nothing will be taken until {day(resumes_at, 'en')}" in normalise(
        paused.rendered_text
    )
    view = await open_view(harness, user, "My gifts", "Your monthly gifts")
    resumed = await tap_and_see(harness, user, view, "Resume")
    assert f"the next payment is on {day(period_end, 'en')}" in normalise(resumed.rendered_text)
    assert stripe_sub["pause_collection"] is None
    assert [update["pause_collection"] for update in updates_of(harness, subscription_id)] == [
        {"behavior": "void", "resumes_at": str(first_resume)},
        {"behavior": "void", "resumes_at": str(resumes_at)}, "",
    ]
    # Stripe's announcements out of order: the older pause, arriving last, undoes nothing.
    *_, pause_event, resume_event = harness.stripe.events_of_type(
        "customer.subscription.updated"
    )
    pause_event["created"] -= 60
    await harness.deliver([resume_event, pause_event])
    view = await open_view(harness, user, "My gifts", "Your monthly gifts")
    assert "Next payment" in (view.rendered_text or "")
    assert "Pause" in str(view.buttons)


async def test_update_card_opens_stripes_card_page_in_the_donors_language(
    harness: Harness,
) -> None:
    user = harness.user(7103, "fr")
    subscription_id = await give_monthly(harness, user, "5\xa0€ / mois")
    view = await open_view(harness, user, "Mes dons", "Vos dons mensuels")
    mark = harness.telegram.mark()
    user.tap(view, "Changer de carte")
    link = await harness.telegram.wait_for(
        lambda call: call.chat_id == user.id and any(
            button.url for row in call.buttons for button in row
        ),
        after=mark,
    )
    assert "page sécurisée de Stripe" in (link.rendered_text or "")
    (session,) = harness.stripe.portal_sessions.values()
    assert link.button("Changer ma carte").url == session["url"]
    customer = harness.stripe.subscriptions[subscription_id]["customer"]
    assert (session["customer"], session["locale"]) == (customer, "fr")
    assert session["flow"]["type"] == "payment_method_update"
    assert session["return_url"] == "https://t.me/fake_campaign_bot"
    (request,) = [r for r in harness.stripe.requests if r.path == "/v1/billing_portal/sessions"]
    assert request.idempotency_key
    # The same button again after choosing English: a page in English, not Stripe's refusal
    # of a key reused with other parameters.
    await choose_language(harness, user, "English")
    mark = harness.telegram.mark()
    user.tap(view, "Changer de carte")
    link = await harness.telegram.wait_for(
        lambda call: call.chat_id == user.id and any(
            button.url for row in call.buttons for button in row
        ),
        after=mark,
    )
    assert "Stripe's secure page" in (link.rendered_text or "")
    assert [s["locale"] for s in harness.stripe.portal_sessions.values()] == ["fr", "en"]
    assert link.button("Update my card").url == list(harness.stripe.portal_sessions.values())[1][
        "url"
    ]
    await choose_language(harness, user, "Français")
    # A new card saved there: Stripe's word of it, delivered twice, is told once in the chat.
    mark = harness.telegram.mark()
    changed = harness.stripe.change_default_card(customer)
    await harness.deliver(changed + changed)
    told = await harness.telegram.wait_for_message(user.id, after=mark)
    assert "La carte de votre don mensuel est bien changée" in (told.rendered_text or "")
    await harness.telegram.assert_no_message(user.id, after=told.index + 1, within=0.5)
    # With a public address, the card page sends the donor to the bot's own page.
    assert portal_return_url("https://bot.example.org", "x", "fr") == (
        "https://bot.example.org/monthly/card?lang=fr"
    )
    async with aiohttp.ClientSession() as http, http.get(
        f"{harness.http}/monthly/card?lang=fr"
    ) as response:
        assert response.status == 200
        assert "Vos coordonnées bancaires" in await response.text()

    # A gift whose customer the bot never kept, and Stripe names none: said so, nothing made.
    assert harness.bot.redis is not None
    await harness.bot.redis.hdel(keys.subscription(subscription_id), "customer")
    harness.stripe.subscriptions[subscription_id]["customer"] = None
    data = view.button("Changer de carte").callback_data
    assert data is not None and view.message_id is not None
    assert "Je ne trouve pas chez Stripe" in await alert_for(harness, user, view.message_id, data)
    assert len(harness.stripe.portal_sessions) == 2


async def test_a_gift_linked_by_the_release_before_shows_what_the_ledger_holds_of_it(
    harness: Harness,
) -> None:
    user = harness.user(7107, "fr")
    subscription_id = await give_monthly(harness, user, "5\xa0€ / mois")
    start = harness.stripe.subscriptions[subscription_id]["start_date"]
    mark = harness.telegram.mark()
    await harness.deliver(harness.stripe.renew_subscription(subscription_id))
    await wait_for_thanks(harness, user, mark)
    # The gift's hash as the release before wrote it: no history, no invoice marks.
    redis = harness.bot.redis
    assert redis is not None
    await redis.delete(keys.subscription(subscription_id), keys.subscriptions_backfilled())
    await redis.hset(keys.subscription(subscription_id), mapping={
        "user_id": user.id, "amount": 500, "currency": "EUR", "locale": "fr",
        "status": "active",
    })
    application = harness.bot.application
    assert application is not None and application.bot_data.services is not None
    monthly = application.bot_data.services.monthly
    # Start-up counts the ledger's invoices into it, once however often it runs.
    await asyncio.gather(monthly.count_earlier_invoices(), monthly.count_earlier_invoices())
    await redis.delete(keys.subscriptions_backfilled())
    await monthly.count_earlier_invoices()
    view = await open_view(harness, user, "Mes dons", "Vos dons mensuels")
    shown = normalise(view.rendered_text)
    assert f"Vous donnez depuis le {day(start, 'fr')} : 10 € donnés jusqu'ici" in shown
    # The next payment is not known until Stripe tells it: no line rather than a dash.
    assert "Prochain paiement" not in shown and "—" not in shown
    prompt = await tap_and_see(harness, user, view, "Changer le montant")
    confirm = await tap_and_see(harness, user, prompt, "20\xa0€ / mois")
    assert "À partir du prochain paiement, votre don mensuel sera de 20 €" in normalise(
        confirm.rendered_text
    )


def test_french_writes_the_first_of_the_month_1er() -> None:
    first, second = date(2026, 12, 1), date(2026, 12, 2)
    assert (long_date(first, "fr"), long_date(second, "fr")) == (
        "1er décembre 2026", "2 décembre 2026"
    )
    assert long_date(first, "en") == "December 1, 2026"


async def test_forged_buttons_and_an_ended_gift_change_nothing(harness: Harness) -> None:
    donor = harness.user(7104, "en")
    subscription_id = await give_monthly(harness, donor, "€10 / month")
    view = await open_view(harness, donor, "My gifts", "Your monthly gifts")
    assert view.message_id is not None
    buttons = {
        label: view.button(label).callback_data
        for label in ("Change amount", "Pause", "Update card")
    }
    forged = {
        **{label: str(data) for label, data in buttons.items()},
        "pause 3 months": f"mon:pm:{subscription_id}:3",
        "confirm €1,000,000": f"mon:ay:{subscription_id}:100000000",
        "resume": f"mon:r:{subscription_id}",
    }
    intruder = harness.user(7105, "fr")
    for data in forged.values():
        alert = await alert_for(harness, intruder, view.message_id, data)
        assert alert == "Ce bouton concerne le don de quelqu'un d'autre."
    # The donor's own forged amount is beyond what the bot would ever offer.
    assert "no longer valid" in await alert_for(
        harness, donor, view.message_id, f"mon:ay:{subscription_id}:100000000"
    )

    confirm = await tap_and_see(harness, donor, view, "Stop")
    stopped = await tap_and_see(harness, donor, confirm, "Yes, stop it")
    assert "is stopped" in (stopped.rendered_text or "")
    for data in forged.values():
        alert = await alert_for(harness, donor, view.message_id, data)
        assert "already ended, so nothing was changed" in alert
    assert updates_of(harness, subscription_id) == []
    assert harness.stripe.portal_sessions == {}
    assert harness.stripe.subscriptions[subscription_id]["pause_collection"] is None

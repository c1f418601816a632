"""Once the campaign is over, every monthly gift is stopped at Stripe, a forgotten donor's too,
and each donor told why once; the /close preview says how many will be stopped."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import ADMIN_ID, Harness
from tests.donation_steps import normalise, pay, pledge, wait_for_thanks
from tests.fakes.telegram import ApiCall, FakeUser
from tests.forget_steps import forget
from tests.test_closing import bot_env, end_date
from tests.test_insight import clock, insight, run_job

__all__ = ["bot_env", "end_date", "insight"]

STOPPED = {
    "en": "The campaign is over, so your monthly gift has been stopped: nothing more will be "
    "taken. Thank you for everything you gave.",
    "fr": "La campagne est terminée, votre don mensuel a donc été arrêté : plus rien ne sera "
    "prélevé. Merci pour tout ce que vous avez donné.",
}
MONTHLY = {"en": "€20 / month", "fr": "10\xa0€ / mois"}


async def give_monthly(harness: Harness, user: FakeUser, locale: str) -> str:
    """A monthly gift, paid and thanked; returns its subscription id."""
    _, session_id = await pledge(harness, user, MONTHLY[locale], monthly=True)
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    await wait_for_thanks(harness, user, mark)
    return str(harness.stripe.sessions[session_id]["subscription"])


def cancels(harness: Harness) -> list[str]:
    return [
        request.path.rsplit("/", 1)[1] for request in harness.stripe.requests
        if request.method == "DELETE" and request.status == 200
    ]


def told_stopped(harness: Harness, chat_id: int) -> list[ApiCall]:
    return [
        call for call in harness.telegram.sent_to(chat_id)
        if "monthly gift has been stopped" in (call.rendered_text or "")
        or "don mensuel a donc été arrêté" in normalise(call.rendered_text)
    ]


async def deliver_deletions(harness: Harness) -> None:
    await harness.deliver(harness.stripe.events_of_type("customer.subscription.deleted"))


async def close_campaign(harness: Harness) -> ApiCall:
    """/close now, both texts written; returns the preview's summary, after confirming it."""
    admin, telegram = harness.user(ADMIN_ID, "en"), harness.telegram
    mark = telegram.mark()
    admin.send("/close")
    question = await telegram.wait_for_message(ADMIN_ID, after=mark)
    mark = telegram.mark()
    admin.tap(question, "Close it now")
    await telegram.wait_for_message(ADMIN_ID, after=mark)
    mark = telegram.mark()
    admin.send("CLOSE-EN")
    await telegram.wait_for_message(ADMIN_ID, after=mark)
    mark = telegram.mark()
    admin.send("CLOSE-FR")
    summary = await telegram.wait_for(
        lambda call: call.chat_id == ADMIN_ID
        and "Ready to send the closing report" in (call.rendered_text or ""),
        after=mark,
    )
    mark = telegram.mark()
    admin.tap(summary, "Close and send")
    await telegram.wait_for(
        lambda call: call.method == "editMessageText" and call.chat_id == ADMIN_ID
        and "is complete" in (call.rendered_text or ""),
        after=mark, timeout=30,
    )
    return summary


async def test_closing_stops_every_monthly_gift_and_tells_each_donor_once(
    insight: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness, telegram = insight, insight.telegram
    english, french, forgotten = (
        harness.user(7301, "en"), harness.user(7302, "fr"), harness.user(7303, "en")
    )
    gifts = {
        english.id: await give_monthly(harness, english, "en"),
        french.id: await give_monthly(harness, french, "fr"),
        forgotten.id: await give_monthly(harness, forgotten, "en"),
    }
    await forget(harness, forgotten)
    await run_job(harness, "monthly-stop")
    assert cancels(harness) == [], "nothing is stopped while the campaign is open"

    summary = await close_campaign(harness)
    assert "The 3 monthly gifts still running will be stopped at Stripe" in (
        summary.rendered_text or ""
    )

    # Stripe down: nothing cancelled, one line logged, the next run does it all.
    caplog.set_level(logging.WARNING, logger="bot.donations.monthly_stop")
    harness.stripe.fail_next(status=503, path_prefix="/v1/subscriptions/", should_retry=False)
    await run_job(harness, "monthly-stop")
    assert cancels(harness) == []
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.donations.monthly_stop"]
    assert "next run retries" in line and harness.env["STRIPE_SECRET_KEY"] not in line

    await run_job(harness, "monthly-stop")
    assert sorted(cancels(harness)) == sorted(gifts.values())
    assert {harness.stripe.subscriptions[s]["status"] for s in gifts.values()} == {"canceled"}
    # Again before Stripe's events arrive: the gifts still active are not asked twice.
    await run_job(harness, "monthly-stop")
    assert len([r for r in harness.stripe.requests if r.method == "DELETE"]) == 1 + 3
    mark = telegram.mark()
    await deliver_deletions(harness)
    for donor, locale in ((english, "en"), (french, "fr")):
        notice = await telegram.wait_for_message(donor.id, after=mark)
        assert normalise(notice.rendered_text) == STOPPED[locale]

    # Stripe's events again, and the job again: nothing more is cancelled, nobody told twice.
    mark = telegram.mark()
    await deliver_deletions(harness)
    await run_job(harness, "monthly-stop")
    assert len([r for r in harness.stripe.requests if r.method == "DELETE"]) == 1 + 3
    await telegram.assert_no_message(english.id, after=mark)
    assert [len(told_stopped(harness, d.id)) for d in (english, french, forgotten)] == [1, 1, 0]


async def test_after_the_end_date_monthly_gifts_stop_without_close(insight: Harness) -> None:
    harness, telegram = insight, insight.telegram
    donor = harness.user(7401, "fr")
    subscription_id = await give_monthly(harness, donor, "fr")
    # Already cancelled at Stripe, its event not yet here: the bot's cancel is harmless.
    ended = harness.stripe.cancel_subscription_event(subscription_id)
    await run_job(harness, "monthly-stop")
    assert cancels(harness) == []
    clock(harness).offset += 80 * 365 * 86400

    await run_job(harness, "monthly-stop")
    deletes = [r for r in harness.stripe.requests if r.method == "DELETE"]
    assert [r.path for r in deletes] == [f"/v1/subscriptions/{subscription_id}"]
    assert deletes[0].status == 400
    mark = telegram.mark()
    await harness.deliver(ended)
    notice = await telegram.wait_for_message(donor.id, after=mark)
    assert normalise(notice.rendered_text) == STOPPED["fr"]
    await run_job(harness, "monthly-stop")
    assert len([r for r in harness.stripe.requests if r.method == "DELETE"]) == 1

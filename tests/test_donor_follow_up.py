"""After the payment: public words, first name, monthly management, landing pages, outages."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.app import CampaignBot
from tests.conftest import Harness, settings_from
from tests.donation_steps import normalise, pay, pledge, wait_for_thanks
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI


async def test_donor_leaves_words_and_name_shown_escaped_on_progress(harness: Harness) -> None:
    user = harness.user(4001, "en")
    _, session_id = await pledge(harness, user, "€10")
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    thanks = await wait_for_thanks(harness, user, mark)

    mark = harness.telegram.mark()
    user.tap(thanks, "Show my first name")
    await harness.telegram.wait_for(lambda call: call.method == "answerCallbackQuery", after=mark)
    user.tap(thanks, "word of support")
    prompt = await harness.telegram.wait_for_message(4001, after=mark)
    assert "up to 200 characters" in (prompt.rendered_text or "")
    mark = harness.telegram.mark()
    user.send("Courage <b>to all</b> & thank you")
    saved = await harness.telegram.wait_for_message(4001, after=mark)
    assert "Thank you for your words" in (saved.rendered_text or "")

    mark = harness.telegram.mark()
    harness.user(4002, "fr").send("/progress")
    progress = await harness.telegram.wait_for_message(4002, after=mark)
    assert "« Courage <b>to all</b> & thank you » — Camille" in normalise(progress.rendered_text)


async def test_words_longer_than_the_limit_are_refused(harness: Harness) -> None:
    user = harness.user(4003, "en")
    _, session_id = await pledge(harness, user, "€5")
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    thanks = await wait_for_thanks(harness, user, mark)
    mark = harness.telegram.mark()
    user.tap(thanks, "word of support")
    await harness.telegram.wait_for_message(4003, after=mark)
    mark = harness.telegram.mark()
    user.send("x" * 250)
    refusal = await harness.telegram.wait_for_message(4003, after=mark)
    assert "That is 250 characters" in (refusal.rendered_text or "")


async def test_another_user_cannot_use_a_donors_buttons(harness: Harness) -> None:
    donor = harness.user(4004, "en")
    _, session_id = await pledge(harness, donor, "€5")
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    thanks = await wait_for_thanks(harness, donor, mark)
    intruder = harness.user(4005, "en")
    data = thanks.button("Show my first name").callback_data
    assert data is not None
    mark = harness.telegram.mark()
    intruder.tap_data(thanks.message_id or 0, data)
    answer = await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery", after=mark
    )
    assert "someone else's gift" in str(answer.params.get("text"))


async def test_monthly_donor_stops_the_gift_from_the_chat(harness: Harness) -> None:
    user = harness.user(4006, "fr")
    _, session_id = await pledge(harness, user, "10\xa0€ / mois", monthly=True)
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    await wait_for_thanks(harness, user, mark)
    subscription_id = harness.stripe.sessions[session_id]["subscription"]

    mark = harness.telegram.mark()
    user.send("/donate")
    menu = await harness.telegram.wait_for_message(4006, after=mark)
    user.tap(menu, "Mes dons")
    listing = await harness.telegram.wait_for(
        lambda call: call.chat_id == 4006 and "Vos dons mensuels" in (call.rendered_text or ""),
        after=mark,
    )
    user.tap(listing, "Arrêter")
    confirm = await harness.telegram.wait_for_edit(4006, after=mark)
    user.tap(confirm, "Oui")
    done = await harness.telegram.wait_for(
        lambda call: "est arrêté" in (call.rendered_text or ""), after=mark
    )
    assert "10 €" in normalise(done.rendered_text)
    assert harness.stripe.subscriptions[subscription_id]["status"] == "canceled"

    # Stripe's own announcement of the cancellation must not make the bot say it again.
    deleted = harness.stripe.events_of_type("customer.subscription.deleted")
    mark = harness.telegram.mark()
    await harness.deliver(deleted or harness.stripe.cancel_subscription_event(subscription_id))
    await harness.telegram.assert_no_message(4006, after=mark, within=0.5)
    mark = harness.telegram.mark()
    user.send("/donate")
    menu = await harness.telegram.wait_for_message(4006, after=mark)
    assert "Mes dons" not in str(menu.buttons)


async def test_gift_ended_by_stripe_is_announced_once(harness: Harness) -> None:
    user = harness.user(4007, "en")
    _, session_id = await pledge(harness, user, "€20 / month", monthly=True)
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    await wait_for_thanks(harness, user, mark)
    subscription_id = harness.stripe.sessions[session_id]["subscription"]
    ended = harness.stripe.cancel_subscription_event(subscription_id)
    mark = harness.telegram.mark()
    await harness.deliver(ended)
    await harness.deliver(ended)
    notice = await harness.telegram.wait_for_message(4007, after=mark)
    assert "monthly gift has ended" in (notice.rendered_text or "")
    await harness.telegram.assert_no_message(4007, after=notice.index + 1, within=0.5)


async def test_referral_code_travels_into_stripe_metadata(harness: Harness) -> None:
    user = harness.user(4008, "en")
    mark = harness.telegram.mark()
    user.send("/start calais_school-42")
    await harness.telegram.wait_for_message(4008, after=mark)
    _, session_id = await pledge(harness, user, "€5")
    assert harness.stripe.sessions[session_id]["metadata"]["referral"] == "calais_school-42"


async def test_landing_pages_speak_the_donors_language(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    port = bot_env["HTTP_PORT"]
    bot = CampaignBot(settings_from({**bot_env, "PUBLIC_URL": f"http://127.0.0.1:{port}"}))
    await bot.start()
    try:
        harness = Harness(bot, telegram, stripe_server, bot_env)
        _, session_id = await pledge(harness, harness.user(4009, "fr"), "5\xa0€")
        session = stripe_server.sessions[session_id]
        success = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
        async with aiohttp.ClientSession() as http:
            async with http.get(success) as response:
                page = await response.text()
                assert response.status == 200
            assert '<html lang="fr">' in page
            assert "Merci pour votre don" in page
            assert 'href="https://t.me/fake_campaign_bot"' in page
            async with http.get(session["cancel_url"]) as response:
                assert "Aucun paiement" in await response.text()
            async with http.get(
                f"http://127.0.0.1:{port}/donate/cancel", headers={"Accept-Language": "de-DE"}
            ) as response:
                assert "No payment was made" in await response.text()
    finally:
        await bot.stop()


async def test_webhook_answers_503_while_redis_is_down_so_stripe_retries(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe, tmp_path: object
) -> None:
    env = {k: v for k, v in bot_env.items() if k != "REDIS_URL"}
    bot = CampaignBot(settings_from(env))
    await bot.start()
    try:
        harness = Harness(bot, telegram, stripe_server, env)
        _, session_id = await pledge(harness, harness.user(4010, "en"), "€10")
        events = stripe_server.complete_session(session_id)
        assert bot.embedded_store is not None
        await bot.embedded_store.kill()
        assert await stripe_server.deliver(events[0], harness.webhook_url) == 503
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{harness.http}/readyz") as response,
        ):
            assert response.status == 503
        await bot.embedded_store.start()
        for _ in range(50):
            if await stripe_server.deliver(events[0], harness.webhook_url) == 200:
                break
            await asyncio.sleep(0.1)
        totals = await harness.totals()
        assert (totals.raised, totals.donations) == (1000, 1)
    finally:
        await bot.stop()


async def test_thank_you_that_telegram_refused_is_sent_after_a_restart(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    bot = CampaignBot(settings_from(bot_env))
    await bot.start()
    harness = Harness(bot, telegram, stripe_server, bot_env)
    try:
        user = harness.user(4011, "en")
        _, session_id = await pledge(harness, user, "€10")
        telegram.fail_next("sendMessage", status=502, description="Bad Gateway", chat_id=4011)
        mark = telegram.mark()
        await pay(harness, session_id)
        await telegram.wait_for(
            lambda call: call.method == "sendMessage" and not call.ok, after=mark
        )
    finally:
        await bot.stop()
    bot = CampaignBot(settings_from(bot_env))
    await bot.start()
    try:
        thanks = await wait_for_thanks(harness, harness.user(4011, "en"), mark)
        assert "Your gift of €10 has arrived" in (thanks.rendered_text or "")
    finally:
        await bot.stop()

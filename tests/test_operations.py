"""Operating the bot: webhook mode, metrics."""

from __future__ import annotations

import json

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.app import CampaignBot
from tests.conftest import ADMIN_ID, Harness, settings_from
from tests.donation_steps import pay, pledge
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI

SECRET = "s3cret_token-1"


async def test_webhook_mode_registers_checks_the_secret_and_handles_each_update_once(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    base = f"http://127.0.0.1:{bot_env['HTTP_PORT']}"
    env = {**bot_env, "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": SECRET,
           "PUBLIC_URL": base}
    bot = CampaignBot(settings_from(env))
    await bot.start()
    try:
        assert telegram.webhook_url == f"{base}/telegram/webhook"
        assert telegram.webhook_secret == SECRET
        assert not telegram.calls_to("getUpdates"), "no polling in webhook mode"
        update_id = telegram.user(9001, language_code="fr").send("/help")
        body = json.dumps(telegram.pushed[update_id])
        url = f"{base}/telegram/webhook"
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(url, data=body, headers=headers) as response:
                    assert response.status == 403
            mark = telegram.mark()
            good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            for _ in range(3):
                async with http.post(url, data=body, headers=good) as response:
                    assert response.status == 200
            reply = await telegram.wait_for_message(9001, after=mark)
            assert "ce que je sais faire" in (reply.rendered_text or "")
            await telegram.assert_no_message(9001, after=reply.index + 1, within=0.5)
            async with http.post(url, data="not json", headers=good) as response:
                assert response.status == 400
    finally:
        await bot.stop()
    assert not telegram.calls_to("deleteWebhook"), "the webhook it set stays in place"


async def test_polling_mode_has_no_telegram_webhook_endpoint(harness: Harness) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{harness.http}/telegram/webhook", data="{}") as response,
    ):
        assert response.status == 404


def metric_value(text: str, name: str, labels: dict[str, str]) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


async def test_metrics_count_what_happened(harness: Harness) -> None:
    user = harness.user(9100, "en")
    _, session_id = await pledge(harness, user, "€20")
    events = await pay(harness, session_id)
    await harness.deliver(events)
    harness.telegram.fail_next("sendMessage", status=403, chat_id=9100,
                               description="Forbidden: bot was blocked by the user")
    mark = harness.telegram.mark()
    user.send("/help")
    await harness.telegram.wait_for(lambda call: not call.ok, after=mark)
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{harness.http}/metrics") as response,
    ):
        assert response.status == 200
        text = await response.text()
    assert metric_value(text, "campaign_donations_total", {"kind": "once"}) == 1
    assert metric_value(text, "campaign_donation_amount_minor_total", {"kind": "once"}) == 2000
    assert metric_value(
        text, "campaign_stripe_webhook_events_total",
        {"type": "checkout.session.completed", "outcome": "recorded"},
    ) == 1
    assert metric_value(
        text, "campaign_stripe_webhook_events_total",
        {"type": "checkout.session.completed", "outcome": "duplicate"},
    ) >= 1
    assert metric_value(text, "campaign_telegram_api_errors_total", {"code": "403"}) == 1
    assert metric_value(text, "campaign_handler_seconds_count", {"kind": "message"}) >= 1


async def test_reconciliation_heals_missed_webhooks_once_and_reports_it(
    harness: Harness,
) -> None:
    assert harness.bot.application is not None and harness.bot.application.job_queue
    (job,) = harness.bot.application.job_queue.get_jobs_by_name("reconcile")
    once_user, monthly_user = harness.user(9400, "fr"), harness.user(9401, "en")
    _, once = await pledge(harness, once_user, "20\xa0€")
    _, monthly = await pledge(harness, monthly_user, "€10 / month", monthly=True)
    harness.stripe.complete_session(once)  # paid, but the webhook never arrives
    harness.stripe.complete_session(monthly)
    assert (await harness.totals()).donations == 0

    mark = harness.telegram.mark()
    await job.run(harness.bot.application)
    totals = await harness.totals()
    assert (totals.raised, totals.donations) == (3000, 2)
    report = await harness.telegram.wait_for_message(ADMIN_ID, after=mark)
    assert "2 donations (€30) had been paid without reaching the bot" in (
        report.rendered_text or ""
    )
    thanks = await harness.telegram.wait_for(
        lambda call: call.chat_id == 9400 and "💛" in (call.rendered_text or ""), after=mark
    )
    assert "20" in (thanks.rendered_text or "")

    mark = harness.telegram.mark()
    await job.run(harness.bot.application)
    assert (await harness.totals()).donations == 2
    await harness.telegram.assert_no_message(ADMIN_ID, after=mark, within=0.5)


async def run_check(env: dict[str, str]) -> tuple[int, str]:
    import asyncio
    import os
    import sys

    from tests.conftest import ROOT

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check", cwd=ROOT, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), 30)
    return int(process.returncode or 0), stdout.decode()


async def test_check_command_reaches_every_service(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    code, output = await run_check(bot_env)
    lines = output.strip().splitlines()
    assert code == 0, output
    assert [line.split(":")[0] for line in lines] == [
        "ok    configuration", "ok    redis", "ok    telegram", "ok    stripe",
    ]
    assert "@fake_campaign_bot" in lines[2]
    assert "acct_fake_campaign (test mode)" in lines[3]
    assert bot_env["STRIPE_SECRET_KEY"] not in output


async def test_check_command_names_what_fails(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    env = {**bot_env, "TELEGRAM_BOT_TOKEN": "654321:WRONG-token-abcdefghijklmnopqrstuvwxyz",
           "REDIS_URL": "redis://127.0.0.1:1/0"}
    code, output = await run_check(env)
    assert code == 1
    assert "FAIL  redis: cannot reach REDIS_URL" in output
    assert "FAIL  telegram:" in output
    assert "ok    stripe" in output
    assert "WRONG-token" not in output


async def test_rejected_token_stops_the_bot_with_one_line_and_no_secret(
    bot_env: dict[str, str], telegram: FakeBotAPI
) -> None:
    import asyncio
    import os
    import sys

    from tests.conftest import ROOT

    token = "654321:WRONG-token-abcdefghijklmnopqrstuvwxyz"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT,
        env={**os.environ, **bot_env, "TELEGRAM_BOT_TOKEN": token, "LOG_FORMAT": "json"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    text = stderr.decode()
    assert process.returncode == 1
    assert "start-up failed: InvalidToken" in text
    assert "WRONG-token" not in text
    for line in text.splitlines():
        if line.startswith("{"):
            assert json.loads(line)["level"] in ("INFO", "WARNING", "ERROR")

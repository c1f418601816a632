"""Operating the bot: webhook mode, metrics, reconciliation, the check command."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.app import CampaignBot
from tests.conftest import ADMIN_ID, ROOT, Harness, free_port, running_bot, settings_from
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
        (registered,) = telegram.calls_to("setWebhook")
        assert str(registered.params.get("max_connections")) == "100", "Telegram's most, not 40"
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


async def test_metrics_count_what_happened(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    token = "operations-metrics-token-42"
    env = {**bot_env, "METRICS_TOKEN": token}
    async with running_bot(env, telegram, stripe_server) as harness:
        await _count_what_happened(harness, {"Authorization": f"Bearer {token}"})


async def _count_what_happened(harness: Harness, headers: dict[str, str]) -> None:
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
        http.get(f"{harness.http}/metrics", headers=headers) as response,
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


async def run_check(env: dict[str, str]) -> tuple[int, list[str]]:
    """`python -m bot check`: its exit code and its lines, insisting nothing else is written."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check", cwd=ROOT, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert not stderr, stderr.decode()
    lines = stdout.decode().splitlines()
    # One line per check, each naming the service and its state.
    assert [line.split(":")[0].split()[1] for line in lines] == [
        "configuration", "redis", "durability", "telegram", "stripe",
    ], lines
    return int(process.returncode or 0), lines


async def test_check_command_reaches_every_service(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    code, lines = await run_check(bot_env)
    assert code == 0, lines
    assert all(line.startswith("ok    ") for line in lines), lines
    redis_url = bot_env["REDIS_URL"]
    assert lines[1].startswith(f"ok    redis: reached at REDIS_URL={redis_url}, Valkey 9."), lines
    assert lines[2] == "ok    durability: append-only, fsync on every write"
    assert lines[3] == "ok    telegram: token accepted, the bot is @fake_campaign_bot"
    assert lines[4] == "ok    stripe: key accepted for account acct_fake_campaign (test mode)"


async def test_check_command_names_what_fails_and_what_to_check(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    redis_port, stripe_url = free_port(), f"http://127.0.0.1:{free_port()}"
    env = {**bot_env, "TELEGRAM_BOT_TOKEN": "654321:WRONG-token-abcdefghijklmnopqrstuvwxyz",
           "REDIS_URL": f"redis://:hunter2@127.0.0.1:{redis_port}/0",
           "STRIPE_API_BASE": stripe_url}
    code, lines = await run_check(env)
    assert code == 1
    assert lines[0].startswith("ok    configuration: polling mode")
    assert lines[1].startswith(
        f"FAIL  redis: could not be reached at REDIS_URL=redis://:***@127.0.0.1:{redis_port}/0 ("
    ), lines
    assert lines[2] == "WARN  durability: unknown, Redis was not reached"
    assert lines[3] == (
        "FAIL  telegram: refused TELEGRAM_BOT_TOKEN (Unauthorized): "
        "check the token @BotFather gave you"
    )
    # Stripe's own message spans four lines; the check's stays on one.
    assert lines[4].startswith(
        f"FAIL  stripe: could not be reached at STRIPE_API_BASE={stripe_url} "
        "(Cannot connect to host"
    ), lines
    assert lines[4].endswith("): check STRIPE_API_BASE and the network")
    assert not any("WRONG-token" in line or "hunter2" in line for line in lines)


async def test_check_command_names_an_unwritable_data_dir_and_a_refused_stripe_key(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe, tmp_path: Path
) -> None:
    # Under a regular file: unwritable even for root, who ignores permission bits.
    (tmp_path / "a-file").write_text("")
    data = tmp_path / "a-file" / "data"
    env = {**bot_env, "DATA_DIR": str(data), "STRIPE_SECRET_KEY": "sk_test_wrong_key_9876"}
    env.pop("REDIS_URL")
    code, lines = await run_check(env)
    assert code == 1
    assert lines[1] == (
        f"FAIL  redis: DATA_DIR={data} is not writable (Not a directory); set DATA_DIR to a "
        "folder this user can write, or REDIS_URL to an external server"
    )
    # The embedded server is always started with fsync on every write.
    assert lines[2] == "ok    durability: embedded Valkey, append-only, fsync on every write"
    assert lines[3].startswith("ok    telegram")
    assert lines[4].startswith("FAIL  stripe: refused STRIPE_SECRET_KEY (Invalid API Key provided")
    assert lines[4].endswith("check the key in the Stripe dashboard (Developers, API keys)")
    assert "sk_test_wrong_key_9876" not in lines[4]

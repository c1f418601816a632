"""A whole scenario at LOG_LEVEL=DEBUG: no token, key, secret, name or message text in the logs."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from bot.broadcasts.store import BroadcastContent, BroadcastStatus, BroadcastStore
from bot.storage.connection import connect
from tests.conftest import ADMIN_ID, ROOT, Harness, kill_if_running
from tests.donation_steps import pledge
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI
from tests.test_lifecycle import wait_until_ready

SECRET_WORDS = "Mots secrets du donateur 4711"
BROADCAST_TEXT = "Corps de la diffusion 9934"
FIRST_NAME = "Hortense"
USERNAME = "hortense_private_handle"


async def test_debug_logs_of_a_full_scenario_hold_no_secret_and_no_message_text(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    env = {**os.environ, **bot_env, "LOG_LEVEL": "DEBUG"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        port = bot_env["HTTP_PORT"]
        await wait_until_ready(f"http://127.0.0.1:{port}/readyz")
        harness = Harness(None, telegram, stripe_server, bot_env)  # type: ignore[arg-type]
        user = telegram.user(13_001, language_code="fr", first_name=FIRST_NAME, username=USERNAME)
        mark = telegram.mark()
        user.send("/start ecole-9")
        await telegram.wait_for_message(13_001, after=mark, timeout=10)
        mark = telegram.mark()
        user.send("/subscribe")
        await telegram.wait_for_message(13_001, after=mark)
        # A fresh process's first Checkout Session: once (CI, a busy machine) it took over 5 s.
        _, session_id = await pledge(harness, user, "10\xa0€", timeout=20)
        mark = telegram.mark()
        statuses = await stripe_server.deliver_all(
            stripe_server.complete_session(session_id),
            f"http://127.0.0.1:{port}/stripe/webhook",
        )
        assert statuses == [200]
        thanks = await telegram.wait_for(
            lambda c: c.ok and c.chat_id == 13_001 and "💛" in (c.text or ""), after=mark
        )
        user.tap(thanks, "mot de soutien")
        await telegram.wait_for_message(13_001, after=thanks.index + 1)
        mark = telegram.mark()
        user.send(SECRET_WORDS)
        await telegram.wait_for_message(13_001, after=mark)
        redis = connect(bot_env["REDIS_URL"])
        store = BroadcastStore(redis)
        broadcast_id = await store.create(
            BroadcastContent({"fr": BROADCAST_TEXT}), created_by=ADMIN_ID, admin_locale="fr",
            progress_chat=ADMIN_ID, progress_message=1,
        )
        for _ in range(100):
            found = await store.get(broadcast_id)
            if found is not None and found.status is BroadcastStatus.DONE:
                break
            await asyncio.sleep(0.1)
        await redis.aclose()
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 15)
    finally:
        await kill_if_running(process)
    logs = stderr.decode()
    assert "level=DEBUG" in logs, "the scenario really ran at DEBUG"
    assert "donation recorded" in logs
    forbidden = [
        bot_env["TELEGRAM_BOT_TOKEN"], bot_env["TELEGRAM_BOT_TOKEN"].split(":")[1],
        bot_env["STRIPE_SECRET_KEY"], bot_env["STRIPE_WEBHOOK_SECRET"], "sk_test", "sk_live",
        "whsec_", SECRET_WORDS, BROADCAST_TEXT, FIRST_NAME, USERNAME, "Merci !",
        "Aidons les réfugiés",
    ]
    leaked = [item for item in forbidden if item in logs]
    assert leaked == []

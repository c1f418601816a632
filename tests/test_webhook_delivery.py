"""Webhook mode: 200 only once an update is handled; one a dying process held is not lost."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Any

import aiohttp
import pytest

from bot.storage import keys
from bot.storage.connection import as_text, connect
from bot.web.telegram_webhook import WEBHOOK_PATH
from tests.conftest import free_port, running_bot
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI
from tests.test_webhook_processes import bot_processes

SECRET = "delivery-secret-20"
GOOD = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def webhook_env(bot_env: dict[str, str], base: str) -> dict[str, str]:
    return {**bot_env, "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "PUBLIC_URL": base}


async def deliver(
    http: aiohttp.ClientSession, base: str, update: dict[str, Any]
) -> tuple[int, str | None]:
    """One POST as Telegram makes it: the status, and Retry-After if any."""
    async with http.post(
        f"{base}{WEBHOOK_PATH}", data=json.dumps(update), headers=GOOD
    ) as response:
        return response.status, response.headers.get("Retry-After")


async def claimed(redis_url: str, update_id: int, timeout: float = 10) -> None:
    """Wait until a delivery holds the update's claim: its handling has begun."""
    redis = connect(redis_url)
    try:
        async with asyncio.timeout(timeout):
            while True:
                held = as_text(await redis.get(keys.telegram_update(update_id)))
                if held not in (None, "done"):
                    return
                await asyncio.sleep(0.02)
    finally:
        await redis.aclose()


async def test_a_redelivery_during_the_handling_is_refused_and_the_200_waits_for_the_reply(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    base = f"http://127.0.0.1:{bot_env['HTTP_PORT']}"
    env = {**webhook_env(bot_env, base), "BROADCAST_RECOVERY_SECONDS": "2"}
    async with running_bot(env, telegram, stripe_server), aiohttp.ClientSession() as http:
        user = 9101
        update_id = telegram.user(user).send("/help")
        update = telegram.pushed[update_id]
        # Longer than the 2 s claim, as a reply waiting out Telegram's 429 pause.
        telegram.delay_next("sendMessage", seconds=3.5, chat_id=user)
        mark = telegram.mark()
        first = asyncio.create_task(deliver(http, base, update))
        await claimed(bot_env["REDIS_URL"], update_id)
        status, retry_after = await deliver(http, base, update)
        assert status == 503, "a copy of an update being handled must be sent again later"
        assert retry_after is not None and 1 <= int(retry_after) <= 2
        await asyncio.sleep(2.5)
        assert (await deliver(http, base, update))[0] == 503, "the claim lapsed while handled"
        assert (await first)[0] == 200
        replies = [call for call in telegram.sent_to(user) if call.index >= mark]
        assert len(replies) == 1, "the 200 came before the reply had left"
        assert await deliver(http, base, update) == (200, None)
        await telegram.assert_no_message(user, after=replies[0].index + 1, within=0.5)


async def test_an_update_whose_handler_failed_counts_as_handled(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    base = f"http://127.0.0.1:{bot_env['HTTP_PORT']}"
    async with (
        running_bot(webhook_env(bot_env, base), telegram, stripe_server),
        aiohttp.ClientSession() as http,
    ):
        user = 9102
        update = telegram.pushed[telegram.user(user).send("/help")]
        telegram.fail_next("sendMessage", status=400, description="Bad Request: boom",
                           chat_id=user)
        mark = telegram.mark()
        assert await deliver(http, base, update) == (200, None)
        apology = await telegram.wait_for_message(user, after=mark)
        assert "Something went wrong" in (apology.rendered_text or ""), apology.describe()
        # Telegram retrying it would only meet the same failure: it is not handled again.
        assert await deliver(http, base, update) == (200, None)
        await telegram.assert_no_message(user, after=apology.index + 1, within=0.5)


async def test_a_bot_that_stopped_taking_updates_leaves_them_to_another_at_once(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    stopping = f"http://127.0.0.1:{bot_env['HTTP_PORT']}"
    other_port = free_port()
    other = f"http://127.0.0.1:{other_port}"
    async with (
        running_bot(webhook_env(bot_env, stopping), telegram, stripe_server) as first,
        running_bot({**webhook_env(bot_env, stopping), "HTTP_PORT": str(other_port)},
                    telegram, stripe_server),
        aiohttp.ClientSession() as http,
    ):
        assert first.bot.application is not None
        # The first step of a clean stop: its handlers take no more updates.
        await first.bot.application.stop()
        user = 9103
        update = telegram.pushed[telegram.user(user).send("/help")]
        mark = telegram.mark()
        assert (await deliver(http, stopping, update))[0] == 503
        assert await deliver(http, other, update) == (200, None)
        reply = await telegram.wait_for_message(user, after=mark)
        await telegram.assert_no_message(user, after=reply.index + 1, within=0.5)


@pytest.mark.slow
async def test_an_update_held_by_a_killed_process_is_handled_by_the_next_one_once(
    bot_env: dict[str, str], telegram: FakeBotAPI
) -> None:
    ports = [free_port(), free_port()]
    dying, survivor = (f"http://127.0.0.1:{port}" for port in ports)
    # A claim of 2 s: the survivor takes the update over 2 s after the kill at most.
    env = {**webhook_env(bot_env, f"http://127.0.0.1:{free_port()}"),
           "BROADCAST_RECOVERY_SECONDS": "2"}
    async with bot_processes(env, ports) as processes, aiohttp.ClientSession() as http:
        user = telegram.user(80_001)
        mark = telegram.mark()
        assert (await deliver(http, dying, telegram.pushed[user.send("/language")]))[0] == 200
        prompt = await telegram.wait_for_message(user.id, after=mark)
        tap_id = user.tap(prompt, "Français")
        # The handler stores the choice, then waits on its answer to the tap, then edits.
        telegram.delay_next("answerCallbackQuery", seconds=4)
        cut = asyncio.create_task(deliver(http, dying, telegram.pushed[tap_id]))
        await claimed(bot_env["REDIS_URL"], tap_id)
        await asyncio.sleep(0.5)
        processes[0].send_signal(signal.SIGKILL)
        with pytest.raises(aiohttp.ClientError):
            await cut  # Telegram saw no answer: it sends the update again later

        statuses: list[int] = []
        async with asyncio.timeout(20):
            while not statuses or statuses[-1] != 200:
                status, retry_after = await deliver(http, survivor, telegram.pushed[tap_id])
                statuses.append(status)
                if status != 200:
                    await asyncio.sleep(int(retry_after or 1))
        assert statuses[0] == 503, "the dead process's claim had not lapsed yet"
        assert set(statuses[:-1]) == {503}, statuses
        changed = await telegram.wait_for_edit(user.id, after=mark)
        assert "en français" in (changed.rendered_text or ""), changed.describe()
        assert await deliver(http, survivor, telegram.pushed[tap_id]) == (200, None)
        await telegram.assert_no_message(user.id, after=changed.index + 1, within=1.0)

"""Payment promises under attack and failure: the signature matrix and Redis killed mid-storm."""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import aiohttp
import pytest
import stripe

from bot.app import CampaignBot
from bot.storage import keys
from tests.conftest import Harness, settings_from
from tests.donation_steps import pledge
from tests.fakes.stripe import WEBHOOK_SECRET, FakeStripe
from tests.fakes.telegram import FakeBotAPI
from tests.keyspace import keyspace


def header(
    payload: bytes, timestamp: int, secret: str = WEBHOOK_SECRET, scheme: str = "v1"
) -> str:
    """A Stripe-Signature header made with Stripe's own signing code."""
    signed = f"{timestamp}.{payload.decode()}"
    return f"t={timestamp},{scheme}={stripe.WebhookSignature._compute_signature(signed, secret)}"


async def post(url: str, payload: bytes, signature: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    async with aiohttp.ClientSession() as http, http.post(url, data=payload, headers=headers) as r:
        return r.status


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong secret", 400), ("missing header", 400), ("t=abc", 400), ("only v0", 400),
        ("one byte changed", 400), ("json re-serialised", 400), ("301 s old", 400),
        ("rotated secret: two v1, one valid", 200),
        ("signed, but a JSON list", 400), ("signed, but not JSON", 400),
        ("signed, but not an event", 400),
    ],
)
async def test_signature_matrix_leaves_the_keyspace_untouched_when_refused(
    harness: Harness, case: str, expected: int
) -> None:
    _, session_id = await pledge(harness, harness.user(11_001, "en"), "€10")
    event = harness.stripe.complete_session(session_id)[0]
    payload = json.dumps(event, indent=2).encode()
    now = int(time.time())
    valid = header(payload, now)
    signature: str | None = valid
    body = payload
    if case == "wrong secret":
        signature = header(payload, now, secret="whsec_another_endpoint_secret")
    elif case == "missing header":
        signature = None
    elif case == "t=abc":
        signature = valid.replace(f"t={now}", "t=abc")
    elif case == "only v0":
        signature = header(payload, now, scheme="v0")
    elif case == "one byte changed":
        position = body.index(b'"amount_total": 1000') + len('"amount_total": 1')
        body = body[:position] + b"1" + body[position + 1:]
    elif case == "json re-serialised":
        body = json.dumps(json.loads(payload), separators=(",", ":")).encode()
    elif case == "301 s old":
        signature = header(payload, now - 301)
    elif case.startswith("signed, but"):
        body = {
            "signed, but a JSON list": b"[1, 2]",
            "signed, but not JSON": b"not json at all",
            "signed, but not an event": json.dumps(event["data"]["object"]).encode(),
        }[case]
        signature = header(body, now)
    elif case == "rotated secret: two v1, one valid":
        stale = header(payload, now, secret="whsec_the_previous_secret").split(",")[1]
        signature = f"{valid.split(',')[0]},{stale},{valid.split(',')[1]}"
    # The answers to the pledge reach the send schedule a moment after they went (one Redis
    # call for many); charged now, the snapshot holds still on a loaded machine too.
    assert harness.bot.application is not None
    services = harness.bot.application.bot_data.services
    assert services is not None
    await services.send_rate.aclose()
    before = await keyspace(harness.env["REDIS_URL"])
    assert await post(harness.webhook_url, body, signature) == expected
    if expected == 400:
        assert await keyspace(harness.env["REDIS_URL"]) == before
    else:
        assert (await harness.totals()).raised == 1000


def paid_session_event(fake: FakeStripe, number: int) -> dict[str, Any]:
    """A distinct, paid one-off donation as Stripe would announce it."""
    session = {
        "id": f"cs_test_storm_{number}", "object": "checkout.session", "mode": "payment",
        "status": "complete", "payment_status": "paid", "amount_total": 100 + number,
        "currency": "eur", "payment_intent": f"pi_storm_{number}", "customer": None,
        "client_reference_id": str(50_000 + number), "created": int(time.time()),
        "metadata": {"telegram_user_id": str(50_000 + number), "locale": "en"},
    }
    return fake.event("checkout.session.completed", session)


async def test_redis_killed_mid_storm_loses_nothing_and_counts_nothing_twice(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    env = {k: v for k, v in bot_env.items() if k != "REDIS_URL"}
    bot = CampaignBot(settings_from(env))
    await bot.start()
    events = [paid_session_event(stripe_server, n) for n in range(400)]
    url = f"http://127.0.0.1:{bot.http_port}/stripe/webhook"
    acknowledged: set[str] = set()
    refusals = 0
    progress = asyncio.Event()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for event in events:
        queue.put_nowait(event)

    async def sender() -> None:
        nonlocal refusals
        while not queue.empty():
            event = queue.get_nowait()
            for _attempt in range(200):  # Stripe retries for days; a bounded loop here
                status = await stripe_server.deliver(event, url)
                if 200 <= status < 300:
                    acknowledged.add(event["id"])
                    progress.set()
                    break
                refusals += 1
                await asyncio.sleep(0.05)

    async def killer() -> None:
        # Killed at random points of the storm's progress, however fast the bot answers.
        assert bot.embedded_store is not None
        for low, high in ((60, 140), (220, 300)):
            threshold = random.randint(low, high)
            while len(acknowledged) < threshold:
                progress.clear()
                await progress.wait()
            await bot.embedded_store.kill()
            await asyncio.sleep(0.5)
            await bot.embedded_store.start()

    try:
        await asyncio.gather(killer(), *(sender() for _ in range(16)))
        totals = await ledger_figures(bot)
    finally:
        await bot.stop()
    assert acknowledged == {event["id"] for event in events}
    assert refusals > 0, "the kills happened while events were arriving"
    assert totals == (400, sum(100 + n for n in range(400)), 400)


async def ledger_figures(bot: CampaignBot) -> tuple[int, int, int]:
    """Donations counted, amount raised, and donations actually stored."""
    assert bot.application is not None and bot.application.bot_data.services is not None
    assert bot.redis is not None
    services = bot.application.bot_data.services
    totals = await services.ledger.totals()
    timeline = await bot.redis.zcard(keys.donation_timeline())
    return totals.donations, totals.raised, int(timeline)

"""Stripe's webhook load: distinct signed checkout.session.completed events from 32 senders."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Sequence

import aiohttp

from bench.fake_api import LeanBotAPI
from bench.harness import FIRST_CHAT, WEBHOOK_SENDERS
from tests.fakes.stripe import WEBHOOK_SECRET


def checkout_events(count: int) -> list[bytes]:
    """Distinct paid one-off Checkout sessions, shaped as bot/stripe_events.py reads them."""
    run = secrets.token_hex(4)
    now = int(time.time())
    payloads = []
    for n in range(count):
        session = {
            "id": f"cs_bench_{run}_{n}", "object": "checkout.session", "mode": "payment",
            "payment_status": "paid", "amount_total": 1000 + n % 50, "currency": "eur",
            "payment_intent": f"pi_bench_{run}_{n}", "customer": None,
            "client_reference_id": None, "created": now,
            "metadata": {"telegram_user_id": str(FIRST_CHAT + n), "locale": "en"},
        }
        event = {
            "id": f"evt_bench_{run}_{n}", "object": "event", "api_version": "2025-01-01",
            "created": now, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "checkout.session.completed", "data": {"object": session},
        }
        payloads.append(json.dumps(event, indent=2).encode())
    return payloads


def stripe_signature(payload: bytes) -> str:
    """Stripe's scheme: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    stamp = int(time.time())
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return f"t={stamp},v1={mac.hexdigest()}"


async def post_events(urls: Sequence[str], payloads: list[bytes]) -> tuple[float, list[float]]:
    """32 concurrent senders, each request to the next of `urls` in turn (a round-robin proxy);
    returns the elapsed seconds and every request's latency."""
    pending = iter(payloads)
    targets = itertools.cycle(urls)
    latencies: list[float] = []

    async def sender(http: aiohttp.ClientSession) -> None:
        for payload in pending:
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": stripe_signature(payload),
            }
            sent = time.perf_counter()
            async with http.post(next(targets), data=payload, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"webhook answered {response.status}")
            latencies.append(time.perf_counter() - sent)

    connector = aiohttp.TCPConnector(limit=WEBHOOK_SENDERS)
    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*(sender(http) for _ in range(WEBHOOK_SENDERS)))
        return time.perf_counter() - started, latencies


async def wait_thanked(telegram: LeanBotAPI, count: int, timeout: float = 60) -> None:
    """Until the bot has sent `count` messages besides broadcasts (the thank-yous)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if telegram.other_sends >= count:
            return
        await asyncio.sleep(0.005)

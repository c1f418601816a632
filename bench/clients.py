"""The references, each run as its own process like the bot: `python -m bench.clients KIND`.

bare: a bare aiohttp client sending the bot's sendMessage requests with the bot's concurrency.
naive: python-telegram-bot in the obvious loop, one message after another.
webhook: an aiohttp endpoint that only verifies Stripe's signature.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import aiohttp
import stripe
from aiohttp import web
from telegram import Bot

from tests.fakes.telegram import TEST_TOKEN

FIRST_CHAT = 10_000_000


async def bare(url: str, count: int, concurrency: int, text: str) -> None:
    """Form-encoded sendMessage, as python-telegram-bot sends it, from `concurrency` tasks."""
    endpoint = f"{url}/bot{TEST_TOKEN}/sendMessage"
    chats = iter(range(FIRST_CHAT, FIRST_CHAT + count))
    connector = aiohttp.TCPConnector(limit=concurrency)

    async def worker(http: aiohttp.ClientSession) -> None:
        for chat in chats:
            data = {"chat_id": str(chat), "text": text, "parse_mode": "HTML"}
            async with http.post(endpoint, data=data) as response:
                if not json.loads(await response.read())["ok"]:
                    raise RuntimeError("fake refused a message")

    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))


async def naive(url: str, count: int, text: str) -> None:
    """`for chat in ids: await bot.send_message(...)`."""
    async with Bot(TEST_TOKEN, base_url=f"{url}/bot") as bot:
        for chat in range(FIRST_CHAT, FIRST_CHAT + count):
            await bot.send_message(chat, text, parse_mode="HTML")


async def webhook(port: int, secret: str) -> None:
    """Verify the signature and answer; nothing else. Runs until killed."""

    async def handle(request: web.Request) -> web.Response:
        payload = await request.read()
        try:
            stripe.Webhook.construct_event(
                payload, request.headers.get("Stripe-Signature", ""), secret
            )
        except (stripe.SignatureVerificationError, ValueError):
            return web.json_response({"error": "invalid signature"}, status=400)
        return web.json_response({"received": True})

    async def ready(request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    app = web.Application()
    app.router.add_post("/stripe/webhook", handle)
    app.router.add_get("/readyz", ready)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


def main() -> int:
    """Run one reference; senders print their elapsed seconds as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.clients")
    parser.add_argument("kind", choices=("bare", "naive", "webhook"))
    parser.add_argument("--url", default="")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--text", default="BENCH")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", default="")
    args = parser.parse_args()
    started = time.monotonic()
    if args.kind == "bare":
        asyncio.run(bare(args.url, args.count, args.concurrency, args.text))
    elif args.kind == "naive":
        asyncio.run(naive(args.url, args.count, args.text))
    else:
        asyncio.run(webhook(args.port, args.secret))
    print(json.dumps({"seconds": time.monotonic() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

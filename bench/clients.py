"""The references, each run as its own process like the bot: `python -m bench.clients KIND`.

bare: a bare aiohttp client sending the bot's sendMessage requests with the bot's concurrency.
naive: python-telegram-bot in the obvious loop, one message after another.
webhook: an aiohttp endpoint that only verifies Stripe's signature.
burst: a python-telegram-bot application with concurrent updates behind a webhook endpoint,
answering /start and /donate with one send each: what PTB does at a peak without the bot's code.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
import stripe
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tests.fakes.telegram import TEST_TOKEN

FIRST_CHAT = 10_000_000
Handler = Callable[[web.Request], Awaitable[web.Response]]


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

    await serve_until_killed(port, "/stripe/webhook", handle)


async def serve_until_killed(port: int, path: str, handle: Handler) -> None:
    """POST `path` and GET /readyz on 127.0.0.1:`port`, until the process is killed."""

    async def ready(request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    app = web.Application()
    app.router.add_post(path, handle)
    app.router.add_get("/readyz", ready)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


async def burst(url: str, port: int, secret: str) -> None:
    """PTB's defaults, concurrent updates, one send per command. Runs until killed."""
    # The same line format as the bot's, so the harness counts ERROR lines alike.
    logging.basicConfig(
        level=logging.INFO, format="level=%(levelname)s logger=%(name)s msg=%(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    application = (
        ApplicationBuilder().token(TEST_TOKEN).base_url(f"{url}/bot").updater(None)
        .concurrent_updates(True).build()
    )
    # A keyboard, as the bot's answers have: the harness tells answers from other sends by it.
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Donate", callback_data="donate")]])

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None:
            await context.bot.send_message(
                update.effective_chat.id, "Welcome, and thank you", reply_markup=keyboard
            )

    application.add_handler(CommandHandler(["start", "donate"], answer))

    async def receive(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
            return web.json_response({"error": "forbidden"}, status=403)
        update = Update.de_json(await request.json(), application.bot)
        await application.update_queue.put(update)
        return web.json_response({"ok": True})

    async with application:
        await application.start()
        await serve_until_killed(port, "/telegram/webhook", receive)


def main() -> int:
    """Run one reference; senders print their elapsed seconds and CPU seconds as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.clients")
    parser.add_argument("kind", choices=("bare", "naive", "webhook", "burst"))
    parser.add_argument("--url", default="")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--text", default="BENCH")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", default="")
    args = parser.parse_args()
    started, cpu = time.monotonic(), time.process_time()
    if args.kind == "bare":
        asyncio.run(bare(args.url, args.count, args.concurrency, args.text))
    elif args.kind == "naive":
        asyncio.run(naive(args.url, args.count, args.text))
    elif args.kind == "burst":
        asyncio.run(burst(args.url, args.port, args.secret))
    else:
        asyncio.run(webhook(args.port, args.secret))
    print(json.dumps({
        "seconds": time.monotonic() - started, "cpu_seconds": time.process_time() - cpu,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

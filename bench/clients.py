"""The references, each run as its own process like the bot: `python -m bench.clients KIND`.

bare: a bare aiohttp client sending the bot's sendMessage requests with the bot's concurrency.
naive: python-telegram-bot in the obvious loop, one message after another.
webhook: an aiohttp endpoint that verifies Stripe's signature and stores each event with one HSET.
burst: a python-telegram-bot application with concurrent updates behind a webhook endpoint,
answering /start and /donate with one send each: what PTB does at a peak without the bot's code.
burst --floor: the floor under the bot's answers. PTB over the bot's aiohttp transport, no Redis,
each update handled inside its webhook request as the bot does; /start answered with the photo
by file_id, a caption as long as the welcome and the welcome's four buttons; an amount tap with
the callback answer, the bot's Stripe call (Checkout Session through the same SDK client against
the same fake) and one message with the link as a URL button.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import stripe
from aiohttp import web
from redis.asyncio import Redis
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
)

from bot.botapi.transport import BotApiRequest
from bot.donations.stripe_client import Frequency, Payments, Pledge, ReturnUrls
from tests.fakes.stripe import API_KEY
from tests.fakes.telegram import TEST_TOKEN

FIRST_CHAT = 10_000_000
# As long as the bot's English welcome with its progress line (431 characters).
FLOOR_CAPTION = "<b>Calais</b>\n\n" + "A blanket for someone for the night. " * 11
FLOOR_PHOTO = "bench-floor-photo"
FLOOR_LINK_TEXT = "Thank you! Tap the button to give <b>€{}</b> on Stripe's secure page."
FLOOR_RETURN = ReturnUrls("https://bench.invalid/donate/success", "https://bench.invalid/cancel")
# One connection per concurrent Stripe sender, so no request waits for a free one.
WEBHOOK_CONNECTIONS = 64
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


async def webhook(port: int, secret: str, redis_url: str) -> None:
    """Verify the signature, store the event's payment with one HSET, answer. Runs until killed."""
    redis = Redis.from_url(redis_url, max_connections=WEBHOOK_CONNECTIONS)

    async def handle(request: web.Request) -> web.Response:
        payload = await request.read()
        try:
            # The SDK's check, then plain JSON: the least any endpoint must do before storing.
            stripe.WebhookSignature.verify_header(
                payload, request.headers.get("Stripe-Signature", ""), secret,
                stripe.Webhook.DEFAULT_TOLERANCE,
            )
            event = json.loads(payload)
        except (stripe.SignatureVerificationError, ValueError):
            return web.json_response({"error": "invalid signature"}, status=400)
        session = event["data"]["object"]
        await redis.hset(f"bench-reference:{session['payment_intent']}", mapping={
            "amount": session["amount_total"], "currency": session["currency"],
            "event": event["id"],
        })
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


async def floor(url: str, stripe_url: str, port: int, secret: str) -> None:
    """The floor under /start and an amount tap (module docstring). Runs until killed."""
    logging.basicConfig(
        level=logging.INFO, format="level=%(levelname)s logger=%(name)s msg=%(message)s"
    )
    # The bot's transport, pool, concurrency and parse mode.
    application = (
        ApplicationBuilder().token(TEST_TOKEN).base_url(f"{url}/bot").updater(None)
        .request(BotApiRequest(connections=256)).defaults(Defaults(parse_mode=ParseMode.HTML))
        .concurrent_updates(1024).build()
    )
    payments = Payments(API_KEY, stripe_url)
    menu = InlineKeyboardMarkup([
        [InlineKeyboardButton("💶 Donate", callback_data="donate")],
        [InlineKeyboardButton("📖 Full story", callback_data="story"),
         InlineKeyboardButton("🔔 Follow updates", callback_data="follow")],
        [InlineKeyboardButton("🌐 Language", callback_data="language")],
    ])

    async def welcome(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None:
            await context.bot.send_photo(
                update.effective_chat.id, FLOOR_PHOTO, caption=FLOOR_CAPTION, reply_markup=menu
            )

    async def tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.data is None or query.message is None:
            return
        await query.answer()
        amount = int(query.data.rpartition(":")[2])
        pledge = Pledge(
            user_id=query.from_user.id, amount=amount, currency="eur", frequency=Frequency.ONCE,
            locale="en", origin_message_id=query.message.message_id,
        )
        link = await payments.create_checkout(pledge, FLOOR_RETURN, "Donation")
        await context.bot.send_message(
            query.from_user.id, FLOOR_LINK_TEXT.format(amount // 100),
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Give", url=link)]]),
        )

    application.add_handler(CommandHandler("start", welcome))
    application.add_handler(CallbackQueryHandler(tap, pattern="^don:a:"))
    await serve_updates(application, port, secret)


async def serve_updates(
    application: Application[Any, Any, Any, Any, Any, Any], port: int, secret: str
) -> None:
    """The bot's webhook shape: 200 once the update is handled, inside the request."""

    async def receive(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
            return web.json_response({"error": "forbidden"}, status=403)
        update = Update.de_json(json.loads(await request.read()), application.bot)
        await application.create_task(
            application.update_processor.process_update(
                update, application.process_update(update)
            ),
            update=update,
        )
        return web.json_response({"ok": True})

    async with application:
        await application.start()
        await serve_until_killed(port, "/telegram/webhook", receive)


def main() -> int:
    """Run one reference; senders print their elapsed seconds and CPU seconds as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.clients")
    parser.add_argument("kind", choices=("bare", "naive", "webhook", "burst"))
    parser.add_argument("--floor", action="store_true", help="burst: the floor (docstring)")
    parser.add_argument("--stripe-url", default="")
    parser.add_argument("--url", default="")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--text", default="BENCH")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", default="")
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    started, cpu = time.monotonic(), time.process_time()
    if args.kind == "bare":
        asyncio.run(bare(args.url, args.count, args.concurrency, args.text))
    elif args.kind == "naive":
        asyncio.run(naive(args.url, args.count, args.text))
    elif args.kind == "burst" and args.floor:
        asyncio.run(floor(args.url, args.stripe_url, args.port, args.secret))
    elif args.kind == "burst":
        asyncio.run(burst(args.url, args.port, args.secret))
    else:
        asyncio.run(webhook(args.port, args.secret, args.redis_url))
    print(json.dumps({
        "seconds": time.monotonic() - started, "cpu_seconds": time.process_time() - cpu,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())

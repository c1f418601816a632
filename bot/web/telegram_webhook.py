"""POST /telegram/webhook: Telegram's updates in webhook mode, checked, deduplicated, queued."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError
from telegram import Bot, Update

from bot.storage import keys

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
# Telegram redelivers for a while; a day of memory covers every retry it makes.
SEEN_UPDATE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class TelegramWebhook:
    """What the endpoint needs; absent in polling mode, where the endpoint answers 404."""

    secret: str
    bot: Bot
    redis: Redis
    enqueue: Callable[[Update], Awaitable[None]]


TELEGRAM_WEBHOOK: web.AppKey[TelegramWebhook | None] = web.AppKey("telegram_webhook")


async def telegram_webhook(request: web.Request) -> web.Response:
    """403 without the secret token; each update_id handled once; 503 while Redis is down."""
    hook = request.app[TELEGRAM_WEBHOOK]
    if hook is None:
        raise web.HTTPNotFound()
    token = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(token.encode(), hook.secret.encode()):
        log.warning("telegram webhook refused: wrong secret token")
        return web.json_response({"error": "forbidden"}, status=403)
    try:
        update = Update.de_json(json.loads(await request.read()), hook.bot)
    except (ValueError, TypeError, KeyError):
        return web.json_response({"error": "not an update"}, status=400)
    try:
        first = await hook.redis.set(
            keys.telegram_update(update.update_id), 1, nx=True, ex=SEEN_UPDATE_SECONDS
        )
    except RedisError:
        return web.json_response({"error": "storage unavailable"}, status=503)
    if first:
        await hook.enqueue(update)
    return web.json_response({"ok": True})

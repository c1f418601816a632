"""POST /telegram/webhook: Telegram's updates in webhook mode, checked, deduplicated, queued."""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update

from bot.storage.connection import StorageUnavailable
from bot.web.app_keys import TELEGRAM_WEBHOOK
from bot.web.request_guard import BadHeader, ascii_header

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"


async def telegram_webhook(request: web.Request) -> web.Response:
    """403 without the secret token, 400 if not ASCII; each update once; 503 if Redis is down."""
    hook = request.app[TELEGRAM_WEBHOOK]
    if hook is None:
        raise web.HTTPNotFound()
    try:
        token = ascii_header(request, "X-Telegram-Bot-Api-Secret-Token") or ""
    except BadHeader:
        return web.json_response({"error": "bad header"}, status=400)
    if not hmac.compare_digest(token.encode(), hook.secret.encode()):
        log.warning("telegram webhook refused: wrong secret token")
        return web.json_response({"error": "forbidden"}, status=403)
    try:
        update = Update.de_json(json.loads(await request.read()), hook.bot)
    except (ValueError, TypeError, KeyError):
        return web.json_response({"error": "not an update"}, status=400)
    try:
        first = await hook.updates.first_time(update.update_id)
    except StorageUnavailable:
        return web.json_response({"error": "storage unavailable"}, status=503)
    if first:
        await hook.enqueue(update)
    return web.json_response({"ok": True})

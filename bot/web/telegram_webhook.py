"""POST /telegram/webhook: Telegram's updates in webhook mode, checked, handled once, answered.

Telegram never resends an update that got a 200, so the 200 comes only once the update is
handled, inside the request: an update whose process dies mid-way was never answered, and its
next delivery handles it again once the dead process's claim lapses (see bot/storage/update_log).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Callable

from aiohttp import web
from telegram import Update

from bot.context import CampaignApplication
from bot.storage.connection import StorageUnavailable
from bot.storage.update_log import Claim, Standing, UpdateLog
from bot.web.app_keys import TELEGRAM_WEBHOOK
from bot.web.request_guard import BadHeader, ascii_header

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"


def handling_by(application: CampaignApplication) -> Callable[[Update], asyncio.Task[None] | None]:
    """Start an update's handling by the application's handlers, or None once it has stopped."""

    def start(update: Update) -> asyncio.Task[None] | None:
        if not application.running:
            return None
        # Like the updates PTB fetches itself: within its cap of concurrent updates
        # (concurrent_updates), through the metered process_update, and awaited by its stop(),
        # so a clean stop finishes what it accepted.
        return application.create_task(
            application.update_processor.process_update(
                update, application.process_update(update)
            ),
            update=update,
            name=f"webhook-update-{update.update_id}",
        )

    return start


async def telegram_webhook(request: web.Request) -> web.Response:
    """403 without the secret token, 400 if not ASCII; 200 once handled, or if handled already;
    503 while Redis is down, the bot is stopping, or another delivery is handling the update."""
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
    unavailable = web.json_response({"error": "storage unavailable"}, status=503)
    try:
        claim = await hook.updates.claim(update.update_id)
    except StorageUnavailable:
        return unavailable
    if claim.standing is Standing.DONE:
        return web.json_response({"ok": True})
    if claim.standing is Standing.ELSEWHERE:
        # Not a 200: the delivery holding the claim may be in a process about to die, and an
        # update answered 200 is never sent again. Telegram retries a 503 later, when the claim
        # is done (200 then) or has lapsed (then handled here). Only a redelivery meets this,
        # and Telegram redelivers only an update it saw no answer for.
        return web.json_response(
            {"error": "being handled"}, status=503,
            headers={"Retry-After": str(claim.retry_after_seconds)},
        )
    handling = hook.start_handling(update)
    if handling is None:
        with contextlib.suppress(*StorageUnavailable):
            await hook.updates.release(claim)
        # Another process takes Telegram's retry at once.
        return web.json_response({"error": "stopping"}, status=503)
    await _held_while(hook.updates, claim, handling)
    # A handler that raised was answered by the error handler: the update counts as handled,
    # since retrying a crashing handler would only crash again and hold the chat's updates.
    try:
        await hook.updates.done(update.update_id)
    except StorageUnavailable:
        # Handled all the same; only a redelivery could handle it twice, and a 200 prevents it.
        log.warning("telegram update handled, not marked done update_id=%s", update.update_id)
    return web.json_response({"ok": True})


async def _held_while(updates: UpdateLog, claim: Claim, handling: asyncio.Task[None]) -> None:
    """Wait for the handling, renewing its claim: one waiting out a 429 pause keeps it."""
    held = True
    while True:
        finished, _ = await asyncio.wait({handling}, timeout=updates.renew_seconds)
        if finished:
            handling.result()
            return
        if not held:
            continue
        try:
            held = await updates.renew(claim)
        except StorageUnavailable:
            continue  # the next renewal may get through before the claim lapses
        if not held:
            # The loop stalled past the claim and a redelivery took it: it may handle it too.
            log.warning("telegram update claim lost while handled update_id=%s", claim.update_id)

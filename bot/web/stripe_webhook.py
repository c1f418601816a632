"""POST /stripe/webhook: verify, record durably, then acknowledge; notices go to the courier."""

from __future__ import annotations

import json
import logging

import stripe
from aiohttp import web

from bot.donations.stripe_events import HANDLED_TYPES, EventResult
from bot.storage.connection import StorageUnavailable
from bot.web.app_keys import STRIPE_WEBHOOK
from bot.web.request_guard import BadHeader, ascii_header

log = logging.getLogger(__name__)

# Written once: at a peak, every delivery's answer is one of these.
_ANSWERS = {
    result: json.dumps({"received": True, "result": result.value}).encode()
    for result in EventResult
}


async def stripe_webhook(request: web.Request) -> web.Response:
    """400 for anything unsigned or tampered with, 503 while Redis is down, 200 once stored."""
    hook = request.app[STRIPE_WEBHOOK]
    # Already whole and under 512 KB: the request guard read it before routing.
    payload = await request.read()
    try:
        signature = ascii_header(request, "Stripe-Signature")
    except BadHeader:
        hook.metrics.webhook_events.labels("unknown", "bad-signature").inc()
        return web.json_response({"error": "invalid signature"}, status=400)
    try:
        event = hook.payments.verify_event(payload, signature, hook.signing_secret)
    except stripe.SignatureVerificationError:
        hook.metrics.webhook_events.labels("unknown", "bad-signature").inc()
        log.warning("stripe webhook refused: bad signature")
        return web.json_response({"error": "invalid signature"}, status=400)
    except ValueError:
        hook.metrics.webhook_events.labels("unknown", "bad-payload").inc()
        log.warning("stripe webhook refused: signed payload is not an event")
        return web.json_response({"error": "invalid payload"}, status=400)
    try:
        outcome = await hook.processor.process(event)
    except StorageUnavailable:
        hook.metrics.webhook_events.labels(_type(event), "storage-unavailable").inc()
        log.error("stripe event not stored, redis unavailable event=%s", event.get("id"))
        return web.json_response({"error": "storage unavailable"}, status=503)
    except stripe.StripeError as exc:
        hook.metrics.webhook_events.labels(_type(event), "lookup-failed").inc()
        log.error(
            "stripe event needs a lookup that failed event=%s error=%s",
            event.get("id"), type(exc).__name__,
        )
        return web.json_response({"error": "lookup failed"}, status=503)
    if outcome.result is not EventResult.RECORDED:
        # A gift recorded has its own line, with the event's id (stripe_events.py).
        log.info(
            "stripe event type=%s id=%s result=%s",
            event.get("type"), event.get("id"), outcome.result,
        )
    hook.metrics.webhook_events.labels(_type(event), outcome.result).inc()
    hook.deliver_soon(outcome.notices)
    return web.Response(body=_ANSWERS[outcome.result], content_type="application/json")


def _type(event: dict[str, object]) -> str:
    # Only types the bot handles become labels; anything else is one bucket, not a new series.
    kind = str(event.get("type"))
    return kind if kind in HANDLED_TYPES else "other"

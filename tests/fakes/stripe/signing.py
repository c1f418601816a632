"""Webhook deliveries as Stripe makes them: the event's JSON, signed in the Stripe-Signature
header ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the endpoint secret>``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Final

import aiohttp

Json = dict[str, Any]

_USER_AGENT: Final = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
_TIMEOUT: Final = aiohttp.ClientTimeout(total=10.0)


def encode_event(event: Json) -> bytes:
    """Serialize an event the way Stripe's webhook sender does (pretty-printed UTF-8 JSON)."""
    return json.dumps(event, indent=2, ensure_ascii=False).encode("utf-8")


def signature_header(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header value for payload, signed now unless timestamp is given."""
    body = payload if isinstance(payload, bytes) else payload.encode("utf-8")
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode("utf-8"), f"{stamp}.".encode() + body, hashlib.sha256)
    return f"t={stamp},v1={digest.hexdigest()}"


async def post_event(
    http: aiohttp.ClientSession, event: Json, url: str, secret: str, timestamp: int | None
) -> int:
    """POST one signed event with Stripe's headers; Stripe follows no redirects, nor do we."""
    payload = encode_event(event)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": _USER_AGENT,
        "Accept": "*/*; q=0.5, application/xml",
        "Cache-Control": "no-cache",
        "Stripe-Signature": signature_header(payload, secret, timestamp),
    }
    async with http.post(
        url, data=payload, headers=headers, allow_redirects=False, timeout=_TIMEOUT
    ) as response:
        await response.read()
        return response.status

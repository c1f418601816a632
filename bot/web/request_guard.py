"""Every request whole, in time and within size, before a route sees it; headers it can read."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from bot.web.app_keys import CONNECTION_GUARD, HTTP_SETTINGS

log = logging.getLogger(__name__)

# Stripe's events and Telegram's updates are a few KB; anything far larger is from neither.
MAX_BODY_BYTES = 512 * 1024


class BadHeader(Exception):
    """A header a route reads holds bytes no sender of ours would put there."""


def ascii_header(request: web.Request, name: str) -> str | None:
    """The header as printable ASCII, None when absent; BadHeader (logged, value not) if not."""
    value = request.headers.get(name)
    if value is None:
        return None
    # aiohttp decodes header bytes as UTF-8, with byte 0xff kept as a lone surrogate: both
    # would reach a str comparison or an .encode() that raises.
    if not all(" " <= char <= "~" for char in value):
        log.warning("http request refused: header is not ASCII header=%s path=%s",
                    name, request.path)
        raise BadHeader(name)
    return value


@web.middleware
async def whole_requests(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Read the body (chunked or not) within HTTP_BODY_TIMEOUT and 512 KB, then route it."""
    guard = request.app[CONNECTION_GUARD]
    transport = request.transport
    guard.request_started(transport)
    refusal = await _read_body(request, request.app[HTTP_SETTINGS].body_timeout)
    if refusal is not None:
        if refusal.status == 408:
            guard.slow_bodies.note()
        refusal.force_close()
        return refusal
    guard.request_handling(transport, True)
    try:
        return await handler(request)
    finally:
        guard.request_handling(transport, False)


async def _read_body(request: web.Request, timeout: float) -> web.Response | None:
    too_large = web.json_response({"error": "payload too large"}, status=413)
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        log.warning("http request refused: body too large path=%s", request.path)
        return too_large
    try:
        async with asyncio.timeout(timeout):
            # Kept by aiohttp: the route's own read() returns these bytes.
            await request.read()
    except web.HTTPRequestEntityTooLarge:
        log.warning("http request refused: body too large path=%s", request.path)
        return too_large
    except TimeoutError:
        return web.json_response({"error": "request timeout"}, status=408)
    except (RequestPayloadError, ConnectionError):
        # A malformed chunked body, or a sender that went away: nobody to explain it to.
        log.info("http request dropped: body incomplete path=%s", request.path)
        return web.json_response({"error": "incomplete body"}, status=400)
    return None

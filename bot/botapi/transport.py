"""The bot's HTTP client for the Bot API: python-telegram-bot's transport interface over aiohttp.

PTB builds every request and maps every answer to its errors (RetryAfter, Forbidden, BadRequest,
TimedOut, NetworkError), so handlers see no difference. Its default client (httpx) costs more CPU
per request than the rest of a send: httpcore scans its whole pool on every request. The bot
already runs aiohttp for its web server, and aiohttp's client keeps a plain pool of connections.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import aiohttp
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, RequestData
from yarl import URL

from bot.metrics import Metrics

# PTB's own defaults (HTTPXRequest): seconds.
READ_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


class BotApiRequest(BaseRequest):
    """One pool of `connections` to the Bot API; counts failed calls on /metrics by code."""

    def __init__(
        self, connections: int, metrics: Metrics | None = None,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self._connections = connections
        self._metrics = metrics
        self._read_timeout = read_timeout
        self._default_timeout = aiohttp.ClientTimeout(
            connect=CONNECT_TIMEOUT + POOL_TIMEOUT, sock_connect=CONNECT_TIMEOUT,
            sock_read=read_timeout,
        )
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Form-encoded like PTB's own transport; multipart when files are uploaded."""
        connect = _seconds_or(connect_timeout, CONNECT_TIMEOUT)
        pool = _seconds_or(pool_timeout, POOL_TIMEOUT)
        timeout = aiohttp.ClientTimeout(
            # aiohttp's `connect` covers the wait for a pooled connection and the handshake.
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=_seconds_or(read_timeout, self._read_timeout),
        )
        data: Any = None
        headers = None
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                data = aiohttp.FormData(request_data.json_parameters)
                for name, (filename, content, mime_type) in files.items():
                    data.add_field(name, content, filename=filename, content_type=mime_type)
            else:
                # Encoded here: aiohttp's FormData costs more than the rest of the request.
                data = urlencode(request_data.json_parameters).encode()
                headers = _FORM_HEADERS
        return await self._exchange(method, url, data, headers, timeout)

    async def post_form(self, url: URL, form: bytes) -> None:
        """Call one Bot API method whose answer is not needed: broadcast sends.

        Half of a send through PTB went into building the `Message` it returns; the refusals
        still become PTB's errors, mapped as PTB maps them. `form` is already URL-encoded.
        """
        status, body = await self._exchange(
            "POST", url, form, _FORM_HEADERS, self._default_timeout
        )
        if status >= 300:
            raise telegram_error(status, body)

    async def _exchange(
        self, method: str, url: str | URL, data: Any, headers: Mapping[str, str] | None,
        timeout: aiohttp.ClientTimeout,
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("BotApiRequest is not initialized")
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as answer:
                status, body = answer.status, await answer.read()
        except TimeoutError as exc:
            self._count("timeout")
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            self._count("network")
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        if status >= 300:
            self._count(str(status))
        return status, body

    def _count(self, code: str) -> None:
        if self._metrics is not None:
            self._metrics.telegram_errors.labels(code).inc()


def _seconds_or(value: object, default: float | None) -> float | None:
    """PTB passes a number, None (no limit) or DEFAULT_NONE (use this client's default)."""
    if isinstance(value, int | float):
        return float(value)
    return None if value is None else default


def telegram_error(status: int, body: bytes) -> TelegramError:
    """The error PTB raises for this refusal (telegram/request/_baserequest.py)."""
    message = f"HTTP {status}"
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        message = str(answer.get("description") or message)
        parameters = answer.get("parameters") or {}
        if parameters.get("migrate_to_chat_id"):
            return ChatMigrated(int(parameters["migrate_to_chat_id"]))
        if parameters.get("retry_after"):
            return RetryAfter(int(parameters["retry_after"]))
    if status == HTTPStatus.FORBIDDEN:
        return Forbidden(message)
    if status in (HTTPStatus.NOT_FOUND, HTTPStatus.UNAUTHORIZED):
        return InvalidToken(message)
    if status == HTTPStatus.BAD_REQUEST:
        return BadRequest(message)
    if status == HTTPStatus.CONFLICT:
        return Conflict(message)
    # 502 and every other status: a failure of the way there, worth a retry.
    return NetworkError(message)

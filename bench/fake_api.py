"""A lean fake Bot API on a bare asyncio protocol, so the fake is never what limits a run.

tests.fakes.telegram.FakeBotAPI parses HTML, stores every message and keeps a full call log;
that fidelity costs more CPU per request than the bot spends, which would make the fake the
bottleneck. This one answers from a few templates and records only receive times.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.telegram import BOT_FIRST_NAME, BOT_ID, BOT_USERNAME, TEST_TOKEN

_BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME}
_GET_ME = {
    **_BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False,
    "supports_inline_queries": False, "can_connect_to_business": False,
    "has_main_web_app": False,
}
_MAX_POLL_SECONDS = 30.0
_HEADER_END = b"\r\n\r\n"


class LeanBotAPI:
    """Answers every Bot API call the bot makes; records when marked messages arrive."""

    def __init__(self, marker: str = "BENCH", token: str = TEST_TOKEN) -> None:
        self.marker = marker.encode()
        self._prefix = f"/bot{token}/"
        self.received: list[float] = []
        self.chats: list[int] = []
        self.other_sends = 0
        self.edits = 0
        self._message_id = 0
        self._server: asyncio.Server | None = None
        self.connections: set[asyncio.Transport] = set()
        self.url = ""

    def reset(self, marker: str) -> None:
        """Forget earlier receive times and count messages carrying a new marker."""
        self.marker = marker.encode()
        self.received = []
        self.chats = []
        self.other_sends = 0
        self.edits = 0

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            # Held long polls keep connections open; wait_closed would wait for them.
            for transport in list(self.connections):
                transport.close()
            await self._server.wait_closed()
            self._server = None

    def answer(self, path: str, body: bytes, content_type: str) -> tuple[bytes, float]:
        """The JSON answer to one call, and how long to hold it (long polls only)."""
        if not path.startswith(self._prefix):
            return _encode({"ok": False, "error_code": 404, "description": "Not Found"}), 0.0
        method = path[len(self._prefix):].split("?", 1)[0].lower()
        if method in ("sendmessage", "editmessagetext"):
            params = _params(body, content_type)
            chat_id = int(params.get("chat_id") or 0)
            if method == "sendmessage":
                if self.marker in body:
                    self.received.append(time.monotonic())
                    self.chats.append(chat_id)
                else:
                    self.other_sends += 1
                self._message_id += 1
                message_id = self._message_id
            else:
                self.edits += 1
                message_id = int(params.get("message_id") or 1)
            return _encode({"ok": True, "result": {
                "message_id": message_id, "date": int(time.time()), "from": _BOT_USER,
                "chat": {"id": chat_id, "type": "private", "first_name": "User"},
                "text": str(params.get("text") or ""),
            }}), 0.0
        if method == "getme":
            return _encode({"ok": True, "result": _GET_ME}), 0.0
        if method == "getupdates":
            timeout = float(_params(body, content_type).get("timeout") or 0)
            return _encode({"ok": True, "result": []}), min(timeout, _MAX_POLL_SECONDS)
        return _encode({"ok": True, "result": True}), 0.0


def _params(body: bytes, content_type: str) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        loaded = json.loads(body)
        return loaded if isinstance(loaded, dict) else {}
    return dict(parse_qsl(body.decode()))


def _encode(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class _Connection(asyncio.Protocol):
    """HTTP/1.1 with keep-alive, enough for httpx and aiohttp clients (no pipelining needed)."""

    def __init__(self, api: LeanBotAPI) -> None:
        self._api = api
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._held: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._api.connections.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._held is not None:
            self._held.cancel()
        if self._transport is not None:
            self._api.connections.discard(self._transport)
        self._transport = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while self._held is None:
            end = self._buffer.find(_HEADER_END)
            if end < 0:
                return
            head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
            headers = {}
            for line in head[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            total = end + len(_HEADER_END) + length
            if len(self._buffer) < total:
                return
            body = bytes(self._buffer[end + len(_HEADER_END):total])
            del self._buffer[:total]
            path = head[0].split(" ")[1]
            answer, hold = self._api.answer(path, body, headers.get("content-type", ""))
            close = headers.get("connection", "").lower() == "close"
            if hold > 0:
                loop = asyncio.get_running_loop()
                self._held = loop.call_later(hold, self._release, answer, close)
            else:
                self._respond(answer, close)

    def _release(self, answer: bytes, close: bool) -> None:
        self._held = None
        self._respond(answer, close)
        if self._buffer and self._transport is not None:
            self.data_received(b"")

    def _respond(self, answer: bytes, close: bool) -> None:
        if self._transport is None:
            return
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(answer)}\r\n"
            + ("Connection: close\r\n" if close else "")
            + "\r\n"
        )
        self._transport.write(head.encode() + answer)
        if close:
            self._transport.close()

"""A lean fake Bot API on a bare asyncio protocol, so the fake is never what limits a run.

tests.fakes.telegram.FakeBotAPI parses HTML, stores every message and keeps a full call log;
that fidelity costs more CPU per request than the bot spends, which would make the fake the
bottleneck. This one answers from a few templates and records only receive times, and for the
chats a measure watches, every message that reached them. It can answer a share of all calls
with Telegram's 429, as a flood-controlled Telegram does at a peak.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from dataclasses import dataclass
from typing import Any, NamedTuple
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
FLOOD_RETRY_AFTER = 1
# Fixed, so the bot and its reference face the same sequence of refusals.
_FLOOD_SEED = 19
_FLOODED = {
    "ok": False, "error_code": 429,
    "description": f"Too Many Requests: retry after {FLOOD_RETRY_AFTER}",
    "parameters": {"retry_after": FLOOD_RETRY_AFTER},
}
_NOT_FOUND = json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()
_NO_UPDATES = b'{"ok":true,"result":[]}'
_MESSAGE_METHODS = ("sendmessage", "sendphoto", "senddocument")
_FORM = "application/x-www-form-urlencoded"
# The Message a marked send gets back: message_id, date, chat_id.
_SHORT_SENT = (
    b'{"ok":true,"result":{"message_id":%d,"date":%d,"from":'
    + json.dumps(_BOT_USER, separators=(",", ":")).encode()
    + b',"chat":{"id":%d,"type":"private","first_name":"User"}}}'
)
# A multipart field without a filename: PTB's form values when the request carries an upload.
_MULTIPART_FIELD = re.compile(
    rb'name="([^"]+)"\r\n(?:Content-Type:[^\r]*\r\n)?(?:Content-Length:[^\r]*\r\n)?\r\n'
    rb"(.*?)\r\n--",
    re.DOTALL,
)


class Answer(NamedTuple):
    """The HTTP status and JSON body of one answer, and how long to hold it (long polls)."""

    status: int
    body: bytes
    hold: float = 0.0


@dataclass(frozen=True)
class Delivery:
    """A message that reached a watched chat."""

    at: float
    method: str
    # The bot's answers carry buttons; an apology or a notice does not.
    keyboard: bool
    upload: bool


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
        self.watched = range(0)
        self.deliveries: dict[int, list[Delivery]] = {}
        self.flood = 0.0
        self.flooded = 0
        self._dice = random.Random(_FLOOD_SEED)
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
        self.watch(range(0))

    def watch(self, chats: range, flood: float = 0.0) -> None:
        """Record every message reaching `chats`; answer a share `flood` of calls with 429."""
        self.watched = chats
        self.deliveries = {chat: [] for chat in chats}
        self.flood = flood
        self.flooded = 0
        self._dice = random.Random(_FLOOD_SEED)

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

    def answer(self, path: str, body: bytes, content_type: str) -> Answer:
        """The answer to one call."""
        if not path.startswith(self._prefix):
            return Answer(404, _NOT_FOUND)
        method = path[len(self._prefix):].split("?", 1)[0].lower()
        if method == "getupdates":
            timeout = float(_params(body, content_type).get("timeout") or 0)
            return Answer(200, _NO_UPDATES, min(timeout, _MAX_POLL_SECONDS))
        if self.flood and self._dice.random() < self.flood:
            self.flooded += 1
            return Answer(429, _encode(_FLOODED))
        if method in _MESSAGE_METHODS:
            return Answer(200, self._message(method, body, content_type))
        if method == "editmessagetext":
            params = _params(body, content_type)
            self.edits += 1
            return Answer(200, _encode({"ok": True, "result": _sent(
                int(params.get("chat_id") or 0), int(params.get("message_id") or 1), params
            )}))
        if method == "getme":
            return Answer(200, _encode({"ok": True, "result": _GET_ME}))
        return Answer(200, _encode({"ok": True, "result": True}))

    def _message(self, method: str, body: bytes, content_type: str) -> bytes:
        marked = method == "sendmessage" and self.marker in body
        # A measure's own sends, at thousands a second: read without parsing the form, and
        # answered from a template without echoing the text (nobody reads it back).
        short = marked and content_type.startswith(_FORM)
        params = {} if short else _params(body, content_type)
        chat_id = _form_chat_id(body) if short else int(params.get("chat_id") or 0)
        if marked:
            self.received.append(time.monotonic())
            self.chats.append(chat_id)
        else:
            self.other_sends += 1
        if chat_id in self.watched:
            self.deliveries[chat_id].append(Delivery(
                time.monotonic(), method, b"reply_markup" in body,
                content_type.startswith("multipart/"),
            ))
        self._message_id += 1
        if short:
            return _SHORT_SENT % (self._message_id, int(time.time()), chat_id)
        message = _sent(chat_id, self._message_id, params)
        if method == "sendphoto":
            number = self._message_id
            message["photo"] = [{
                "file_id": f"bench-photo-{number}", "file_unique_id": f"bench{number}",
                "width": 1000, "height": 500,
            }]
        elif method == "senddocument":
            message["document"] = {"file_id": f"bench-doc-{self._message_id}",
                                   "file_unique_id": f"doc{self._message_id}"}
        return _encode({"ok": True, "result": message})


def _sent(chat_id: int, message_id: int, params: dict[str, Any]) -> dict[str, Any]:
    """The Message the bot gets back for what it sent."""
    message: dict[str, Any] = {
        "message_id": message_id, "date": int(time.time()), "from": _BOT_USER,
        "chat": {"id": chat_id, "type": "private", "first_name": "User"},
    }
    for field in ("text", "caption"):
        if params.get(field):
            message[field] = str(params[field])
    return message


def _form_chat_id(body: bytes) -> int:
    """The chat_id field of a URL-encoded form (0 if none)."""
    start = body.find(b"chat_id=")
    while start > 0 and body[start - 1] != ord("&"):
        start = body.find(b"chat_id=", start + 1)
    if start < 0:
        return 0
    end = body.find(b"&", start)
    return int(body[start + len(b"chat_id="):end if end >= 0 else len(body)])


def _params(body: bytes, content_type: str) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        loaded = json.loads(body)
        return loaded if isinstance(loaded, dict) else {}
    if content_type.startswith("multipart/"):
        return {
            name.decode(): value.decode(errors="replace")
            for name, value in _MULTIPART_FIELD.findall(body)
        }
    return dict(parse_qsl(body.decode()))


def _encode(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


_REASONS = {200: b"OK", 404: b"Not Found", 429: b"Too Many Requests"}


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
        # Only the few headers the answer needs are looked up: parsing them all cost more
        # than the rest of the request.
        self._buffer += data
        while self._held is None:
            end = self._buffer.find(_HEADER_END)
            if end < 0:
                return
            head = bytes(self._buffer[:end])
            lowered = head.lower()
            total = end + len(_HEADER_END) + int(_header(lowered, b"content-length") or 0)
            if len(self._buffer) < total:
                return
            body = bytes(self._buffer[end + len(_HEADER_END):total])
            del self._buffer[:total]
            after_method = head.find(b" ") + 1
            path = head[after_method:head.find(b" ", after_method)].decode("latin-1")
            content_type = _header(lowered, b"content-type").decode("latin-1")
            answer = self._api.answer(path, body, content_type)
            close = _header(lowered, b"connection") == b"close"
            if answer.hold > 0:
                loop = asyncio.get_running_loop()
                self._held = loop.call_later(answer.hold, self._release, answer, close)
            else:
                self._respond(answer, close)

    def _release(self, answer: Answer, close: bool) -> None:
        self._held = None
        self._respond(answer, close)
        if self._buffer and self._transport is not None:
            self.data_received(b"")

    def _respond(self, answer: Answer, close: bool) -> None:
        if self._transport is None:
            return
        self._transport.write(
            b"HTTP/1.1 %d %b\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%b\r\n%b"
            % (answer.status, _REASONS.get(answer.status, b"OK"), len(answer.body),
               b"Connection: close\r\n" if close else b"", answer.body)
        )
        if close:
            self._transport.close()


def _header(lowered_head: bytes, name: bytes) -> bytes:
    """One header's value (lower-cased) from a lower-cased request head; b"" if absent."""
    start = lowered_head.find(b"\r\n" + name + b":")
    if start < 0:
        return b""
    start += len(name) + 3
    end = lowered_head.find(b"\r\n", start)
    return lowered_head[start:end if end >= 0 else len(lowered_head)].strip()

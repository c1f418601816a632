"""How PTB's requests arrive: method names in any case, form or multipart fields, uploads."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

JSON = dict[str, Any]

# The methods the bot calls; anything else gets Telegram's 404 so a new call shows up at once.
METHODS: Final = (
    "getMe", "getUpdates", "setWebhook", "deleteWebhook", "sendMessage", "sendPhoto",
    "sendDocument", "editMessageText", "answerCallbackQuery", "setMyCommands",
    "setMyDescription", "setMyShortDescription",
)  # fmt: skip
_CANONICAL: Final = {name.lower(): name for name in METHODS}

# PTB sends str values verbatim and json.dumps everything else; these fields are strings in the
# Bot API, so a text like "42" or "true" must never be turned into a number or a bool.
_STRING_PARAMS: Final = frozenset({
    "text", "caption", "parse_mode", "description", "short_description", "callback_query_id",
    "language_code", "url", "secret_token", "ip_address", "photo", "document", "thumbnail",
    "business_connection_id", "message_effect_id", "inline_message_id",
})  # fmt: skip
_ATTACH: Final = re.compile(r"attach://([\w\-]+)")


@dataclass(frozen=True)
class Request:
    """A decoded Bot API request."""

    method: str
    params: JSON
    files: dict[str, bytes]
    filenames: dict[str, str]


def canonical(method: str) -> str:
    """Telegram's spelling of a method name received in any case."""
    return _CANONICAL.get(method.lower(), method)


def _reject_constant(name: str) -> Any:
    """Refuse NaN and Infinity so such texts stay strings."""
    raise ValueError(name)


def decode_param(name: str, raw: str) -> Any:
    """Turn one form field back into the value PTB encoded."""
    if name in _STRING_PARAMS:
        return raw
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except ValueError:
        return raw
    # PTB never JSON-encodes a str, so a str (or null) result means the raw text was the value.
    if value is None or isinstance(value, str):
        return raw
    return value


async def read_request(method: str, request: web.Request) -> Request:
    """Decode form, multipart, JSON or query parameters into Bot API values."""
    params: JSON = {}
    files: dict[str, bytes] = {}
    filenames: dict[str, str] = {}
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
                filenames[key] = value.filename
            elif isinstance(value, bytes | bytearray):
                params[key] = decode_param(key, bytes(value).decode("utf-8"))
            else:
                params[key] = decode_param(key, value)
    for key, value in request.query.items():
        params.setdefault(key, decode_param(key, value))
    # PTB sends a lone upload (sendPhoto(photo=bytes)) as the field itself, with no attach://
    # reference in the parameters; give it one so tests can tell uploads from file ids.
    referenced = set(_ATTACH.findall(json.dumps(params)))
    for name in files:
        if name not in referenced and name not in params:
            params[name] = f"attach://{name}"
    return Request(canonical(method), params, files, filenames)


def json_response(body: Any, *, status: int = 200) -> web.Response:
    """A JSON answer with the given HTTP status."""
    return web.json_response(body, status=status)

"""A local fake of the Telegram Bot API that the real python-telegram-bot Application talks to."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Self

from aiohttp import web

JSON = dict[str, Any]

TEST_TOKEN: Final = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
BOT_ID: Final = 123456
BOT_USERNAME: Final = "fake_campaign_bot"
BOT_FIRST_NAME: Final = "Campaign Bot"

_LOGGER = logging.getLogger(__name__)

# Telegram's own spelling of every method we may see, so a lower-cased request is still recorded
# under the name a test would search for.
_KNOWN_METHODS: Final = (
    "getMe", "logOut", "close", "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo",
    "sendMessage", "forwardMessage", "forwardMessages", "copyMessage", "copyMessages",
    "sendPhoto", "sendAudio", "sendDocument", "sendVideo", "sendAnimation", "sendVoice",
    "sendVideoNote", "sendPaidMedia", "sendMediaGroup", "sendLocation", "sendVenue",
    "sendContact", "sendPoll", "sendDice", "sendChatAction", "sendSticker", "sendInvoice",
    "sendGame", "editMessageText", "editMessageCaption", "editMessageMedia",
    "editMessageLiveLocation", "stopMessageLiveLocation", "editMessageReplyMarkup", "stopPoll",
    "deleteMessage", "deleteMessages", "getFile", "getChat", "getChatMember",
    "getChatAdministrators", "getChatMemberCount", "getUserProfilePhotos",
    "answerCallbackQuery", "answerInlineQuery", "answerPreCheckoutQuery", "answerShippingQuery",
    "setMyCommands", "getMyCommands", "deleteMyCommands", "setMyDescription",
    "getMyDescription", "setMyShortDescription", "getMyShortDescription", "setMyName",
    "getMyName", "setChatMenuButton", "getChatMenuButton", "setMyDefaultAdministratorRights",
    "getMyDefaultAdministratorRights", "pinChatMessage", "unpinChatMessage",
    "unpinAllChatMessages", "leaveChat", "banChatMember", "unbanChatMember",
    "setMessageReaction", "createChatInviteLink", "exportChatInviteLink",
)  # fmt: skip
_CANONICAL: Final = {name.lower(): name for name in _KNOWN_METHODS}

MESSAGE_METHODS: Final = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendVideo", "sendAnimation", "sendAudio",
    "sendVoice", "sendVideoNote", "sendSticker", "sendMediaGroup", "sendPaidMedia",
    "sendLocation", "sendVenue", "sendContact", "sendPoll", "sendDice", "sendInvoice",
    "sendGame", "copyMessage", "copyMessages", "forwardMessage", "forwardMessages",
})  # fmt: skip
EDIT_METHODS: Final = frozenset({
    "editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia",
    "editMessageLiveLocation", "stopMessageLiveLocation",
})  # fmt: skip
# Telegram refuses these with 403 once the user has blocked the bot.
_BLOCKABLE_METHODS: Final = MESSAGE_METHODS | {"sendChatAction"}

# PTB sends str values verbatim and json.dumps everything else; these fields are strings in the
# Bot API, so a text like "42" or "true" must never be turned into a number or a bool.
_STRING_PARAMS: Final = frozenset({
    "text", "caption", "parse_mode", "description", "short_description", "name", "title",
    "callback_query_id", "inline_query_id", "shipping_query_id", "pre_checkout_query_id",
    "web_app_query_id", "language_code", "url", "secret_token", "ip_address", "emoji",
    "question", "question_parse_mode", "explanation", "explanation_parse_mode", "file_id",
    "photo", "document", "video", "audio", "voice", "animation", "sticker", "video_note",
    "thumbnail", "cover", "inline_message_id", "business_connection_id", "message_effect_id",
    "payload", "currency", "provider_token", "provider_data", "start_parameter", "action",
    "custom_title", "invite_link", "query", "next_offset", "switch_pm_text",
    "switch_pm_parameter", "error_message", "first_name", "last_name", "phone_number", "vcard",
    "address", "foursquare_id", "foursquare_type", "google_place_id", "google_place_type",
    "game_short_name", "sticker_set_name", "set_name", "custom_emoji_id",
    "icon_custom_emoji_id", "result_id", "gift_id", "bio", "username", "performer",
    "text_parse_mode", "format",
})  # fmt: skip

_MEDIA_KINDS: Final = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVideo": "video",
    "sendAnimation": "animation",
    "sendAudio": "audio",
    "sendVoice": "voice",
    "sendVideoNote": "video_note",
    "sendSticker": "sticker",
}
_CONTENT_KEYS: Final = (
    "text", "entities", "caption", "caption_entities", "photo", "document", "video",
    "animation", "audio", "voice", "video_note", "sticker", "location", "venue", "contact",
    "poll", "dice", "link_preview_options", "show_caption_above_media", "has_media_spoiler",
)  # fmt: skip
_MEDIA_KEYS: Final = ("photo", "document", "video", "animation", "audio", "voice", "video_note")
_BUTTON_ACTIONS: Final = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
_FILE_EXTENSIONS: Final = {
    "photo": "jpg",
    "video": "mp4",
    "animation": "mp4",
    "audio": "mp3",
    "voice": "ogg",
    "video_note": "mp4",
    "sticker": "webp",
    "document": "bin",
}
_ATTACH_RE: Final = re.compile(r"attach://([\w\-]+)")
# Enough of a JPEG for anything that only sniffs the header; tests rarely decode images.
FAKE_JPEG: Final = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + (b"\x00" * 64)
    + b"\xff\xd9"
)
_MAX_TEXT: Final = 4096
_MAX_CAPTION: Final = 1024
_MAX_CALLBACK_DATA: Final = 64


@dataclass(frozen=True)
class InlineButton:
    """One inline keyboard button as the bot sent it."""

    text: str
    callback_data: str | None
    url: str | None


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made, decoded, with the answer the fake gave."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float
    index: int = -1
    result: Any = None
    error: dict[str, Any] | None = None
    filenames: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the fake answered this call with success."""
        return self.error is None

    @property
    def chat_id(self) -> int | None:
        """The numeric chat the call targets, or the chat of the returned message."""
        value = self.params.get("chat_id")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(self.result, dict) and isinstance(self.result.get("chat"), dict):
            chat_id = self.result["chat"].get("id")
            return chat_id if isinstance(chat_id, int) else None
        return None

    @property
    def text(self) -> str | None:
        """The text or caption exactly as the bot sent it (markup included)."""
        for key in ("text", "caption"):
            value = self.params.get(key)
            if isinstance(value, str):
                return value
        return None

    @property
    def rendered_text(self) -> str | None:
        """The text or caption as the user sees it, i.e. after parse_mode was applied."""
        if isinstance(self.result, dict):
            for key in ("text", "caption"):
                value = self.result.get(key)
                if isinstance(value, str):
                    return value
        return self.text

    @property
    def message_id(self) -> int | None:
        """The id of the message this call produced or edited."""
        if isinstance(self.result, dict) and isinstance(self.result.get("message_id"), int):
            return int(self.result["message_id"])
        value = self.params.get("message_id")
        return value if isinstance(value, int) else None

    @property
    def buttons(self) -> list[list[InlineButton]]:
        """The inline keyboard the bot attached to this call, empty if none."""
        return buttons_of(self.params.get("reply_markup"))

    def button(self, label_substring: str) -> InlineButton:
        """Return the first button whose text contains the substring."""
        flat = [button for row in self.buttons for button in row]
        for button in flat:
            if label_substring in button.text:
                return button
        labels = [button.text for button in flat]
        raise AssertionError(
            f"no button containing {label_substring!r} in {self.method} #{self.index}; "
            f"buttons: {labels}"
        )

    def describe(self) -> str:
        """One line naming the call for failure messages."""
        parts = [f"#{self.index} {self.method}"]
        if self.chat_id is not None:
            parts.append(f"chat={self.chat_id}")
        if self.text is not None:
            shown = self.text if len(self.text) <= 80 else self.text[:77] + "..."
            parts.append(f"text={shown!r}")
        labels = [button.text for row in self.buttons for button in row]
        if labels:
            parts.append(f"buttons={labels}")
        if self.error is not None:
            parts.append(f"-> {self.error.get('error_code')} {self.error.get('description')}")
        return " ".join(parts)


def buttons_of(markup: Any) -> list[list[InlineButton]]:
    """Read the inline keyboard rows out of a reply_markup value."""
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        return []
    result: list[list[InlineButton]] = []
    for row in rows:
        if not isinstance(row, list):
            continue
        result.append([
            InlineButton(
                text=str(button.get("text", "")),
                callback_data=_opt_str(button.get("callback_data")),
                url=_opt_str(button.get("url")),
            )
            for button in row
            if isinstance(button, dict)
        ])  # fmt: skip
    return result


def _opt_str(value: Any) -> str | None:
    """Return the value if it is a string, else None."""
    return value if isinstance(value, str) else None


def _now() -> int:
    """Unix time as Telegram stamps messages."""
    return int(time.time())


def _u16(text: str) -> int:
    """Length in UTF-16 code units, the unit of Bot API entity offsets."""
    return len(text.encode("utf-16-le")) // 2


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


class _ApiError(Exception):
    """A Bot API error answer."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        """The JSON body Telegram sends for this error."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> _ApiError:
    """A 400 error with Telegram's prefix."""
    return _ApiError(400, f"Bad Request: {detail}")


class _EntityError(Exception):
    """Text markup Telegram could not parse."""


class _Builder:
    """Plain text under construction with its UTF-16 length."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.u16 = 0

    def add(self, text: str) -> None:
        """Append text."""
        self.parts.append(text)
        self.u16 += _u16(text)

    def text(self) -> str:
        """The text so far."""
        return "".join(self.parts)


def _byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of a character index, as Telegram reports parse errors."""
    return len(text[:index].encode("utf-8"))


_HTML_ENTITY: Final = re.compile(r"&(?:#[xX]([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(lt|gt|amp|quot));")
_HTML_NAME: Final = re.compile(r"[a-zA-Z0-9-]+")
_HTML_NAMED: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TAGS: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def _html_attributes(text: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Parse attributes up to the closing '>' of a start tag; return them and the '>' index."""
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise _EntityError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[i] == ">":
            return attrs, i
        match = _HTML_NAME.match(text, i)
        if match is None:
            raise _EntityError(
                f'Empty attribute name in the tag "{tag}" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        name = match.group(0).lower()
        i = match.end()
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] == "=":
            i += 1
            while i < n and text[i].isspace():
                i += 1
            if i < n and text[i] in "\"'":
                end = text.find(text[i], i + 1)
                if end < 0:
                    raise _EntityError(
                        f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                    )
                value = text[i + 1 : end]
                i = end + 1
            else:
                start = i
                while i < n and not text[i].isspace() and text[i] != ">":
                    i += 1
                value = text[start:i]
            attrs[name] = _html_unescape(value)
        else:
            attrs[name] = ""


def _html_unescape(text: str) -> str:
    """Decode the HTML entities Telegram understands."""

    def repl(match: re.Match[str]) -> str:
        if match.group(1):
            return chr(int(match.group(1), 16))
        if match.group(2):
            return chr(int(match.group(2)))
        return _HTML_NAMED[match.group(3)]

    return _HTML_ENTITY.sub(repl, text)


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Apply parse_mode=HTML the way Telegram does, raising on markup it rejects."""
    out = _Builder()
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[JSON] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "&":
            match = _HTML_ENTITY.match(text, i)
            # Telegram keeps an '&' that starts no known entity as a literal character.
            out.add(_html_unescape(match.group(0)) if match else "&")
            i = match.end() if match else i + 1
            continue
        if char != "<":
            out.add(char)
            i += 1
            continue
        begin = i
        if text.startswith("</", i):
            if not stack:
                raise _EntityError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
            match = _HTML_NAME.match(text, i + 2)
            name = match.group(0).lower() if match else ""
            i = match.end() if match else i + 2
            while i < n and text[i].isspace():
                i += 1
            if i >= n or text[i] != ">":
                raise _EntityError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            open_name, start, attrs = stack.pop()
            if name != open_name:
                raise _EntityError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{open_name}>", found "</{name}>"'
                )
            _close_html_entity(open_name, start, out.u16, attrs, stack, entities)
            i += 1
            continue
        match = _HTML_NAME.match(text, i + 1)
        name = match.group(0).lower() if match else ""
        if name not in _HTML_TAGS:
            raise _EntityError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs, i = _html_attributes(text, match.end() if match else i + 1, name, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _EntityError(
                f'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        stack.append((name, out.u16, attrs))
        i += 1
    if stack:
        raise _EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.text(), _sorted_entities(entities)


def _close_html_entity(
    name: str,
    start: int,
    end: int,
    attrs: dict[str, str],
    stack: list[tuple[str, int, dict[str, str]]],
    entities: list[JSON],
) -> None:
    """Turn a closed HTML tag into its Bot API entity."""
    kind = _HTML_TAGS[name]
    if end <= start:
        return
    entity: JSON = {"type": kind, "offset": start, "length": end - start}
    if name == "code" and stack and stack[-1][0] == "pre":
        language = attrs.get("class", "")
        # <pre><code class="language-x"> is one pre entity with a language, not two entities.
        if language.startswith("language-"):
            stack[-1][2]["language"] = language.removeprefix("language-")
            return
    if name == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    elif name == "a":
        href = attrs.get("href", "")
        if not href:
            return
        user_match = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user_match:
            user = {"id": int(user_match.group(1)), "is_bot": False, "first_name": ""}
            entity.update(type="text_mention", user=user)
        else:
            entity["url"] = href
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif name == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    entities.append(entity)


def _sorted_entities(entities: list[JSON]) -> list[JSON]:
    """Order entities as Telegram returns them: by offset, outer first."""
    return sorted(entities, key=lambda entity: (entity["offset"], -entity["length"]))


_MDV2_RESERVED: Final = "_*[]()~`>#+-=|{}.!"
_MDV2_NAMES: Final = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _Open:
    """An entity whose end marker has not been seen yet."""

    kind: str
    start: int
    byte_offset: int
    argument: str = ""


def _mdv2_is_end(top: str | None, text: str, i: int) -> bool:
    """Whether the character at i closes the innermost open MarkdownV2 entity."""
    char, following = text[i], text[i + 1 : i + 2]
    return (
        (top == "bold" and char == "*")
        or (top == "italic" and char == "_" and following != "_")
        or (top == "underline" and char == "_" and following == "_")
        or (top == "code" and char == "`")
        or (top == "pre" and text.startswith("```", i))
        or (top in ("text_link", "custom_emoji") and char == "]")
        or (top == "strikethrough" and char == "~")
        or (top == "spoiler" and char == "|" and following == "|")
    )


def _mdv2_url(text: str, i: int) -> tuple[str, int]:
    """Read '(url)' starting at i; return the url and the index of ')'."""
    j = i + 1
    url: list[str] = []
    while j < len(text) and text[j] != ")":
        if text[j] == "\\" and j + 1 < len(text):
            j += 1
        url.append(text[j])
        j += 1
    if j >= len(text):
        raise _EntityError(f"Can't find end of a URL at byte offset {_byte_offset(text, i + 1)}")
    return "".join(url), j


def _mdv2_open(text: str, i: int, start: int) -> tuple[_Open, int]:
    """Open the entity whose marker is at i; return it and the index of its last marker char."""
    char, following = text[i], text[i + 1 : i + 2]
    reserved = _EntityError(
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )
    offset = _byte_offset(text, i)
    if char == "_":
        if following == "_":
            return _Open("underline", start, offset), i + 1
        return _Open("italic", start, offset), i
    simple = {"*": "bold", "~": "strikethrough", "[": "text_link"}
    if char in simple:
        return _Open(simple[char], start, offset), i
    if char == "|":
        if following != "|":
            raise reserved
        return _Open("spoiler", start, offset), i + 1
    if char == "!":
        if following != "[":
            raise reserved
        return _Open("custom_emoji", start, offset), i + 1
    if char == "`":
        if not text.startswith("```", i):
            return _Open("code", start, offset), i
        j = i + 3
        while j < len(text) and not text[j].isspace() and text[j] != "`":
            j += 1
        language = ""
        end = i + 2
        if j != i + 3 and j < len(text) and text[j] != "`":
            language = text[i + 3 : j]
            end = j - 1
        # Telegram drops the line break that follows the opening fence.
        if text[end + 1 : end + 2] in ("\n", "\r"):
            end += 1
        return _Open("pre", start, offset, language), end
    raise reserved


def parse_markdown_v2(text: str) -> tuple[str, list[JSON]]:
    """Apply parse_mode=MarkdownV2 the way Telegram does, raising on markup it rejects."""
    out = _Builder()
    stack: list[_Open] = []
    entities: list[JSON] = []
    quote: tuple[int, bool] | None = None
    line_start = True
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if line_start and not stack:
            expandable = text.startswith("**>", i)
            if char == ">" or expandable:
                if quote is None:
                    quote = (out.u16, expandable)
                i += 3 if expandable else 1
                line_start = False
                continue
            if quote is not None:
                _close_quote(quote, out, entities)
                quote = None
        line_start = False
        if char == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        top = stack[-1].kind if stack else None
        reserved = "`" if top in ("code", "pre") else _MDV2_RESERVED
        if char not in reserved:
            out.add(char)
            line_start = char == "\n"
            i += 1
            continue
        if not _mdv2_is_end(top, text, i):
            opened, i = _mdv2_open(text, i, out.u16)
            stack.append(opened)
            i += 1
            continue
        opened = stack.pop()
        if opened.kind in ("underline", "spoiler"):
            i += 1
        elif opened.kind == "pre":
            i += 2
        entity: JSON = {"type": opened.kind, "offset": opened.start}
        if opened.kind in ("text_link", "custom_emoji"):
            url = ""
            if text[i + 1 : i + 2] == "(":
                url, i = _mdv2_url(text, i + 1)
            if opened.kind == "custom_emoji":
                emoji = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
                if emoji is None:
                    raise _EntityError("Custom emoji entity must contain a tg://emoji URL")
                entity["custom_emoji_id"] = emoji.group(1)
            elif url:
                entity["url"] = url
            else:
                entity = {}
        elif opened.kind == "pre" and opened.argument:
            entity["language"] = opened.argument
        if entity and out.u16 > opened.start:
            entity["length"] = out.u16 - opened.start
            entities.append(entity)
        i += 1
    if stack:
        name = _MDV2_NAMES[stack[-1].kind]
        raise _EntityError(
            f"Can't find end of {name} entity at byte offset {stack[-1].byte_offset}"
        )
    if quote is not None:
        _close_quote(quote, out, entities)
    return out.text(), _sorted_entities(entities)


def _close_quote(quote: tuple[int, bool], out: _Builder, entities: list[JSON]) -> None:
    """Record a MarkdownV2 block quote that ended at the previous line break."""
    start, expandable = quote
    text = out.text()
    end = out.u16 - (1 if text.endswith("\n") else 0)
    if end > start:
        kind = "expandable_blockquote" if expandable else "blockquote"
        entities.append({"type": kind, "offset": start, "length": end - start})


def parse_markdown(text: str) -> tuple[str, list[JSON]]:
    """Apply the legacy parse_mode=Markdown the way Telegram does."""
    out = _Builder()
    entities: list[JSON] = []
    kinds = {"_": "italic", "*": "bold", "`": "code", "[": "text_link"}
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] in ("_", "*", "`", "["):
            out.add(text[i + 1])
            i += 2
            continue
        if char not in kinds:
            out.add(char)
            i += 1
            continue
        begin = i
        end_char = "]" if char == "[" else char
        is_pre = char == "`" and text.startswith("```", i)
        language = ""
        i += 3 if is_pre else 1
        if is_pre:
            j = i
            while j < n and not text[j].isspace() and text[j] != "`":
                j += 1
            if j != i and j < n and text[j] != "`":
                language, i = text[i:j], j
            if text[i : i + 1] == "\n":
                i += 1
        start = out.u16
        while i < n and (text[i] != end_char or (is_pre and not text.startswith("```", i))):
            out.add(text[i])
            i += 1
        if i >= n:
            raise _EntityError(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}"
            )
        entity: JSON = {"type": "pre" if is_pre else kinds[char], "offset": start}
        if language:
            entity["language"] = language
        i += 3 if is_pre else 1
        if char == "[":
            close = text.find(")", i) if text[i : i + 1] == "(" else -1
            if close < 0:
                continue
            entity["url"] = text[i + 1 : close]
            i = close + 1
        if out.u16 > start:
            entity["length"] = out.u16 - start
            entities.append(entity)
    return out.text(), entities


def format_text(text: str, parse_mode: Any, entities: Any) -> tuple[str, list[JSON]]:
    """Return the text the user sees and its entities, or raise the Bot API's 400."""
    if isinstance(entities, list):
        return text, entities
    mode = parse_mode.lower() if isinstance(parse_mode, str) else ""
    parsers: dict[str, Callable[[str], tuple[str, list[JSON]]]] = {
        "html": parse_html,
        "markdownv2": parse_markdown_v2,
        "markdown": parse_markdown,
    }
    if not mode:
        return text, []
    if mode not in parsers:
        raise _bad_request(f"unsupported parse_mode {parse_mode}")
    try:
        return parsers[mode](text)
    except _EntityError as exc:
        raise _bad_request(f"can't parse entities: {exc}") from None


@dataclass
class _FailRule:
    """A pending injected failure."""

    method: str
    status: int
    description: str
    remaining: int
    retry_after: int | None
    chat_id: int | None


@dataclass
class _DelayRule:
    """A pending injected slowness: the answer comes only after `seconds`."""

    method: str
    seconds: float
    remaining: int
    chat_id: int | None


@dataclass
class _StoredFile:
    """A file the fake can hand out through getFile and the file URL."""

    file_id: str
    unique_id: str
    content: bytes
    kind: str
    file_name: str | None = None
    path: str | None = None


@dataclass
class _Request:
    """A decoded Bot API request."""

    method: str
    params: JSON
    files: dict[str, bytes]
    filenames: dict[str, str]


class FakeBotAPI:
    """An aiohttp server on 127.0.0.1 speaking enough of the Bot API for PTB and the tests."""

    def __init__(
        self,
        token: str = TEST_TOKEN,
        *,
        strict: bool = True,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = BOT_FIRST_NAME,
    ) -> None:
        self.token = token
        self.strict = strict
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else BOT_ID
        self.bot_user: JSON = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.calls: list[ApiCall] = []
        self.pushed: dict[int, JSON] = {}
        self.commands_by_language: dict[str | None, list[dict[str, Any]]] = {}
        self.commands: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        self.descriptions: dict[str | None, str] = {}
        self.short_descriptions: dict[str | None, str] = {}
        self.names: dict[str | None, str] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self.chat_titles: dict[int, str] = {}
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.blocked: set[int] = set()
        self._users: dict[int, FakeUser] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._deleted: set[tuple[int, int]] = set()
        self._next_message_id: dict[int, int] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._media: dict[str, Any] = {}
        self._file_counter = 0
        self._callback_ids: set[str] = set()
        self._callback_counter = 0
        self._pending: list[JSON] = []
        self._next_update_id = 1
        self._poll_generation = 0
        self._fail_rules: list[_FailRule] = []
        self._delay_rules: list[_DelayRule] = []
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # ----- lifecycle -----

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. http://127.0.0.1:12345."""
        if self._url is None:
            raise RuntimeError("FakeBotAPI is not started")
        return self._url

    @property
    def base_url(self) -> str:
        """Value for ApplicationBuilder.base_url."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ApplicationBuilder.base_file_url."""
        return f"{self.url}/file/bot"

    async def start(self) -> None:
        """Bind a free port on 127.0.0.1 and start serving."""
        if self._runner is not None:
            return
        # Campaign photos can exceed aiohttp's 1 MiB default body limit.
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # handler_cancellation ends a long poll whose client (a stopping Updater) went away.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._closing = False
        port = runner.addresses[0][1]
        self._url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """End pending long polls and waits, then close the server."""
        self._closing = True
        self._notify()
        runner, self._runner = self._runner, None
        if runner is None:
            return
        # Give woken long polls a turn to write their empty answers before sockets close.
        await asyncio.sleep(0)
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()

    # ----- test-facing helpers -----

    def mark(self) -> int:
        """Index of the next call, for after= in waits."""
        return len(self.calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        """All calls of one method, any case."""
        wanted = _canonical(method)
        return [call for call in self.calls if call.method == wanted]

    def sent_to(self, chat_id: int) -> list[ApiCall]:
        """Successful message-producing and editing calls for a chat, in order."""
        return [call for call in self.calls if _is_output(call, chat_id, edits=True)]

    def messages_in(self, chat_id: int) -> list[JSON]:
        """Current state of the chat: every message not deleted, edits applied, oldest first."""
        found = [(mid, msg) for (cid, mid), msg in self._messages.items() if cid == chat_id]
        return [copy.deepcopy(msg) for _, msg in sorted(found, key=lambda item: item[0])]

    def message(self, chat_id: int, message_id: int) -> JSON | None:
        """Current state of one message, or None if unknown or deleted."""
        found = self._messages.get((chat_id, message_id))
        return copy.deepcopy(found) if found is not None else None

    def summary(self, after: int = 0, limit: int = 20) -> str:
        """Recent calls (long polls left out) for failure messages."""
        recent = [call for call in self.calls[after:] if call.method != "getUpdates"]
        if not recent:
            return f"no Bot API calls since #{after} (total {len(self.calls)})"
        lines = [call.describe() for call in recent[-limit:]]
        skipped = len(recent) - len(lines)
        head = f"calls since #{after}" + (f" ({skipped} older omitted)" if skipped else "")
        return head + ":\n  " + "\n  ".join(lines)

    async def wait_for(
        self,
        predicate: Callable[[ApiCall], bool],
        *,
        after: int = 0,
        timeout: float = 5.0,
    ) -> ApiCall:
        """Return the first call at index >= after matching predicate, waiting if needed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        scanned = after
        while True:
            while scanned < len(self.calls):
                call = self.calls[scanned]
                scanned += 1
                if predicate(call):
                    return call
            if self._closing:
                raise AssertionError(f"FakeBotAPI stopped while waiting; {self.summary(after)}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"no matching Bot API call within {timeout}s; {self.summary(after)}"
                )
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_for_message(
        self,
        chat_id: int,
        *,
        after: int = 0,
        timeout: float = 5.0,
        edits: bool = False,
    ) -> ApiCall:
        """Next successful new-message call to the chat (edits too when edits=True)."""
        return await self.wait_for(
            lambda call: _is_output(call, chat_id, edits=edits), after=after, timeout=timeout
        )

    async def wait_for_edit(
        self, chat_id: int, *, after: int = 0, timeout: float = 5.0
    ) -> ApiCall:
        """Next successful editMessage* call in the chat."""
        return await self.wait_for(
            lambda call: call.ok and call.method in EDIT_METHODS and call.chat_id == chat_id,
            after=after,
            timeout=timeout,
        )

    async def assert_no_message(self, chat_id: int, *, after: int, within: float = 0.3) -> None:
        """Fail if the bot sends or edits anything in the chat during the next `within` s."""
        try:
            call = await self.wait_for(
                lambda call: _is_output(call, chat_id, edits=True), after=after, timeout=within
            )
        except AssertionError:
            return
        raise AssertionError(f"expected silence in chat {chat_id}, got {call.describe()}")

    def user(
        self,
        user_id: int,
        *,
        language_code: str | None = "en",
        first_name: str = "Test",
        username: str | None = None,
    ) -> FakeUser:
        """A user that can write to the bot; the chat title uses their first name."""
        user = FakeUser(
            self,
            user_id,
            language_code=language_code,
            first_name=first_name,
            username=username,
        )
        self._users[user_id] = user
        return user

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates and return its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        queued = {**copy.deepcopy(update), "update_id": update_id}
        self._pending.append(queued)
        self.pushed[update_id] = queued
        self._notify()
        return update_id

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        count: int = 1,
        retry_after: int | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next `count` calls of the method (optionally for one chat) with an error."""
        self._fail_rules.append(
            _FailRule(_canonical(method), status, description, count, retry_after, chat_id)
        )

    def delay_next(
        self, method: str, *, seconds: float, count: int = 1, chat_id: int | None = None
    ) -> None:
        """Answer the next `count` calls of the method (optionally for one chat) only after
        `seconds`, so the bot's client times out while the call still arrives (like Telegram
        under load: the message may be delivered although the bot never hears back)."""
        self._delay_rules.append(_DelayRule(_canonical(method), seconds, count, chat_id))

    def _injected_delay(self, req: _Request) -> float:
        for rule in self._delay_rules:
            if rule.method != req.method or rule.remaining <= 0:
                continue
            if rule.chat_id is not None and req.params.get("chat_id") != rule.chat_id:
                continue
            rule.remaining -= 1
            if rule.remaining == 0:
                self._delay_rules.remove(rule)
            return rule.seconds
        return 0.0

    def callback_query_id(self, update_id: int) -> str:
        """The callback query id carried by a pushed update, to match answerCallbackQuery."""
        query = self.pushed[update_id].get("callback_query")
        if isinstance(query, dict):
            return str(query["id"])
        raise AssertionError(f"update {update_id} is not a callback query")

    def file_bytes(self, file_id: str) -> bytes:
        """Content stored for a file id (uploaded by the bot or sent by a fake user)."""
        return self._files[file_id].content

    # ----- internals shared with FakeUser -----

    def _notify(self) -> None:
        """Wake everything waiting for a new call, an update or shutdown."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _alloc_message_id(self, chat_id: int) -> int:
        """Next message id in a chat; users and the bot share one sequence, as in Telegram."""
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        return message_id

    def _chat(self, chat_id: int) -> JSON:
        """The Chat object for an id: private for users, (super)group for negative ids."""
        if chat_id > 0:
            user = self._users.get(chat_id)
            chat: JSON = {
                "id": chat_id,
                "type": "private",
                "first_name": user.first_name if user else "User",
            }
            if user is not None and user.username:
                chat["username"] = user.username
            return chat
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        title = self.chat_titles.get(chat_id, f"Test {kind}")
        return {"id": chat_id, "type": kind, "title": title}

    def _store_message(self, message: JSON) -> None:
        """Remember a message so edits, copies and taps can find it."""
        self._messages[(message["chat"]["id"], message["message_id"])] = message

    def _register_file(self, content: bytes, kind: str, file_name: str | None = None) -> str:
        """Store content under a fresh file id and return it."""
        self._file_counter += 1
        number = self._file_counter
        file_id = f"fake-{kind}-{number:06d}"
        stored = _StoredFile(file_id, f"uniq{kind}{number:06d}", content, kind, file_name)
        self._files[file_id] = stored
        return file_id

    def _photo_sizes(self, content: bytes) -> list[JSON]:
        """PhotoSize list for a new photo; every size serves the same bytes."""
        sizes: list[JSON] = []
        for width, height in ((90, 68), (800, 600)):
            file_id = self._register_file(content, "photo")
            sizes.append({
                "file_id": file_id,
                "file_unique_id": self._files[file_id].unique_id,
                "width": width,
                "height": height,
                "file_size": len(content),
            })  # fmt: skip
        for size in sizes:
            self._media[size["file_id"]] = sizes
        return sizes

    def _new_callback_id(self) -> str:
        """A fresh callback query id, remembered for answerCallbackQuery checks."""
        self._callback_counter += 1
        callback_id = str(4_000_000_000_000_000 + self._callback_counter)
        self._callback_ids.add(callback_id)
        return callback_id

    # ----- HTTP -----

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Route /bot<token>/<method> and /file/bot<token>/<path>."""
        path = request.path
        if path.startswith("/file/bot"):
            return self._serve_file(path.removeprefix("/file/bot"))
        if not path.startswith("/bot"):
            return _json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        token, _, raw_method = path.removeprefix("/bot").partition("/")
        if token != self.token:
            return _json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        if not raw_method or "/" in raw_method:
            return _json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        at = time.monotonic()
        params, files, filenames = await _read_params(request)
        req = _Request(_canonical(raw_method), params, files, filenames)
        if req.method == "getUpdates":
            return await self._handle_get_updates(req, at)
        delay = self._injected_delay(req)
        if delay:
            # Telegram acts on a request even when the client gave up waiting: finish it (and
            # record it) although the bot's timeout closes the connection meanwhile.
            return await asyncio.shield(self._answer_later(req, at, delay))
        return self._answer(req, at)

    async def _answer_later(self, req: _Request, at: float, delay: float) -> web.Response:
        await asyncio.sleep(delay)
        return self._answer(req, at)

    def _answer(self, req: _Request, at: float) -> web.Response:
        """Dispatch one recorded request and build its answer."""
        index = len(self.calls)
        try:
            result = self._dispatch(req)
        except _ApiError as exc:
            return self._record(req, at, index, None, exc)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # A malformed request is the bot's bug; answer like Telegram would rather than 500.
            _LOGGER.warning("fake Bot API rejected %s: %r", req.method, exc)
            return self._record(req, at, index, None, _bad_request(f"invalid request: {exc!r}"))
        return self._record(req, at, index, result, None)

    def _record(
        self, req: _Request, at: float, index: int, result: Any, error: _ApiError | None
    ) -> web.Response:
        """Append the call to the log, wake waiters and build the HTTP answer."""
        # A JSON round trip both validates the answer and detaches it from later edits.
        result_copy = json.loads(json.dumps(result))
        call = ApiCall(
            method=req.method,
            params=req.params,
            files=req.files,
            at=at,
            index=index,
            result=result_copy,
            error=error.body() if error else None,
            filenames=req.filenames,
        )
        self.calls.append(call)
        self._notify()
        if error is not None:
            return _json_response(error.body(), status=error.status)
        return _json_response({"ok": True, "result": result_copy})

    def _serve_file(self, rest: str) -> web.Response:
        """Serve the bytes behind a getFile path."""
        token, _, file_path = rest.partition("/")
        stored = self._files_by_path.get(file_path) if token == self.token else None
        if stored is None:
            return _json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=stored.content, content_type="application/octet-stream")

    async def _handle_get_updates(self, req: _Request, at: float) -> web.Response:
        """Long-poll for updates, honouring offset, limit and timeout."""
        call = ApiCall(req.method, req.params, req.files, at, index=len(self.calls))
        self.calls.append(call)
        self._notify()
        error = self._injected_failure(req) or self._webhook_conflict()
        if error is not None:
            return _json_response(error.body(), status=error.status)
        # A newer getUpdates supersedes this one, which then gets Telegram's 409.
        self._poll_generation += 1
        generation = self._poll_generation
        offset = req.params.get("offset")
        if isinstance(offset, int):
            self._confirm(offset)
        limit = req.params.get("limit")
        limit = limit if isinstance(limit, int) and 1 <= limit <= 100 else 100
        timeout = req.params.get("timeout")
        timeout = float(timeout) if isinstance(timeout, int | float) else 0.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while True:
            if self._pending or self._closing:
                return _json_response({"ok": True, "result": self._pending[:limit]})
            if generation != self._poll_generation:
                conflict = _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
                return _json_response(conflict.body(), status=409)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return _json_response({"ok": True, "result": []})
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def _confirm(self, offset: int) -> None:
        """Forget updates confirmed by offset, as Telegram does."""
        if offset < 0:
            # A negative offset keeps only the last -offset updates.
            self._pending = self._pending[offset:]
        else:
            self._pending = [update for update in self._pending if update["update_id"] >= offset]

    def _webhook_conflict(self) -> _ApiError | None:
        """Telegram refuses getUpdates while a webhook is set."""
        if not self.webhook_url:
            return None
        return _ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
            "to delete the webhook first",
        )

    def _injected_failure(self, req: _Request) -> _ApiError | None:
        """Consume a matching fail_next rule, if any."""
        for rule in self._fail_rules:
            if rule.method != req.method or rule.remaining <= 0:
                continue
            if rule.chat_id is not None and req.params.get("chat_id") != rule.chat_id:
                continue
            rule.remaining -= 1
            if rule.remaining == 0:
                self._fail_rules.remove(rule)
            parameters = (
                {"retry_after": rule.retry_after} if rule.retry_after is not None else None
            )
            return _ApiError(rule.status, rule.description, parameters)
        return None

    # ----- Bot API methods -----

    def _dispatch(self, req: _Request) -> Any:
        """Answer one non-polling request or raise _ApiError."""
        failure = self._injected_failure(req)
        if failure is not None:
            raise failure
        if req.method in _BLOCKABLE_METHODS:
            chat_id = req.params.get("chat_id")
            if isinstance(chat_id, int) and chat_id in self.blocked:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
        handler = self._handlers().get(req.method)
        if handler is not None:
            return handler(req)
        if req.method in _MEDIA_KINDS:
            return self._send_media(req, _MEDIA_KINDS[req.method])
        return True

    def _handlers(self) -> dict[str, Callable[[_Request], Any]]:
        """Methods with behaviour beyond answering true."""
        return {
            "getMe": self._get_me,
            "sendMessage": self._send_message,
            "sendMediaGroup": self._send_media_group,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "editMessageText": self._edit_text,
            "editMessageCaption": self._edit_caption,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "editMessageMedia": self._edit_media,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._set_text_setting("description", self.descriptions),
            "getMyDescription": self._get_text_setting("description", self.descriptions),
            "setMyShortDescription": self._set_text_setting(
                "short_description", self.short_descriptions
            ),
            "getMyShortDescription": self._get_text_setting(
                "short_description", self.short_descriptions
            ),
            "setMyName": self._set_text_setting("name", self.names),
            "getMyName": self._get_text_setting("name", self.names),
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }

    def _get_me(self, req: _Request) -> JSON:
        """The bot's own User with the getMe-only flags."""
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _chat_id(self, params: JSON, key: str = "chat_id") -> int:
        """The numeric chat a request targets."""
        value = params.get(key)
        if isinstance(value, bool) or value is None or value == "":
            raise _bad_request(f"{key} is empty")
        if isinstance(value, int):
            return value
        raise _bad_request("chat not found")

    def _text_content(self, params: JSON, *, caption: bool) -> JSON:
        """Text or caption fields of a new message, validated like Telegram."""
        key, entities_key = ("caption", "caption_entities") if caption else ("text", "entities")
        raw = params.get(key)
        if raw is None:
            if caption:
                return {}
            raise _bad_request("message text is empty")
        text, entities = format_text(str(raw), params.get("parse_mode"), params.get(entities_key))
        if self.strict:
            if not caption and not text.strip():
                raise _bad_request("message text is empty")
            if not caption and len(text) > _MAX_TEXT:
                raise _bad_request("message is too long")
            if caption and len(text) > _MAX_CAPTION:
                raise _bad_request("message caption is too long")
        content: JSON = {key: text} if text else {}
        if entities and text:
            content[entities_key] = entities
        return content

    def _check_markup(self, markup: Any) -> JSON | None:
        """Validate an inline keyboard; return it if it belongs on the message."""
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            # Reply keyboards and removals are not echoed on the returned Message.
            return None
        if self.strict:
            for row in markup["inline_keyboard"]:
                for button in row:
                    _check_button(button)
        return markup

    def _new_message(self, req: _Request, chat_id: int, content: JSON) -> JSON:
        """Create, store and return a bot message in the chat."""
        message: JSON = {
            "message_id": self._alloc_message_id(chat_id),
            "from": self.bot_user,
            "chat": self._chat(chat_id),
            "date": _now(),
            **content,
        }
        markup = self._check_markup(req.params.get("reply_markup"))
        if markup is not None:
            message["reply_markup"] = markup
        reply = req.params.get("reply_parameters")
        reply_to = reply.get("message_id") if isinstance(reply, dict) else None
        replied = self._messages.get((chat_id, reply_to)) if isinstance(reply_to, int) else None
        if replied is not None:
            message["reply_to_message"] = {
                key: value for key, value in replied.items() if key != "reply_to_message"
            }
        for key in ("link_preview_options", "show_caption_above_media", "has_spoiler"):
            if key in req.params:
                message[key if key != "has_spoiler" else "has_media_spoiler"] = req.params[key]
        self._store_message(message)
        return message

    def _send_message(self, req: _Request) -> JSON:
        """SendMessage."""
        chat_id = self._chat_id(req.params)
        return self._new_message(req, chat_id, self._text_content(req.params, caption=False))

    def _media_object(self, req: _Request, kind: str, ref: Any) -> Any:
        """The Bot API object for a media reference: upload, known file id or URL."""
        if not isinstance(ref, str) or not ref:
            raise _bad_request(f"there is no {kind} in the request")
        content: bytes | None = None
        file_name: str | None = None
        if ref.startswith("attach://"):
            name = ref.removeprefix("attach://")
            if name not in req.files:
                raise _bad_request(f"file {name} not found in the request")
            content, file_name = req.files[name], req.filenames.get(name)
        elif ref in self._media:
            # Re-sending a file id hands back the same object, as Telegram does.
            return copy.deepcopy(self._media[ref])
        if content is None:
            content = b""
        if kind == "photo":
            return self._photo_sizes(content)
        file_id = self._register_file(content, kind, file_name)
        media: JSON = {
            "file_id": file_id,
            "file_unique_id": self._files[file_id].unique_id,
            "file_size": len(content),
        }
        if kind in ("video", "animation", "video_note"):
            media.update(width=640, height=360, duration=5, length=640)
            if kind != "video_note":
                media.pop("length")
        if kind in ("audio", "voice", "video_note"):
            media["duration"] = 5
        if kind == "sticker":
            media.update(width=512, height=512, is_animated=False, is_video=False, type="regular")
        if kind in ("document", "video", "animation", "audio") and file_name:
            media["file_name"] = file_name
        if kind == "document":
            media["mime_type"] = "application/octet-stream"
        self._media[file_id] = media
        return media

    def _send_media(self, req: _Request, kind: str) -> JSON:
        """SendPhoto, sendDocument, sendVideo and friends."""
        chat_id = self._chat_id(req.params)
        content = self._text_content(req.params, caption=True)
        content[kind] = self._media_object(req, kind, req.params.get(kind))
        return self._new_message(req, chat_id, content)

    def _send_media_group(self, req: _Request) -> list[JSON]:
        """SendMediaGroup: one message per item sharing a media_group_id."""
        chat_id = self._chat_id(req.params)
        items = req.params.get("media")
        if not isinstance(items, list) or not items:
            raise _bad_request("media is empty")
        group_id = f"fakegroup{self._file_counter + 1}"
        messages: list[JSON] = []
        for item in items:
            kind = str(item.get("type"))
            content = self._text_content(item, caption=True)
            content[kind] = self._media_object(req, kind, item.get("media"))
            content["media_group_id"] = group_id
            messages.append(self._new_message(req, chat_id, content))
        return messages

    def _source_message(self, req: _Request) -> JSON:
        """The message a copy or forward refers to."""
        from_chat = self._chat_id(req.params, "from_chat_id")
        message_id = req.params.get("message_id")
        source = self._messages.get((from_chat, message_id)) if message_id else None
        if source is None:
            verb = "copy" if req.method == "copyMessage" else "forward"
            raise _bad_request(f"message to {verb} not found")
        return source

    def _copy_message(self, req: _Request) -> JSON:
        """CopyMessage: a new message with the source content; answers a MessageId."""
        chat_id = self._chat_id(req.params)
        source = self._source_message(req)
        content: JSON = {key: source[key] for key in _CONTENT_KEYS if key in source}
        if "caption" in req.params:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._text_content(req.params, caption=True))
        message = self._new_message(req, chat_id, copy.deepcopy(content))
        return {"message_id": message["message_id"]}

    def _forward_message(self, req: _Request) -> JSON:
        """ForwardMessage: a new message carrying forward_origin."""
        chat_id = self._chat_id(req.params)
        source = self._source_message(req)
        content: JSON = {key: source[key] for key in _CONTENT_KEYS if key in source}
        origin: JSON = {"type": "user", "sender_user": source["from"], "date": source["date"]}
        if source["chat"]["type"] != "private":
            origin = {"type": "chat", "sender_chat": source["chat"], "date": source["date"]}
        content["forward_origin"] = origin
        return self._new_message(req, chat_id, copy.deepcopy(content))

    def _edit_target(self, req: _Request) -> tuple[int, int, JSON] | None:
        """The stored message an edit refers to, or None for inline messages."""
        if "inline_message_id" in req.params:
            return None
        chat_id = self._chat_id(req.params)
        message_id = req.params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        old = self._messages.get((chat_id, message_id))
        if old is None:
            if (chat_id, message_id) in self._deleted:
                raise _bad_request("message to edit not found")
            # Unknown ids are accepted so tap_data tests need no setup; use fail_next for errors.
            old = {
                "message_id": message_id,
                "from": self.bot_user,
                "chat": self._chat(chat_id),
                "date": _now(),
            }
        elif self.strict and old.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return chat_id, message_id, old

    def _finish_edit(self, req: _Request, old: JSON, new: JSON) -> JSON:
        """Apply the reply_markup rule, reject no-op edits, store and return the message."""
        new.pop("reply_markup", None)
        # Telegram drops the inline keyboard unless the edit sends one again.
        markup = self._check_markup(req.params.get("reply_markup"))
        if markup is not None:
            new["reply_markup"] = markup
        if self.strict and _visible(old) == _visible(new):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        new["edit_date"] = _now()
        self._store_message(new)
        return new

    def _edit_text(self, req: _Request) -> JSON | bool:
        """EditMessageText."""
        content = self._text_content(req.params, caption=False)
        target = self._edit_target(req)
        if target is None:
            return True
        _, _, old = target
        if self.strict and "text" not in old and any(key in old for key in _MEDIA_KEYS):
            raise _bad_request("there is no text in the message to edit")
        new = {key: value for key, value in old.items() if key not in ("text", "entities")}
        new.update(content)
        for key in ("link_preview_options",):
            if key in req.params:
                new[key] = req.params[key]
        return self._finish_edit(req, old, new)

    def _edit_caption(self, req: _Request) -> JSON | bool:
        """EditMessageCaption."""
        content = self._text_content(req.params, caption=True)
        target = self._edit_target(req)
        if target is None:
            return True
        _, _, old = target
        if self.strict and "text" in old:
            raise _bad_request("there is no caption in the message to edit")
        new = {k: v for k, v in old.items() if k not in ("caption", "caption_entities")}
        new.update(content)
        return self._finish_edit(req, old, new)

    def _edit_reply_markup(self, req: _Request) -> JSON | bool:
        """EditMessageReplyMarkup."""
        target = self._edit_target(req)
        if target is None:
            return True
        _, _, old = target
        return self._finish_edit(req, old, dict(old))

    def _edit_media(self, req: _Request) -> JSON | bool:
        """EditMessageMedia: replace the media and caption."""
        media = req.params.get("media")
        if not isinstance(media, dict):
            raise _bad_request("media is empty")
        kind = str(media.get("type"))
        content = self._text_content(media, caption=True)
        content[kind] = self._media_object(req, kind, media.get("media"))
        target = self._edit_target(req)
        if target is None:
            return True
        _, _, old = target
        drop = {"text", "entities", "caption", "caption_entities", *_MEDIA_KEYS}
        new = {key: value for key, value in old.items() if key not in drop}
        new.update(content)
        return self._finish_edit(req, old, new)

    def _delete_message(self, req: _Request) -> bool:
        """DeleteMessage."""
        chat_id = self._chat_id(req.params)
        key = (chat_id, req.params.get("message_id"))
        if not isinstance(key[1], int):
            raise _bad_request("message identifier is not specified")
        if self.strict and key in self._deleted:
            raise _bad_request("message to delete not found")
        self._messages.pop((chat_id, key[1]), None)
        self._deleted.add((chat_id, key[1]))
        return True

    def _delete_messages(self, req: _Request) -> bool:
        """DeleteMessages: missing ones are skipped, as Telegram does."""
        chat_id = self._chat_id(req.params)
        for message_id in req.params.get("message_ids") or []:
            self._messages.pop((chat_id, message_id), None)
            self._deleted.add((chat_id, message_id))
        return True

    def _answer_callback_query(self, req: _Request) -> bool:
        """AnswerCallbackQuery; strict mode rejects ids no update carried."""
        query_id = req.params.get("callback_query_id")
        if self.strict and query_id not in self._callback_ids:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        return True

    def _get_file(self, req: _Request) -> JSON:
        """GetFile: a File whose path the file URL serves."""
        stored = self._files.get(str(req.params.get("file_id")))
        if stored is None:
            raise _bad_request("invalid file_id")
        if stored.path is None:
            extension = _FILE_EXTENSIONS.get(stored.kind, "bin")
            if stored.file_name and "." in stored.file_name:
                extension = stored.file_name.rsplit(".", 1)[1]
            number = stored.unique_id[-6:]
            stored.path = f"{stored.kind}s/file_{number}.{extension}"
            self._files_by_path[stored.path] = stored
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(stored.content),
            "file_path": stored.path,
        }

    def _set_webhook(self, req: _Request) -> bool:
        """SetWebhook."""
        self.webhook_url = str(req.params.get("url") or "")
        secret = req.params.get("secret_token")
        self.webhook_secret = secret if isinstance(secret, str) else None
        if req.params.get("drop_pending_updates") is True:
            self._pending.clear()
        return True

    def _delete_webhook(self, req: _Request) -> bool:
        """DeleteWebhook."""
        self.webhook_url = ""
        self.webhook_secret = None
        if req.params.get("drop_pending_updates") is True:
            self._pending.clear()
        return True

    def _get_webhook_info(self, req: _Request) -> JSON:
        """GetWebhookInfo."""
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    def _set_my_commands(self, req: _Request) -> bool:
        """SetMyCommands."""
        commands = req.params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("commands must be an array")
        if self.strict:
            for command in commands:
                _check_command(command)
        scope, language = _scope_key(req.params.get("scope")), _language(req.params)
        self.commands[(scope, language)] = commands
        if scope in ("default", "all_private_chats"):
            self.commands_by_language[language] = commands
        return True

    def _get_my_commands(self, req: _Request) -> list[JSON]:
        """GetMyCommands for the exact scope and language."""
        key = (_scope_key(req.params.get("scope")), _language(req.params))
        return self.commands.get(key, [])

    def _delete_my_commands(self, req: _Request) -> bool:
        """DeleteMyCommands."""
        scope, language = _scope_key(req.params.get("scope")), _language(req.params)
        self.commands.pop((scope, language), None)
        if scope in ("default", "all_private_chats"):
            self.commands_by_language.pop(language, None)
        return True

    def _set_text_setting(
        self, key: str, store: dict[str | None, str]
    ) -> Callable[[_Request], bool]:
        """Handler for setMyDescription, setMyShortDescription and setMyName."""

        def handler(req: _Request) -> bool:
            value = req.params.get(key)
            store[_language(req.params)] = value if isinstance(value, str) else ""
            return True

        return handler

    def _get_text_setting(
        self, key: str, store: dict[str | None, str]
    ) -> Callable[[_Request], JSON]:
        """Handler for getMyDescription and friends, falling back to the default language."""

        def handler(req: _Request) -> JSON:
            language = _language(req.params)
            return {key: store.get(language, store.get(None, ""))}

        return handler

    def _set_chat_menu_button(self, req: _Request) -> bool:
        """SetChatMenuButton."""
        chat_id = req.params.get("chat_id")
        button = req.params.get("menu_button")
        key = chat_id if isinstance(chat_id, int) else None
        self.menu_buttons[key] = button if isinstance(button, dict) else {"type": "default"}
        return True

    def _get_chat_menu_button(self, req: _Request) -> JSON:
        """GetChatMenuButton."""
        chat_id = req.params.get("chat_id")
        key = chat_id if isinstance(chat_id, int) else None
        return self.menu_buttons.get(key, self.menu_buttons.get(None, {"type": "default"}))

    def _get_chat(self, req: _Request) -> JSON:
        """GetChat: a minimal ChatFullInfo."""
        chat = self._chat(self._chat_id(req.params))
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"), False
        )
        gifts["gifts_from_channels"] = False
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    def _get_chat_member(self, req: _Request) -> JSON:
        """GetChatMember: the bot is an administrator, everyone else a member."""
        chat_id = self._chat_id(req.params)
        user_id = req.params.get("user_id")
        if user_id == self.bot_id:
            rights = [
                "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
                "can_delete_stories",
            ]  # fmt: skip
            member = dict.fromkeys(rights, False)
            member.update(can_manage_chat=True, can_delete_messages=True, can_invite_users=True)
            return {"status": "administrator", "user": self.bot_user, **member}
        if chat_id > 0 and user_id == chat_id and chat_id in self.blocked:
            return {"status": "kicked", "user": self._user_json(user_id), "until_date": 0}
        return {"status": "member", "user": self._user_json(user_id)}

    def _user_json(self, user_id: Any) -> JSON:
        """The User object for an id, from the registered fake users when possible."""
        user = self._users.get(user_id) if isinstance(user_id, int) else None
        if user is not None:
            return user.as_user
        return {"id": user_id, "is_bot": False, "first_name": "User"}


class FakeUser:
    """A Telegram user writing to the bot through the fake server."""

    def __init__(
        self,
        api: FakeBotAPI,
        user_id: int,
        *,
        language_code: str | None,
        first_name: str,
        username: str | None,
    ) -> None:
        self.api = api
        self.id = user_id
        self.language_code = language_code
        self.first_name = first_name
        self.username = username

    @property
    def as_user(self) -> JSON:
        """The User object Telegram puts in `from`."""
        user: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username is not None:
            user["username"] = self.username
        if self.language_code is not None:
            user["language_code"] = self.language_code
        return user

    @property
    def chat(self) -> JSON:
        """This user's private chat with the bot."""
        return self.api._chat(self.id)

    def _push_message(self, content: JSON, chat_id: int | None) -> int:
        """Store a message from this user and queue it as an update."""
        target = self.id if chat_id is None else chat_id
        message: JSON = {
            "message_id": self.api._alloc_message_id(target),
            "from": self.as_user,
            "chat": self.api._chat(target),
            "date": _now(),
            **content,
        }
        self.api._store_message(message)
        return self.api.push_update({"message": message})

    def send(self, text: str, *, chat_id: int | None = None) -> int:
        """Send a text message (private chat unless chat_id names a group)."""
        content: JSON = {"text": text}
        command = re.match(r"/\S+", text)
        if command is not None:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _u16(command.group(0))}
            ]
        return self._push_message(content, chat_id)

    def send_photo(
        self, caption: str | None = None, *, content: bytes = FAKE_JPEG, chat_id: int | None = None
    ) -> int:
        """Send a photo whose file id getFile can serve."""
        message: JSON = {"photo": self.api._photo_sizes(content)}
        if caption is not None:
            message["caption"] = caption
        return self._push_message(message, chat_id)

    def send_document(
        self,
        content: bytes,
        *,
        file_name: str = "receipt.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> int:
        """Send a document whose file id getFile can serve."""
        file_id = self.api._register_file(content, "document", file_name)
        document = {
            "file_id": file_id,
            "file_unique_id": self.api._files[file_id].unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        self.api._media[file_id] = document
        message: JSON = {"document": document}
        if caption is not None:
            message["caption"] = caption
        return self._push_message(message, chat_id)

    def tap(self, message: ApiCall, label_substring: str) -> int:
        """Press the inline button containing the label on the message as it is now."""
        message_id = message.message_id if isinstance(message.result, dict) else None
        chat_id = message.chat_id
        if message_id is None or chat_id is None:
            raise AssertionError(f"{message.describe()} produced no message to tap")
        current = self.api._messages.get((chat_id, message_id))
        if current is None:
            raise AssertionError(f"message of {message.describe()} no longer exists")
        flat = [button for row in buttons_of(current.get("reply_markup")) for button in row]
        matching = [button for button in flat if label_substring in button.text]
        if not matching:
            edited = (
                " (the message was edited since that call)" if current.get("edit_date") else ""
            )
            raise AssertionError(
                f"no button containing {label_substring!r} on message {message_id} "
                f"in chat {chat_id}{edited}; buttons now: {[button.text for button in flat]}"
            )
        if matching[0].callback_data is None:
            raise AssertionError(
                f"button {matching[0].text!r} has no callback_data (url={matching[0].url!r}); "
                "pressing it sends the bot nothing"
            )
        return self._push_callback(copy.deepcopy(current), matching[0].callback_data)

    def tap_data(self, message_id: int, data: str, *, chat_id: int | None = None) -> int:
        """Send a callback query with arbitrary data, as a tampered client could."""
        target = self.id if chat_id is None else chat_id
        stored = self.api._messages.get((target, message_id))
        # An unknown message arrives as Telegram's InaccessibleMessage (date 0).
        message = (
            copy.deepcopy(stored)
            if stored is not None
            else {"chat": self.api._chat(target), "message_id": message_id, "date": 0}
        )
        return self._push_callback(message, data)

    def _push_callback(self, message: JSON, data: str) -> int:
        """Queue a callback_query update for a message."""
        query = {
            "id": self.api._new_callback_id(),
            "from": self.as_user,
            "chat_instance": f"{message['chat']['id']}0042",
            "data": data,
            "message": message,
        }
        return self.api.push_update({"callback_query": query})

    def block_bot(self) -> int:
        """Block the bot; later sends to this chat get 403 like in Telegram."""
        self.api.blocked.add(self.id)
        return self._push_member_change("member", "kicked")

    def unblock_bot(self) -> int:
        """Unblock the bot (Telegram's Restart button, before its /start)."""
        self.api.blocked.discard(self.id)
        return self._push_member_change("kicked", "member")

    def _push_member_change(self, old: str, new: str) -> int:
        """Queue a my_chat_member update for the bot's membership in this private chat."""

        def member(status: str) -> JSON:
            entry: JSON = {"status": status, "user": self.api.bot_user}
            if status == "kicked":
                entry["until_date"] = 0
            return entry

        update = {
            "chat": self.chat,
            "from": self.as_user,
            "date": _now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return self.api.push_update({"my_chat_member": update})


def _canonical(method: str) -> str:
    """Telegram's spelling of a method name received in any case."""
    return _CANONICAL.get(method.lower(), method)


def _is_output(call: ApiCall, chat_id: int, *, edits: bool) -> bool:
    """Whether a call successfully put a message (or, optionally, an edit) in the chat."""
    methods = MESSAGE_METHODS | EDIT_METHODS if edits else MESSAGE_METHODS
    return call.ok and call.method in methods and call.chat_id == chat_id


def _visible(message: JSON) -> JSON:
    """What the user sees of a message, to detect edits that change nothing."""
    keys = (*_CONTENT_KEYS, "reply_markup")
    return {key: message[key] for key in keys if key in message}


def _check_button(button: Any) -> None:
    """Reject an inline button the way Telegram does."""
    if not isinstance(button, dict) or not button.get("text"):
        raise _bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [action for action in _BUTTON_ACTIONS if action in button]
    if len(actions) != 1:
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not (
        isinstance(data, str) and 1 <= len(data.encode("utf-8")) <= _MAX_CALLBACK_DATA
    ):
        raise _bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and (not isinstance(url, str) or not url or any(c.isspace() for c in url)):
        raise _bad_request("BUTTON_URL_INVALID")


def _check_command(command: Any) -> None:
    """Reject a BotCommand the way Telegram does."""
    name = command.get("command") if isinstance(command, dict) else None
    description = command.get("description") if isinstance(command, dict) else None
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
        raise _bad_request("BOT_COMMAND_INVALID")
    if not isinstance(description, str) or not 1 <= len(description) <= 256:
        raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")


def _scope_key(scope: Any) -> str:
    """A readable key for a BotCommandScope: 'default', 'chat:-100…', 'chat_member:-1:42'."""
    if not isinstance(scope, dict):
        return "default"
    parts = [str(scope.get("type", "default"))]
    parts += [str(scope[key]) for key in ("chat_id", "user_id") if key in scope]
    return ":".join(parts)


def _language(params: JSON) -> str | None:
    """The language_code of a settings call, None when absent or empty."""
    value = params.get("language_code")
    return value if isinstance(value, str) and value else None


def _json_response(body: Any, *, status: int = 200) -> web.Response:
    """A JSON answer with the given HTTP status."""
    return web.json_response(body, status=status)


async def _read_params(request: web.Request) -> tuple[JSON, dict[str, bytes], dict[str, str]]:
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
    referenced = set(_ATTACH_RE.findall(json.dumps(params)))
    for name in files:
        if name not in referenced and name not in params:
            params[name] = f"attach://{name}"
    return params, files, filenames

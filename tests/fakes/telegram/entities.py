"""parse_mode=HTML applied as Telegram applies it, and the length limits counted after it."""

from __future__ import annotations

import re
from typing import Any, Final

from tests.fakes.telegram.errors import bad_request

JSON = dict[str, Any]

# Both limits count the characters a user sees, once the markup is parsed away.
MAX_TEXT: Final = 4096
MAX_CAPTION: Final = 1024

_ENTITY: Final = re.compile(r"&(?:#[xX]([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(lt|gt|amp|quot));")
_NAME: Final = re.compile(r"[a-zA-Z0-9-]+")
_NAMED: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAGS: Final = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip


class EntityError(Exception):
    """Markup Telegram could not parse; the message is Telegram's own wording."""


def u16(text: str) -> int:
    """Length in UTF-16 code units, the unit of Bot API entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    """UTF-8 byte offset of a character index, as Telegram reports parse errors."""
    return len(text[:index].encode("utf-8"))


def _unescape(text: str) -> str:
    """Decode the HTML entities Telegram understands; any other '&' stays literal."""

    def repl(match: re.Match[str]) -> str:
        if match.group(1):
            return chr(int(match.group(1), 16))
        if match.group(2):
            return chr(int(match.group(2)))
        return _NAMED[match.group(3)]

    return _ENTITY.sub(repl, text)


def _attributes(text: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Parse attributes up to the closing '>' of a start tag; return them and the '>' index."""
    attrs: dict[str, str] = {}
    unclosed = EntityError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise unclosed
        if text[i] == ">":
            return attrs, i
        match = _NAME.match(text, i)
        if match is None:
            raise EntityError(
                f'Empty attribute name in the tag "{tag}" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        name, i = match.group(0).lower(), match.end()
        while i < n and text[i].isspace():
            i += 1
        if i >= n or text[i] != "=":
            attrs[name] = ""
            continue
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i < n and text[i] in "\"'":
            end = text.find(text[i], i + 1)
            if end < 0:
                raise unclosed
            value, i = text[i + 1 : end], end + 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] != ">":
                i += 1
            value = text[start:i]
        attrs[name] = _unescape(value)


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """The plain text and the entities of an HTML text, or EntityError as Telegram words it."""
    parts: list[str] = []
    length = 0
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[JSON] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char != "<":
            match = _ENTITY.match(text, i) if char == "&" else None
            plain = _unescape(match.group(0)) if match else char
            parts.append(plain)
            length += u16(plain)
            i = match.end() if match else i + 1
            continue
        begin = i
        if text.startswith("</", i):
            if not stack:
                raise EntityError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
            match = _NAME.match(text, i + 2)
            name = match.group(0).lower() if match else ""
            i = match.end() if match else i + 2
            while i < n and text[i].isspace():
                i += 1
            if i >= n or text[i] != ">":
                raise EntityError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
            open_name, start, attrs = stack.pop()
            if name != open_name:
                raise EntityError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{open_name}>", found "</{name}>"'
                )
            _close(open_name, start, length, attrs, stack, entities)
            i += 1
            continue
        match = _NAME.match(text, i + 1)
        name = match.group(0).lower() if match else ""
        if name not in _TAGS:
            raise EntityError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs, i = _attributes(text, match.end() if match else i + 1, name, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityError(
                f'Tag "span" must have class "tg-spoiler" at byte offset '
                f"{_byte_offset(text, begin)}"
            )
        stack.append((name, length, attrs))
        i += 1
    if stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    # Telegram returns entities by offset, the outer one first.
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(parts), entities


def _close(
    name: str,
    start: int,
    end: int,
    attrs: dict[str, str],
    stack: list[tuple[str, int, dict[str, str]]],
    entities: list[JSON],
) -> None:
    """Turn a closed tag into its Bot API entity; empty ones are dropped, as Telegram does."""
    if end <= start:
        return
    entity: JSON = {"type": _TAGS[name], "offset": start, "length": end - start}
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
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            mentioned = {"id": int(user.group(1)), "is_bot": False, "first_name": ""}
            entity.update(type="text_mention", user=mentioned)
        else:
            entity["url"] = href
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif name == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    entities.append(entity)


def format_text(text: str, parse_mode: Any, entities: Any) -> tuple[str, list[JSON]]:
    """The text the user sees and its entities, or the Bot API's 400 for markup it refuses."""
    if isinstance(entities, list):
        return text, entities
    if parse_mode is None or parse_mode == "":
        return text, []
    if not isinstance(parse_mode, str) or parse_mode.lower() != "html":
        # The bot speaks HTML only; a fake that guessed at Markdown would hide that change.
        raise bad_request(f"unsupported parse_mode {parse_mode} (the fake parses HTML only)")
    try:
        return parse_html(text)
    except EntityError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None


def text_content(params: JSON, *, caption: bool) -> JSON:
    """The text or caption fields of a message, refused like Telegram once parsed."""
    key, entities_key = ("caption", "caption_entities") if caption else ("text", "entities")
    raw = params.get(key)
    if raw is None:
        if caption:
            return {}
        raise bad_request("message text is empty")
    text, entities = format_text(str(raw), params.get("parse_mode"), params.get(entities_key))
    if not caption and not text.strip():
        raise bad_request("message text is empty")
    if not caption and len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    if caption and len(text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    content: JSON = {key: text} if text else {}
    if entities and text:
        content[entities_key] = entities
    return content

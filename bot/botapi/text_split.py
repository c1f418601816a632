"""Telegram's length of an HTML text, and splitting long texts at the most natural boundary."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024

# From the most to the least natural place to cut.
_SEPARATORS = ("\n\n", "\n", " ")
# A tag (a quoted attribute value may hold '>'), or one of the entities Telegram decodes;
# any other '&' is a literal character, as Telegram reads it.
_MARKUP = re.compile(
    r"<(?P<end>/?)(?P<name>[a-zA-Z0-9-]*)[^>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^>\"']*)*>"
    r"|&(?:#[xX](?P<hex>[0-9a-fA-F]{1,6})|#(?P<dec>[0-9]{1,7})|(?P<named>lt|gt|amp|quot));"
)
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units: a character outside the BMP (most emoji) counts 2."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def telegram_length(html: str) -> int:
    """How long Telegram counts an HTML text: tags parsed away, entities decoded, in UTF-16."""
    return utf16_length(_MARKUP.sub(_shown, html))


def _shown(match: re.Match[str]) -> str:
    """What a tag or an entity shows once parsed: nothing, or the character it stands for."""
    if match.group("named"):
        return _NAMED[match.group("named")]
    number = match.group("hex") or match.group("dec")
    if number is None:
        return ""
    code = int(number, 16 if match.group("hex") else 10)
    # Telegram refuses a code point that is no character; one unit keeps the count honest.
    return chr(code) if code <= 0x10FFFF else "?"


def split_message(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Pack paragraphs (then lines, then words) into as few messages as possible, none over
    `limit` as Telegram counts; a tag open across a cut is closed before it, opened after it."""
    if limit < 16:
        raise ValueError("limit is too small to split sensibly")
    splitter = _Splitter(_tokens(text), limit)
    return splitter.render(splitter.pack(0, len(splitter.tokens), 0))


@dataclass(frozen=True, slots=True)
class _Token:
    """One character, entity or tag: the smallest piece a cut may leave whole."""

    raw: str
    shown: str
    opens: str = ""
    closes: str = ""

    @property
    def blank(self) -> bool:
        return not self.opens and not self.closes and not self.shown.strip()


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    for match in _MARKUP.finditer(text):
        tokens += [_Token(char, char) for char in text[position:match.start()]]
        position = match.end()
        raw, name = match.group(0), match.group("name")
        if raw.startswith("&"):
            tokens.append(_Token(raw, _shown(match)))
        elif match.group("end"):
            tokens.append(_Token(raw, "", closes=(name or "").lower()))
        else:
            tokens.append(_Token(raw, "", opens=(name or "").lower()))
    tokens += [_Token(char, char) for char in text[position:]]
    return tokens


class _Splitter:
    """Cuts a token list into spans within the limit, then writes each span as valid HTML."""

    def __init__(self, tokens: list[_Token], limit: int) -> None:
        self.tokens = tokens
        self._limit = limit
        self._offsets = [0]
        for token in tokens:
            self._offsets.append(self._offsets[-1] + utf16_length(token.shown))

    def _width(self, start: int, end: int) -> int:
        return self._offsets[end] - self._offsets[start]

    def pack(self, start: int, end: int, level: int) -> Iterator[tuple[int, int]]:
        """Spans covering tokens[start:end] in order, each within the limit."""
        if self._width(start, end) <= self._limit:
            yield start, end
            return
        if level == len(_SEPARATORS):
            yield from self._hard_cut(start, end)
            return
        current: tuple[int, int] | None = None
        for block in self._blocks(start, end, _SEPARATORS[level]):
            if self._width(*block) > self._limit:
                if current:
                    yield current
                    current = None
                yield from self.pack(*block, level + 1)
            elif current and self._width(current[0], block[1]) <= self._limit:
                current = (current[0], block[1])
            else:
                if current:
                    yield current
                current = block
        if current:
            yield current

    def _blocks(self, start: int, end: int, separator: str) -> Iterator[tuple[int, int]]:
        # Tags and entities are single tokens, so a separator is never found inside one.
        size, begin, i = len(separator), start, start
        while i <= end - size:
            if all(self.tokens[i + k].raw == separator[k] for k in range(size)):
                yield begin, i
                begin = i = i + size
            else:
                i += 1
        yield begin, end

    def _hard_cut(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        # A word longer than a message: cut between tokens, never inside a tag or an entity.
        begin = start
        for i in range(start, end):
            if self._width(begin, i + 1) > self._limit:
                yield begin, i
                begin = i
        yield begin, end

    def render(self, spans: Iterator[tuple[int, int]]) -> list[str]:
        """Each span as HTML of its own, with the tags open across its edges closed or reopened;
        spans showing nothing but blanks are left out."""
        open_tags: list[_Token] = []
        walked = 0
        parts: list[str] = []
        for start, end in spans:
            while start < end and self.tokens[start].blank:
                start += 1
            while end > start and self.tokens[end - 1].blank:
                end -= 1
            self._walk(open_tags, walked, start)
            reopened = "".join(tag.raw for tag in open_tags)
            self._walk(open_tags, start, end)
            walked = end
            body = self.tokens[start:end]
            if any(token.shown.strip() for token in body):
                closing = "".join(f"</{tag.opens}>" for tag in reversed(open_tags))
                parts.append(reopened + "".join(token.raw for token in body) + closing)
        return parts

    def _walk(self, open_tags: list[_Token], start: int, end: int) -> None:
        for token in self.tokens[start:end]:
            if token.opens:
                open_tags.append(token)
            elif token.closes:
                names = [tag.opens for tag in open_tags]
                # An end tag with no start tag is the author's error: Telegram will say so.
                if token.closes in names:
                    del open_tags[len(names) - 1 - names[::-1].index(token.closes):]

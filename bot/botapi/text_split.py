"""Splitting long HTML text into Telegram messages at the most natural boundary available."""

from __future__ import annotations

from collections.abc import Iterator

TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024

# From the most to the least natural place to cut.
_SEPARATORS = ("\n\n", "\n", " ")


def split_message(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Pack paragraphs into as few messages as possible, none longer than `limit`."""
    if limit < 16:
        raise ValueError("limit is too small to split sensibly")
    return [part for part in _pack(text.strip(), limit, 0) if part]


def _pack(text: str, limit: int, level: int) -> Iterator[str]:
    if len(text) <= limit:
        yield text
        return
    if level == len(_SEPARATORS):
        yield from _hard_cut(text, limit)
        return
    separator = _SEPARATORS[level]
    current = ""
    for block in _split_outside_tags(text, separator):
        if len(block) > limit:
            if current:
                yield current
                current = ""
            yield from _pack(block.strip(), limit, level + 1)
            continue
        candidate = f"{current}{separator}{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
        else:
            yield current.strip()
            current = block
    if current.strip():
        yield current.strip()


def _split_outside_tags(text: str, separator: str) -> list[str]:
    # The space inside <a href="…"> is not a place to cut: glue back what a tag spans.
    blocks: list[str] = []
    for piece in text.split(separator):
        if blocks and blocks[-1].rfind("<") > blocks[-1].rfind(">"):
            blocks[-1] += separator + piece
        else:
            blocks.append(piece)
    return blocks


def _hard_cut(text: str, limit: int) -> Iterator[str]:
    # A single word longer than a message: cut it, but never inside a <tag> or an &entity;.
    while len(text) > limit:
        cut = limit
        tag_open, tag_close = text.rfind("<", 0, cut), text.rfind(">", 0, cut)
        if tag_open > tag_close:
            cut = tag_open
        amp, semicolon = text.rfind("&", 0, cut), text.rfind(";", 0, cut)
        if amp > semicolon and cut - amp <= 10:
            cut = amp
        if cut == 0:
            cut = limit
        yield text[:cut]
        text = text[cut:]
    if text:
        yield text

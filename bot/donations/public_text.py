"""Text a donor asks to show publicly (words of support, a first name), as a reader sees it.

Format and control characters show nothing, and the bidirectional ones can make the text
around them read backwards, so they are removed before anything is stored. The few that shape
the visible character before them are kept there and nowhere else.
"""

from __future__ import annotations

import unicodedata

# Unicode's Other_Default_Ignorable_Code_Point: blank though they are not format characters
# (Hangul fillers, the combining grapheme joiner, unassigned ignorables).
_IGNORABLE = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x2065, 0x2065), (0x3164, 0x3164),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0xE0000, 0xE0FFF),
)
# Format characters that print a sign of their own (Unicode's Prepended_Concatenation_Mark).
_PRINTED_FORMATS = frozenset(
    "\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd"
)
# Joiners and variation selectors: emoji sequences, Persian and Indic spelling, emoji style.
_JOINERS = (
    (0x180B, 0x180D), (0x180F, 0x180F), (0x200C, 0x200D), (0xFE00, 0xFE0F), (0xE0100, 0xE01EF),
)
# Emoji tag characters spell the subdivision flags (England, Scotland, Wales) after this one.
_FLAG = "\U0001f3f4"
_TAGS = (0xE0020, 0xE007F)
# The braille blank reads as a space between braille words.
_BLANKS = frozenset("\u2800")


def _within(char: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= ord(char) <= high for low, high in ranges)


def _is_tag(char: str) -> bool:
    return _TAGS[0] <= ord(char) <= _TAGS[1]


def _is_invisible(char: str) -> bool:
    category = unicodedata.category(char)
    if category == "Cf":
        return char not in _PRINTED_FORMATS
    return category in ("Cc", "Cs") or _within(char, _IGNORABLE)


def visible_text(text: str) -> str:
    """The text without invisible or direction-changing characters, spaces collapsed."""
    kept: list[str] = []
    for char in text:
        before = kept[-1] if kept else " "
        if char.isspace() or char in _BLANKS:
            kept.append(" ")
        elif _is_tag(char):
            if before == _FLAG or _is_tag(before):
                kept.append(char)
        elif _within(char, _JOINERS):
            if not before.isspace():
                kept.append(char)
        elif not _is_invisible(char):
            kept.append(char)
    return " ".join("".join(kept).split())

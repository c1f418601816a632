"""An amount in euros written out in French words, as a tax receipt states it ("somme en toutes
lettres"), in the traditional spelling: "quatre-vingts euros", "deux cent mille euros"."""

from __future__ import annotations

_UNITS = (
    "zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix",
    "onze", "douze", "treize", "quatorze", "quinze", "seize",
)  # fmt: skip
_TENS = {2: "vingt", 3: "trente", 4: "quarante", 5: "cinquante", 6: "soixante"}
LARGEST = 999_999_999_999


def _below_hundred(number: int) -> str:
    if number <= 16:
        return _UNITS[number]
    if number < 20:
        return f"dix-{_UNITS[number - 10]}"
    tens, unit = divmod(number, 10)
    if tens == 7:
        # Sixty and ten and more: soixante-dix, soixante et onze, soixante-douze…
        return "soixante et onze" if unit == 1 else f"soixante-{_below_hundred(10 + unit)}"
    if tens == 8:
        return "quatre-vingts" if unit == 0 else f"quatre-vingt-{_UNITS[unit]}"
    if tens == 9:
        return f"quatre-vingt-{_below_hundred(10 + unit)}"
    if unit == 0:
        return _TENS[tens]
    if unit == 1:
        return f"{_TENS[tens]} et un"
    return f"{_TENS[tens]}-{_UNITS[unit]}"


def _below_thousand(number: int, *, before_mille: bool) -> str:
    """1 to 999; "cents" and "quatre-vingts" lose their s before "mille", which is not a noun
    (unlike million and milliard)."""
    hundreds, rest = divmod(number, 100)
    words = []
    if hundreds == 1:
        words.append("cent")
    elif hundreds:
        plural = rest == 0 and not before_mille
        words.append(f"{_UNITS[hundreds]} cent{'s' if plural else ''}")
    if rest:
        below = _below_hundred(rest)
        words.append("quatre-vingt" if rest == 80 and before_mille else below)
    return " ".join(words)


def number_in_words(number: int) -> str:
    """A whole number from 0 to LARGEST in French words."""
    if not 0 <= number <= LARGEST:
        raise ValueError(f"{number} is outside 0 to {LARGEST}")
    if number == 0:
        return _UNITS[0]
    billions, rest = divmod(number, 1_000_000_000)
    millions, rest = divmod(rest, 1_000_000)
    thousands, units = divmod(rest, 1000)
    words = []
    for count, noun in ((billions, "milliard"), (millions, "million")):
        if count:
            words.append(
                f"{_below_thousand(count, before_mille=False)} {noun}{'s' if count > 1 else ''}"
            )
    if thousands:
        words.append(
            "mille" if thousands == 1
            else f"{_below_thousand(thousands, before_mille=True)} mille"
        )
    if units:
        words.append(_below_thousand(units, before_mille=False))
    return " ".join(words)


def euros_in_words(minor: int) -> str:
    """Cents of euro in words: "trente euros et cinquante centimes", "un million d'euros"."""
    euros, cents = divmod(minor, 100)
    parts = []
    if euros:
        # "d'euros" right after million or milliard, which are nouns.
        joiner = " d'" if euros % 1_000_000 == 0 else " "
        parts.append(f"{number_in_words(euros)}{joiner}euro{'s' if euros > 1 else ''}")
    if cents:
        parts.append(f"{number_in_words(cents)} centime{'s' if cents > 1 else ''}")
    return " et ".join(parts) or "zéro euro"

"""Who issues tax receipts (reçus fiscaux, Cerfa 11580), read from the campaign file's [receipts].

Only an eligible association that receives the money itself may issue them; a collection run by
volunteers may not, so the default is none, and every detail a receipt prints comes from the
file: the bot invents none of them, the legal article least of all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NONE = "none"
REQUIRED = ("name", "address", "object", "article")
OPTIONAL = ("identifier", "signatory")
MAX_TEXT = 300
# A SIREN is 9 digits (spaces allowed, as printed); an RNA number W and 9 characters.
_SIREN = re.compile(r"[0-9]{9}")
_RNA = re.compile(r"W[0-9A-Z]{9}")


@dataclass(frozen=True)
class ReceiptIssuer:
    """The association named on every receipt, as the campaign file spells it."""

    name: str
    address: str
    # Its purpose (objet), as the receipt states it.
    object: str
    # The article of the tax code the gift falls under, e.g. "article 200 du CGI".
    article: str
    # SIREN or RNA number, and who signs the receipts: optional on the form.
    identifier: str = ""
    signatory: str = ""


def read_receipt_issuer(value: Any) -> tuple[ReceiptIssuer | None, list[str]]:
    """The issuer, or None for "none"; with every problem found, one line each."""
    if value == NONE:
        return None, []
    if not isinstance(value, Mapping):
        return None, [
            f'must be "{NONE}" or a table with {_listed(REQUIRED)} (and optionally '
            f"{_listed(OPTIONAL)})"
        ]
    problems = [
        f"has an unknown key {key!r}: known keys are {', '.join(REQUIRED + OPTIONAL)}"
        for key in value if key not in REQUIRED + OPTIONAL
    ]
    texts: dict[str, str] = {}
    for key in REQUIRED + OPTIONAL:
        raw = value.get(key, "")
        if not isinstance(raw, str) or len(raw.strip()) > MAX_TEXT:
            problems.append(f"{key} must be a text of at most {MAX_TEXT} characters")
        else:
            texts[key] = raw.strip()
    missing = [key for key in REQUIRED if key in texts and not texts[key]]
    if missing:
        problems.append(
            f"is missing {_listed(missing)}: a receipt needs {_listed(REQUIRED)}"
        )
    identifier = texts.get("identifier", "").replace(" ", "").upper()
    if identifier and not (_SIREN.fullmatch(identifier) or _RNA.fullmatch(identifier)):
        problems.append(
            "identifier must be a SIREN number (9 digits) or an RNA number (W and 9 characters)"
        )
    if problems:
        return None, problems
    return ReceiptIssuer(**{**texts, "identifier": identifier}), []


def _listed(names: tuple[str, ...] | list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"

"""How the stripe SDK's requests arrive: form-encoded nested params and a Bearer key."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

Json = dict[str, Any]

_FORM_KEY: Final = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_FORM_INDEX: Final = re.compile(r"\[([^\[\]]*)\]")


@dataclass
class StripeRequest:
    """One API request the fake received, decoded from the SDK's wire format."""

    method: str
    path: str
    params: Json
    idempotency_key: str | None
    at: float
    stripe_version: str | None = None
    api_key: str | None = None
    status: int = 0
    replayed: bool = False


def decode_form(pairs: Iterable[tuple[str, str]]) -> Json:
    """Rebuild the nested params the SDK flattened into ``a[b][0][c]=v`` form keys."""
    root: Json = {}
    for key, value in pairs:
        match = _FORM_KEY.fullmatch(key)
        tokens = [match.group(1), *_FORM_INDEX.findall(match.group(2))] if match else [key]
        node = root
        for position, token in enumerate(tokens):
            # An empty index ("expand[]") appends, as Stripe's Rack parser does.
            name = token if token else str(len(node))
            if position == len(tokens) - 1:
                node[name] = value
                continue
            child = node.get(name)
            if not isinstance(child, dict):
                child = {}
                node[name] = child
            node = child
    return {key: _listify(value) for key, value in root.items()}


def _listify(value: Any) -> Any:
    """Turn dicts keyed "0", "1", ... into lists, since the SDK always indexes arrays."""
    if not isinstance(value, dict):
        return value
    items = {key: _listify(item) for key, item in value.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def api_key_of(header: str | None) -> str | None:
    """The secret key from the SDK's ``Authorization: Bearer sk_...`` header."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None

"""Referral codes carried by /start deep links (Telegram's payload alphabet, up to 64 chars)."""

from __future__ import annotations

import re

_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
# Payloads the bot itself uses when Stripe sends the donor back; they are not referrals.
RETURN_PAYLOADS = frozenset({"thanks", "cancelled"})


def is_referral_code(text: str) -> bool:
    """Whether `text` can be a code of a share link."""
    return _CODE.fullmatch(text) is not None and text not in RETURN_PAYLOADS


def parse_referral(payload: str) -> str | None:
    """The referral code of a /start payload, or None for anything else (ignored safely)."""
    return payload if is_referral_code(payload) else None

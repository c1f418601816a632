"""Every Redis key the bot uses, built here under one prefix, with its purpose and lifetime."""

from __future__ import annotations

PREFIX = "calais:"


def user(user_id: int) -> str:
    """Hash: locale, whether it was chosen, referral code. No TTL; deleted by /forget."""
    return f"{PREFIX}user:{user_id}"


def photo_file_id(fingerprint: str) -> str:
    """String: Telegram file_id of the uploaded campaign photo, so it is uploaded once. No TTL."""
    return f"{PREFIX}photo:{fingerprint}"


def totals() -> str:
    """Hash: raised (net, minor units), gross, donors, donations, refunded, disputed. No TTL."""
    return f"{PREFIX}totals"

"""Erasure marks: who used /forget and when, as keyed fingerprints, so their id is never stored.

A mark answers one question: was this Stripe object (a Checkout Session, a subscription) created
before its donor asked to be forgotten? Stripe still carries the old id in its metadata, so such
an object must stay anonymous, while a gift begun after the forget is thanked and linked again.

The fingerprints are HMAC-SHA256 of the id under a key derived from TELEGRAM_BOT_TOKEN, which is
configuration and never in Redis: a copy of the database alone cannot test ids against them (an
earlier release kept its salt beside them; start-up deletes both, see `drop_legacy`).

Rotating the token (BotFather's /revoke) changes the key, so older marks stop matching. What they
still guard is short-lived: a Checkout Session expires 24 h after it was created, and a monthly
gift whose first payment was recorded before the forget was unlinked in Redis, which keeps its
renewals anonymous without any mark (MonthlyGifts.erased_owner). What a rotation exposes is only
a gift begun before the forget whose payment reaches the bot after both: it is thanked again.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from redis.asyncio import Redis

from bot.storage import keys
from bot.storage.connection import as_text

# Versioned, so a change of scheme can never match the marks of the one before.
KEY_LABEL = b"calais:forget-marks:v1"


def marks_key(secret: str) -> bytes:
    """The fingerprints' HMAC key, derived from a configured secret that Redis never holds."""
    return hmac.new(secret.encode(), KEY_LABEL, hashlib.sha256).digest()


class ErasureMarks:
    """Remembers that a user asked to be forgotten, and when, without remembering who they were."""

    def __init__(self, redis: Redis, secret: str) -> None:
        self._redis = redis
        self._key = marks_key(secret)

    def fingerprint(self, user_id: int) -> str:
        """The user's mark's field, for a script that reads the mark itself."""
        return hmac.digest(self._key, str(user_id).encode(), "sha256").hex()

    async def forgotten_at(self, user_id: int) -> int | None:
        """When this user last used /forget (epoch seconds), or None if they never did."""
        raw = as_text(await self._redis.hget(keys.erasure_marks(), self.fingerprint(user_id)))
        return int(raw) if raw is not None else None

    async def mark(self, user_id: int) -> None:
        """From now on, a Stripe object created until this second no longer links to this id."""
        await self._redis.hset(
            keys.erasure_marks(), self.fingerprint(user_id), int(time.time())
        )

    async def drop_legacy(self) -> None:
        """Delete an earlier release's salt and its fingerprints, which the salt made reversible.

        They cannot be recomputed under the new key without the ids they hide; the gifts they
        guarded are covered anyway (see the module's docstring)."""
        await self._redis.delete(keys.legacy_forget_salt(), keys.legacy_forgotten_users())

"""Per-user records in Redis: language choice and what the bot remembers about a supporter."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.i18n import SUPPORTED_LOCALES, supported_locale
from bot.storage import keys
from bot.storage.connection import as_text

# A question the bot asked stops capturing the user's messages after this long.
AWAITING_TTL_SECONDS = 15 * 60


class UserStore:
    """Reads and writes the small per-user hash; every write is a single command."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def chosen_locale(self, user_id: int) -> str | None:
        """The locale stored for this user, if it is one the bot speaks."""
        stored = as_text(await self._redis.hget(keys.user(user_id), "locale"))
        return stored if stored in SUPPORTED_LOCALES else None

    async def set_locale(self, user_id: int, locale: str, *, chosen: bool) -> None:
        """Remember the user's locale; an explicit choice wins over later language_code guesses."""
        await self._redis.hset(
            keys.user(user_id),
            mapping={"locale": supported_locale(locale), "chosen": int(chosen)},
        )

    async def remember_locale(self, user_id: int, locale: str) -> str:
        """Store a guessed locale unless a supported one is already stored; returns the stored."""
        key = keys.user(user_id)
        await self._redis.hsetnx(key, "locale", supported_locale(locale))
        stored = as_text(await self._redis.hget(key, "locale"))
        if stored in SUPPORTED_LOCALES:
            return stored
        # Written before the store checked values (a forged "fr\n"): the guess replaces it.
        await self._redis.hset(key, "locale", locale)
        return locale

    async def photo_file_id(self, fingerprint: str) -> str | None:
        return as_text(await self._redis.get(keys.photo_file_id(fingerprint)))

    async def set_photo_file_id(self, fingerprint: str, file_id: str) -> None:
        await self._redis.set(keys.photo_file_id(fingerprint), file_id)

    async def remember_referral(self, user_id: int, code: str) -> None:
        """First touch wins: the code a supporter first arrived with stays theirs."""
        await self._redis.hsetnx(keys.user(user_id), "referral", code)

    async def referral(self, user_id: int) -> str | None:
        return as_text(await self._redis.hget(keys.user(user_id), "referral"))

    async def expect_input(self, user_id: int, what: str) -> None:
        """Remember what the bot just asked the user to type ("amount:once", "words:<id>")."""
        await self._redis.set(keys.awaiting_input(user_id), what, ex=AWAITING_TTL_SECONDS)

    async def expected_input(self, user_id: int) -> str | None:
        return as_text(await self._redis.get(keys.awaiting_input(user_id)))

    async def clear_expected_input(self, user_id: int) -> None:
        await self._redis.delete(keys.awaiting_input(user_id))

    async def forget(self, user_id: int) -> None:
        """Delete the user's record and any question left open (for /forget)."""
        await self._redis.delete(keys.user(user_id), keys.awaiting_input(user_id))

"""Per-user records in Redis: language choice and what the bot remembers about a supporter."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.i18n import SUPPORTED_LOCALES, supported_locale
from bot.storage import keys, update_state
from bot.storage.connection import as_text
from bot.storage.rate_limit import COUNTER_TTL_SECONDS
from bot.storage.update_state import Counts, UpdateState

# A question the bot asked stops capturing the user's messages after this long.
AWAITING_TTL_SECONDS = 15 * 60


class UserStore:
    """Reads and writes the small per-user hash; every write is a single command, every read
    of an update's handlers the one read of its state."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._read = redis.register_script(update_state.READ)

    async def read_update_state(
        self, user_id: int, guessed_locale: str, counts: Counts, photo: str | None
    ) -> UpdateState:
        """The one read an update makes (bot/storage/update_state), storing the guessed locale
        unless one is stored; `photo` is the campaign photo's file_id key, if it has one."""
        reply = await self._read(
            keys=[
                counts.user or "", keys.user(user_id), keys.awaiting_input(user_id), keys.totals(),
                photo or "", counts.sessions or "",
            ],
            args=[
                counts.user_limit, COUNTER_TTL_SECONDS, supported_locale(guessed_locale),
                *SUPPORTED_LOCALES,
            ],
        )
        return update_state.parse(user_id, reply)

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

    async def photo_file_id(self, fingerprint: str) -> str | None:
        """The file_id of a photo uploaded before (set_photo_file_id), if any."""
        return as_text(await self._redis.get(keys.photo_file_id(fingerprint)))

    async def set_photo_file_id(self, fingerprint: str, file_id: str) -> None:
        await self._redis.set(keys.photo_file_id(fingerprint), file_id)

    async def remember_referral(self, user_id: int, code: str) -> None:
        """First touch wins: the code a supporter first arrived with stays theirs."""
        await self._redis.hsetnx(keys.user(user_id), "referral", code)

    async def referral(self, user_id: int) -> str | None:
        """The code the supporter first arrived with, if any."""
        return as_text(await self._redis.hget(keys.user(user_id), "referral"))

    async def choose_need(self, user_id: int, need_id: str | None) -> None:
        """Remember which need the supporter's next gifts are for; None: where it helps most."""
        if need_id is None:
            await self._redis.hdel(keys.user(user_id), "need")
        else:
            await self._redis.hset(keys.user(user_id), "need", need_id)

    async def expect_input(self, user_id: int, what: str) -> None:
        """Remember what the bot just asked the user to type ("amount:once", "words:<id>")."""
        await self._redis.set(keys.awaiting_input(user_id), what, ex=AWAITING_TTL_SECONDS)

    async def clear_expected_input(self, user_id: int) -> None:
        await self._redis.delete(keys.awaiting_input(user_id))

    async def forget(self, user_id: int) -> None:
        """Delete the user's record and any question left open (for /forget)."""
        await self._redis.delete(keys.user(user_id), keys.awaiting_input(user_id))

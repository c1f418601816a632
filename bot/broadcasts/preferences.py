"""How often, and when, each subscriber hears from the campaign: cadence and quiet hours.

Both live in the user's hash (so /forget takes them with it); the digest subscribers are also
listed per cadence, so a digest run and /stats read a list instead of scanning every user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from bot.i18n import SUPPORTED_LOCALES
from bot.storage import keys
from bot.storage.connection import as_text


class Cadence(StrEnum):
    """Every update as it goes out, or one digest a day or a week."""

    INSTANT = "instant"
    DAILY = "daily"
    WEEKLY = "weekly"


DIGESTS = (Cadence.DAILY, Cadence.WEEKLY)

# The subscriber's own quiet hours: absent from the hash means the campaign's default window.
QUIET_OFF = "off"
_WINDOW = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])")


@dataclass(frozen=True)
class QuietHours:
    """A daily window in the campaign's time zone, which may run past midnight (22:00-08:00)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """"22:00-08:00"; ValueError for anything else, or an empty window."""
        match = _WINDOW.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not a window such as 22:00-08:00")
        start = time(int(match[1]), int(match[2]))
        end = time(int(match[3]), int(match[4]))
        if start == end:
            raise ValueError(f"{text!r} is an empty window")
        return cls(start, end)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, moment: datetime) -> bool:
        """Whether `moment` (aware) falls inside the window, read in `moment`'s time zone."""
        now = moment.time().replace(second=0, microsecond=0, tzinfo=None)
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def ends_after(self, moment: datetime) -> datetime:
        """When the window holding `moment` ends (`moment` itself when outside it)."""
        if not self.contains(moment):
            return moment
        zone = moment.tzinfo
        end = datetime.combine(moment.date(), self.end, tzinfo=zone)
        if end <= moment:
            end = datetime.combine(moment.date() + timedelta(days=1), self.end, tzinfo=zone)
        return end


# The campaign file's default: no message between 22:00 and 08:00 unless a subscriber says so.
DEFAULT_QUIET_HOURS = QuietHours(time(22, 0), time(8, 0))


@dataclass(frozen=True)
class Preferences:
    """One subscriber's choice; `quiet` None means no quiet hours at all."""

    cadence: Cadence
    quiet: QuietHours | None


def read_preferences(
    cadence: str | None, quiet: str | None, default_quiet: QuietHours | None
) -> Preferences:
    """The stored fields as a choice: anything not in the allowed set reads as the default."""
    try:
        chosen = Cadence(cadence) if cadence else Cadence.INSTANT
    except ValueError:
        chosen = Cadence.INSTANT
    window = default_quiet
    if quiet == QUIET_OFF:
        window = None
    elif quiet:
        try:
            window = QuietHours.parse(quiet)
        except ValueError:
            window = default_quiet
    return Preferences(chosen, window)


# KEYS: user hash, then the digest lists (daily, weekly). ARGV: user id, cadence, now (ms).
# The field and the lists move together, so a digest run never misses nor doubles anyone.
_SET_CADENCE = """
redis.call('HSET', KEYS[1], 'cadence', ARGV[2])
for i = 2, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
if ARGV[2] == 'daily' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) end
if ARGV[2] == 'weekly' then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1]) end
-- Back to every update: the last digest's marks go, so a digest chosen later starts then
-- (bot/broadcasts/digest_delivery.py).
if ARGV[2] == 'instant' then
  redis.call('HDEL', KEYS[1], 'digest_at', 'digest_prev', 'digest_run')
end
return 1
"""


class SubscriberPreferences:
    """Reads and changes cadence and quiet hours, each validated against the allowed set."""

    def __init__(self, redis: Redis, default_quiet: QuietHours | None) -> None:
        self._redis = redis
        self._default_quiet = default_quiet
        self._set_cadence = redis.register_script(_SET_CADENCE)

    @property
    def default_quiet(self) -> QuietHours | None:
        return self._default_quiet

    async def of(self, user_id: int) -> Preferences:
        cadence, quiet = await self._redis.hmget(keys.user(user_id), "cadence", "quiet")
        return read_preferences(as_text(cadence), as_text(quiet), self._default_quiet)

    async def set_cadence(self, user_id: int, cadence: Cadence, now_ms: int) -> None:
        await self._set_cadence(
            keys=[keys.user(user_id), *(keys.digest_subscribers(c) for c in DIGESTS)],
            args=[user_id, cadence.value, now_ms],
        )

    async def set_quiet(self, user_id: int, window: QuietHours | None) -> None:
        """A window of the subscriber's own, or None for no quiet hours."""
        value = QUIET_OFF if window is None else str(window)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.user(user_id), "quiet", value)
            # Listed, so a preview reads these few and counts the rest by the default window.
            pipe.sadd(keys.quiet_custom(), user_id)
            await pipe.execute()

    async def use_default_quiet(self, user_id: int) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(keys.user(user_id), "quiet")
            pipe.srem(keys.quiet_custom(), user_id)
            await pipe.execute()

    async def custom_quiet(self) -> dict[int, QuietHours | None]:
        """The users with a window of their own (None: off), by user id."""
        members = [int(as_text(m) or 0) for m in await self._redis.smembers(keys.quiet_custom())]
        async with self._redis.pipeline(transaction=False) as pipe:
            for member in members:
                pipe.hget(keys.user(member), "quiet")
            fields = await pipe.execute()
        return {
            member: read_preferences(None, as_text(field), self._default_quiet).quiet
            for member, field in zip(members, fields, strict=True)
        }

    async def digest_counts(self) -> dict[Cadence, int]:
        """How many chose each digest (the rest of the subscribers take every update)."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for cadence in DIGESTS:
                pipe.zcard(keys.digest_subscribers(cadence))
            counts = await pipe.execute()
        return {cadence: int(count) for cadence, count in zip(DIGESTS, counts, strict=True)}

    async def subscribed_digest_counts(self) -> dict[Cadence, int]:
        """How many still subscribed chose each digest: who left or blocked the bot keeps the
        choice for their return, so stays on its list without being a subscriber."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for cadence in DIGESTS:
                listed = keys.digest_subscribers(cadence)
                for locale in SUPPORTED_LOCALES:
                    pipe.zintercard(2, [listed, keys.subscribers(locale)])
            counts = iter(await pipe.execute())
        return {cadence: sum(int(next(counts)) for _ in SUPPORTED_LOCALES) for cadence in DIGESTS}

    async def forget(self, user_id: int) -> None:
        """For /forget: off the digest and quiet lists (the hash goes with the user's record)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            for cadence in DIGESTS:
                pipe.zrem(keys.digest_subscribers(cadence), user_id)
            pipe.srem(keys.quiet_custom(), user_id)
            await pipe.execute()


def local_now(now: float, zone: ZoneInfo) -> datetime:
    """Epoch seconds as an aware time in the campaign's zone."""
    return datetime.fromtimestamp(now, zone)

"""Who follows the news from Calais, in which language, and who can no longer be reached."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from bot.i18n import SUPPORTED_LOCALES, supported_locale
from bot.storage import keys
from bot.storage.connection import as_text

# Every script gets KEYS: user hash, blocked set, join clock, the sorted set of the user's
# locale, then the sorted sets of the other locales.

# A new join score: the time (ms), or one above the last score handed out when that is later,
# so scores are unique and a broadcast's cut-off (bot/broadcasts/store.py) is above every
# score handed out before it and below every one after.
_JOIN_SCORE = """
local function join_score(now)
  local score = math.max(tonumber(redis.call('GET', KEYS[3]) or '0') + 1, tonumber(now))
  redis.call('SET', KEYS[3], score)
  return score
end
"""

# ARGV: user id, now (ms). Returns 1 if the user was not subscribed before.
# A move to another language keeps the join score: a broadcast being sent, which feeds every
# language in score order, then reaches the subscriber once, whichever list they are on.
_SUBSCRIBE = _JOIN_SCORE + """
local was = redis.call('HGET', KEYS[1], 'subscribed') == '1'
redis.call('HSET', KEYS[1], 'subscribed', 1)
redis.call('HDEL', KEYS[1], 'blocked')
redis.call('SREM', KEYS[2], ARGV[1])
local score = false
for i = 5, #KEYS do
  score = score or redis.call('ZSCORE', KEYS[i], ARGV[1])
  redis.call('ZREM', KEYS[i], ARGV[1])
end
if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then
  redis.call('ZADD', KEYS[4], score or join_score(ARGV[2]), ARGV[1])
end
if was then return 0 end
return 1
"""

# ARGV: user id.
# Returns 1 if the user was subscribed.
_UNSUBSCRIBE = """
local was = redis.call('HGET', KEYS[1], 'subscribed') == '1'
redis.call('HSET', KEYS[1], 'subscribed', 0)
redis.call('SREM', KEYS[2], ARGV[1])
for i = 4, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
if was then return 1 end
return 0
"""

# ARGV: user id. A subscriber who refused the bot leaves every list until they come back.
_BLOCK = """
if redis.call('HGET', KEYS[1], 'subscribed') ~= '1' then return 0 end
redis.call('HSET', KEYS[1], 'blocked', 1)
redis.call('SADD', KEYS[2], ARGV[1])
for i = 4, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 1
"""

# ARGV: user id, now (ms). Back on the list as a new subscriber: a broadcast already being sent
# does not reach them (it never counted them).
_REACTIVATE = _JOIN_SCORE + """
if redis.call('HGET', KEYS[1], 'blocked') ~= '1' then return 0 end
redis.call('HDEL', KEYS[1], 'blocked')
redis.call('SREM', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[1], 'subscribed') == '1' then
  redis.call('ZADD', KEYS[4], join_score(ARGV[2]), ARGV[1])
end
return 1
"""


def _now_ms() -> int:
    return int(time.time() * 1000)


class Subscribers:
    """Subscription state, kept as one sorted set per language so a broadcast reads each
    language's recipients in batches, never all at once."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._subscribe = redis.register_script(_SUBSCRIBE)
        self._unsubscribe = redis.register_script(_UNSUBSCRIBE)
        self._block = redis.register_script(_BLOCK)
        self._reactivate = redis.register_script(_REACTIVATE)

    def _keys(self, user_id: int, locale: str = SUPPORTED_LOCALES[0]) -> list[str]:
        others = [keys.subscribers(other) for other in SUPPORTED_LOCALES if other != locale]
        # A locale outside the lists would file the user where no broadcast and no /forget looks.
        own = keys.subscribers(supported_locale(locale))
        return [
            keys.user(user_id), keys.blocked_subscribers(), keys.subscribers_clock(), own,
            *others,
        ]

    async def subscribe(self, user_id: int, locale: str) -> bool:
        """Follow the news in `locale`; False if the user already did."""
        added = await self._subscribe(keys=self._keys(user_id, locale), args=[user_id, _now_ms()])
        return bool(added)

    async def unsubscribe(self, user_id: int) -> bool:
        """Stop the news; False if the user was not subscribed."""
        return bool(await self._unsubscribe(keys=self._keys(user_id), args=[user_id]))

    async def is_subscribed(self, user_id: int) -> bool:
        return as_text(await self._redis.hget(keys.user(user_id), "subscribed")) == "1"

    async def change_locale(self, user_id: int, locale: str) -> None:
        """Move an active subscriber to the list of their new language."""
        if await self._redis.hget(keys.user(user_id), "blocked") is not None:
            return
        if await self.is_subscribed(user_id):
            await self._subscribe(keys=self._keys(user_id, locale), args=[user_id, _now_ms()])

    async def mark_blocked(self, user_id: int) -> bool:
        """The chat refused the bot: receive nothing more until they come back."""
        return bool(await self._block(keys=self._keys(user_id), args=[user_id]))

    async def reactivate(self, user_id: int, locale: str) -> bool:
        """A blocked subscriber came back (unblocked the bot, or /start)."""
        reactivated = await self._reactivate(
            keys=self._keys(user_id, locale), args=[user_id, _now_ms()]
        )
        return bool(reactivated)

    async def counts(self) -> dict[str, int]:
        """Active subscribers per locale."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for locale in SUPPORTED_LOCALES:
                pipe.zcard(keys.subscribers(locale))
            counts = await pipe.execute()
        return dict(zip(SUPPORTED_LOCALES, (int(count) for count in counts), strict=True))

    async def blocked_count(self) -> int:
        return int(await self._redis.scard(keys.blocked_subscribers()))

    async def migrate(self, old_chat_id: int, new_chat_id: int, locale: str) -> None:
        """A group became a supergroup: follow it to its new id."""
        if await self.unsubscribe(old_chat_id):
            await self.subscribe(new_chat_id, locale)

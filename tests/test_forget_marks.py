"""The marks /forget leaves cannot be matched to ids with what Redis holds, only with the token."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from redis.asyncio import Redis

from bot.storage import keys
from bot.storage.connection import connect, text_of
from bot.storage.erasure import ErasureMarks
from tests.conftest import running_bot
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import TEST_TOKEN, FakeBotAPI

FORGOTTEN = 1_234
# Small enough to try every id against every value in Redis; the forgotten one is inside.
ID_RANGE = range(1_000, 2_000)


async def every_value(redis: Redis) -> set[bytes]:
    """Every key name, string, hash field and value, member and stream field in Redis."""
    found: set[bytes] = set()
    async for raw in redis.scan_iter(count=500):
        key = text_of(raw)
        found.add(key.encode())
        kind = text_of(await redis.type(key))
        parts: list[Any] = []
        if kind == "string":
            parts = [await redis.get(key)]
        elif kind == "hash":
            parts = [item for pair in (await redis.hgetall(key)).items() for item in pair]
        elif kind == "set":
            parts = list(await redis.smembers(key))
        elif kind == "zset":
            parts = list(await redis.zrange(key, 0, -1))
        elif kind == "list":
            parts = list(await redis.lrange(key, 0, -1))
        elif kind == "stream":
            entries: Any = await redis.xrange(key)
            for _, fields in entries:
                parts += [item for pair in fields.items() for item in pair]
        found.update(text_of(part).encode() for part in parts)
    return found


def fingerprint(key: bytes, user_id: int) -> str:
    return hmac.new(key, str(user_id).encode(), hashlib.sha256).hexdigest()


async def test_fingerprints_are_not_recomputed_from_redis_alone_only_with_the_token(
    redis_url: str,
) -> None:
    redis = connect(redis_url)
    try:
        await ErasureMarks(redis, TEST_TOKEN).mark(FORGOTTEN)
        stored = {text_of(field) for field in await redis.hkeys(keys.erasure_marks())}
        assert len(stored) == 1
        for candidate in await every_value(redis):
            hits = [user_id for user_id in ID_RANGE if fingerprint(candidate, user_id) in stored]
            assert hits == [], f"a value in Redis keys the marks: {candidate!r}"
        derived = hmac.new(TEST_TOKEN.encode(), b"calais:forget-marks:v1", hashlib.sha256)
        assert fingerprint(derived.digest(), FORGOTTEN) in stored
        marks = ErasureMarks(redis, TEST_TOKEN)
        assert await marks.forgotten_at(FORGOTTEN) is not None
        assert await marks.forgotten_at(FORGOTTEN + 1) is None
        # Another token (a rotation) no longer matches the older marks.
        assert await ErasureMarks(redis, "111:other").forgotten_at(FORGOTTEN) is None
    finally:
        await redis.aclose()


async def test_start_up_deletes_an_earlier_releases_salt_and_fingerprints(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    redis = connect(bot_env["REDIS_URL"])
    try:
        salt = "a" * 64
        await redis.set(keys.legacy_forget_salt(), salt)
        await redis.sadd(keys.legacy_forgotten_users(), fingerprint(salt.encode(), FORGOTTEN))
        async with running_bot(bot_env, telegram, stripe_server):
            legacy = await redis.exists(keys.legacy_forget_salt(), keys.legacy_forgotten_users())
        assert legacy == 0
    finally:
        await redis.aclose()

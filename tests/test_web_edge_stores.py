"""The stores the web edge reads, Telegram's update log and the readiness probe, on real Redis."""

from __future__ import annotations

from bot.storage import keys
from bot.storage.connection import connect
from bot.storage.health import StorageHealth
from bot.storage.update_log import SEEN_UPDATE_SECONDS, UpdateLog
from tests.conftest import free_port


async def test_update_log_accepts_each_update_id_once_for_a_day(redis_url: str) -> None:
    redis = connect(redis_url)
    try:
        log = UpdateLog(redis)
        assert await log.first_time(41)
        assert not await log.first_time(41)
        assert await log.first_time(42)
        ttl = await redis.ttl(keys.telegram_update(41))
        assert SEEN_UPDATE_SECONDS - 5 < ttl <= SEEN_UPDATE_SECONDS
    finally:
        await redis.aclose()


async def test_storage_health_answers_without_raising_whether_redis_is_up_or_not(
    redis_url: str,
) -> None:
    up, down = connect(redis_url), connect(f"redis://127.0.0.1:{free_port()}/0")
    try:
        assert await StorageHealth(up).answers()
        assert not await StorageHealth(down).answers()
    finally:
        await up.aclose()
        await down.aclose()

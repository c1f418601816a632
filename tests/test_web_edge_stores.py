"""The stores the web edge reads, Telegram's update log and the readiness probe, on real Redis."""

from __future__ import annotations

import asyncio

from bot.storage import keys
from bot.storage.connection import connect
from bot.storage.health import StorageHealth
from bot.storage.update_log import DONE_SECONDS, Standing, UpdateLog
from tests.conftest import free_port


async def test_update_log_lets_one_delivery_handle_an_update_until_done_or_lapsed(
    redis_url: str,
) -> None:
    redis = connect(redis_url)
    try:
        log = UpdateLog(redis, claim_seconds=1.0)
        first = await log.claim(41)
        assert first.standing is Standing.CLAIMED
        again = await log.claim(41)
        assert again.standing is Standing.ELSEWHERE and again.retry_after_seconds == 1
        assert await log.renew(first) and not await log.renew(again)
        # The holder stops renewing (its process died): the next delivery handles the update.
        await asyncio.sleep(1.3)
        taken_over = await log.claim(41)
        assert taken_over.standing is Standing.CLAIMED
        assert not await log.renew(first), "a lapsed claim stays lost"
        await log.done(41)
        assert (await log.claim(41)).standing is Standing.DONE
        ttl = await redis.ttl(keys.telegram_update(41))
        assert DONE_SECONDS - 5 < ttl <= DONE_SECONDS

        given_up = await log.claim(42)
        await log.release(again)  # not the holder: nothing happens
        assert (await log.claim(42)).standing is Standing.ELSEWHERE
        await log.release(given_up)
        assert (await log.claim(42)).standing is Standing.CLAIMED
        # Accepted by a process from before claims, during a rolling upgrade.
        await redis.set(keys.telegram_update(43), 1, ex=DONE_SECONDS)
        assert (await log.claim(43)).standing is Standing.DONE
    finally:
        await redis.aclose()


async def test_deliveries_arriving_together_each_learn_where_their_own_update_stands(
    redis_url: str,
) -> None:
    redis = connect(redis_url)
    try:
        log = UpdateLog(redis, claim_seconds=60.0)
        await log.done(50)
        # Two deliveries of each of 51..60 at the same moment, one of an update already done:
        # their claims travel to Redis together.
        claims = await asyncio.gather(*(log.claim(n) for n in [50, *range(51, 61)] * 2))
        by_update = {n: [c.standing for c in claims if c.update_id == n] for n in range(50, 61)}
        assert by_update[50] == [Standing.DONE, Standing.DONE]
        for n in range(51, 61):
            assert sorted(by_update[n], key=str) == [Standing.CLAIMED, Standing.ELSEWHERE], n
        held = [c for c in claims if c.standing is Standing.CLAIMED]
        assert all(c.retry_after_seconds == 60 for c in claims if c.standing is Standing.ELSEWHERE)
        renewed = await asyncio.gather(*(log.renew(c) for c in held))
        await asyncio.gather(*(log.done(c.update_id) for c in held[:5]))
        assert renewed == [True] * 10
        after = await asyncio.gather(*(log.claim(c.update_id, c.token) for c in held))
        assert [c.standing for c in after] == [Standing.DONE] * 5 + [Standing.CLAIMED] * 5
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

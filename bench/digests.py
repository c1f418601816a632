"""The daily digest run for every daily subscriber at the rate limit, measured like a paced
broadcast: achieved messages a second at the fake's receive clock over BROADCAST_RATE."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.harness import ADMIN_ID, FIRST_CHAT, LIMIT_RATE, ROOT, Bench, Row, rate_of
from bot.broadcasts.store import BroadcastContent, BroadcastStatus, BroadcastStore, now_ms
from bot.storage import keys

# The broadcasts' paced row's limit, so the two ratios compare: 100,000 digests take 56 minutes.
# (At 500/s a paced broadcast reached only 373/s on the 2-core machine, the digests 358/s.)
DIGEST_RATE = LIMIT_RATE
MARKER = "DIGESTBENCH"
UPDATES = 3
# The campaign file's time zone.
CAMPAIGN_ZONE = ZoneInfo("Europe/Paris")


async def measure_digests(bench: Bench) -> None:
    """Every subscriber chose the daily digest; three updates went out; the digest time has
    just passed when the bot starts, so it catches the run up at once."""
    count = bench.sizes.digest_subscribers
    await bench.seed(count)
    chosen = now_ms() - 3_600_000
    async with bench.redis.pipeline(transaction=False) as pipe:
        for start in range(0, count, 10_000):
            chats = range(FIRST_CHAT + start, FIRST_CHAT + min(count, start + 10_000))
            pipe.zadd(keys.digest_subscribers("daily"), dict.fromkeys(map(str, chats), chosen))
        await pipe.execute()
    store = BroadcastStore(bench.redis)
    for n in range(UPDATES):
        update = await store.create(
            BroadcastContent({"en": f"{MARKER} news {n}", "fr": f"{MARKER} nouvelles {n}"}),
            created_by=ADMIN_ID, admin_locale="en", progress_chat=ADMIN_ID, progress_message=1,
        )
        await bench.redis.zrem(keys.broadcast_pending(), update)
        await bench.redis.hset(keys.broadcast(update), mapping={
            "status": "done", "started_at": now_ms(), "finished_at": now_ms(),
        })
    bench.telegram.reset(MARKER)
    env = bench.env(BROADCAST_RATE=str(DIGEST_RATE), CAMPAIGN_FILE=str(_campaign_file(bench)))
    async with bench.bot(env, "digests"):
        run = await _run_id(bench, timeout=30)
        # Room for a run at a quarter of the limit: the row then says how far it fell short.
        await bench.wait_status(
            run, BroadcastStatus.DONE, timeout=count / (DIGEST_RATE / 4) + 120
        )
    times = bench.telegram.received
    if len(times) != count or len(set(bench.telegram.chats)) != count:
        raise RuntimeError(f"digest run delivered {len(times)} messages")
    achieved = (len(times) - 1) / (times[-1] - times[0])
    bench.rows.append(Row(
        f"digest run msg/s, BROADCAST_RATE={DIGEST_RATE}", f"{achieved:.2f}/s",
        f"configured limit {DIGEST_RATE}/s", f"{achieved / DIGEST_RATE:.3f}", "≥ 0.98",
        achieved / DIGEST_RATE >= 0.98,
        f"{count:,} daily subscribers, one digest each of {UPDATES} updates "
        f"({rate_of(times):.2f}/s), built per recipient from their last digest",
    ))


def _campaign_file(bench: Bench) -> Path:
    """The repository's campaign with its digest time a minute ago (midnight at the earliest)."""
    campaign = (ROOT / "campaign.toml").read_text().replace('"assets/', f'"{ROOT}/assets/')
    now = datetime.now(CAMPAIGN_ZONE)
    at = max(now - timedelta(minutes=1), now.replace(hour=0, minute=0)).time()
    path = bench.workdir / "digests-campaign.toml"
    path.write_text(campaign.replace('time = "19:00"', f'time = "{at:%H:%M}"'))
    return path


async def _run_id(bench: Bench, timeout: float) -> int:
    """The daily run the bot queued as it started."""
    day = datetime.now(CAMPAIGN_ZONE).date().isoformat()
    for _ in range(int(timeout / 0.05)):
        found = await bench.redis.get(keys.digest_run("daily", day))
        if found:
            return int(found)
        await asyncio.sleep(0.05)
    raise RuntimeError("no digest run was queued")

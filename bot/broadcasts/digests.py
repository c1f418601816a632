"""Daily and weekly digests: one run a period, sent by the broadcast engine like any broadcast.

A run is a broadcast whose job has `audience` = digest, a `cadence` and a `cut` (ms): it holds
every update (what /updates shows) that started by the cut. It is kept out of the archive, so
neither /updates nor anyone's count of broadcasts sees it. The engine activates it when no other
broadcast is being sent (one at a time), so no update starts while a run goes out; its feed
queues the digest list (bot/broadcasts/digest_delivery.py), and each recipient's content is
built from the updates since their own last digest. The run is created once per period (a
marker key), from a job that runs once across processes (bot/storage/job_runs.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from redis.asyncio import Redis

from bot.broadcasts.preferences import Cadence
from bot.broadcasts.store import BroadcastStatus, BroadcastStore, now_ms
from bot.campaign import Campaign
from bot.clock import Clock
from bot.storage import keys
from bot.storage.job_runs import JobRuns

log = logging.getLogger(__name__)

AUDIENCE = "audience"
DIGEST = "digest"
RUN_KEPT_SECONDS = 8 * 24 * 3600
# A digest time missed while the bot was down is still kept if it starts within this delay.
DIGEST_GRACE = timedelta(hours=6)

# KEYS: the period's run marker, sequence, pending, the cadence's last cut.
# ARGV: what broadcast keys start with, now (ms), the marker's TTL (s), then the run's fields.
# Answers the run's id, the one created before for this period if any: a holder that died after
# creating it and the one that takes its job over make one run.
_CREATE_RUN = """
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
local id = redis.call('INCR', KEYS[2])
redis.call('HSET', ARGV[1] .. id, 'run', id, unpack(ARGV, 4))
redis.call('ZADD', KEYS[3], ARGV[2], id)
redis.call('SET', KEYS[1], id, 'EX', ARGV[3])
redis.call('SET', KEYS[4], ARGV[2])
return tostring(id)
"""


class DigestRuns:
    """Creates each period's digest runs, at the campaign's digest time, once."""

    def __init__(
        self, redis: Redis, broadcasts: BroadcastStore, campaign: Campaign, clock: Clock,
        runs: JobRuns,
    ) -> None:
        self._redis = redis
        self._broadcasts = broadcasts
        self._campaign = campaign
        self._clock = clock
        self._runs = runs
        self._create = redis.register_script(_CREATE_RUN)

    def _local_now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.now(), self._campaign.timezone)

    def due(self) -> list[Cadence]:
        """The cadences whose digest time of today has passed, within the grace period."""
        now = self._local_now()
        at = datetime.combine(now.date(), self._campaign.digest_at, self._campaign.timezone)
        if not at <= now < at + DIGEST_GRACE:
            return []
        if now.weekday() == self._campaign.digest_weekday:
            return [Cadence.DAILY, Cadence.WEEKLY]
        return [Cadence.DAILY]

    async def run_due(self) -> list[int]:
        """Start the runs due now, each once whoever asks; the ids this process created."""
        period = self._local_now().date().isoformat()
        created: list[int] = []

        async def create(cadence: Cadence) -> None:
            run = await self._create_run(cadence, period)
            if run is not None:
                created.append(run)

        for cadence in self.due():
            await self._runs.once(
                f"digest-{cadence.value}", period,
                lambda cadence=cadence: create(cadence),  # type: ignore[misc]
                RUN_KEPT_SECONDS,
            )
        return created

    async def _create_run(self, cadence: Cadence, period: str) -> int | None:
        """The period's run, unless no update went out since the last run or nobody chose
        this digest: a day (or week) with no update sends nothing."""
        if not await self._redis.zcard(keys.digest_subscribers(cadence)):
            return None
        last_cut = int(await self._redis.get(keys.digest_cut(cadence)) or 0)
        shown, _ = await self._broadcasts.public_archive(0, 1_000_000)
        if not any(update.started_at > last_cut for update in shown):
            log.info("digest run skipped cadence=%s period=%s updates=0", cadence, period)
            return None
        cut = now_ms()
        fields: dict[str, str | int] = {
            "status": BroadcastStatus.QUEUED.value, "created_by": 0, "created_at": cut,
            "send_at": cut, "progress_chat": 0, "progress_message": 0,
            "admin_locale": self._campaign.default_locale, "photo": "",
            AUDIENCE: DIGEST, "cadence": cadence.value, "cut": cut,
            "user-prefix": keys.user_prefix(),
        }
        run = int(await self._create(
            keys=[
                keys.digest_run(cadence, period), keys.broadcast_sequence(),
                keys.broadcast_pending(), keys.digest_cut(cadence),
            ],
            args=[
                keys.broadcast_prefix(), cut, RUN_KEPT_SECONDS,
                *(item for pair in fields.items() for item in pair),
            ],
        ))
        log.info("digest run queued cadence=%s period=%s broadcast=%s", cadence, period, run)
        return run

"""Periodic jobs with three processes on one Redis: each period's run once, and taken over.

Three CampaignBot instances in this process stand for three processes where the test needs to
move their clocks (the summary and reconciliation times): each has its own Redis client,
scheduler, Bot API pools and owner id, which is all the claims depend on. The kill test runs
three real `python -m bot` processes, since a process that dies never releases anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time as wall
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis
from telegram.ext import Job

from bot.app import CampaignBot
from bot.context import CampaignApplication, CampaignContext, Services
from bot.donations.stripe_client import Frequency, Pledge, ReturnUrls
from bot.storage import keys
from bot.storage.connection import as_text
from bot.storage.job_runs import JobRuns
from tests.campaign_files import campaign_text
from tests.conftest import ADMIN_ID, ROOT, free_port, settings_from, stop_processes
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI

GROUP, PERSON = -100_500, 777_001
DONOR = 9_500
PARIS = ZoneInfo("Europe/Paris")  # the campaign file's time zone


def campaign_file(folder: Path, summary_at: time) -> Path:
    """The repository's campaign with its daily summary at `summary_at`."""
    text = campaign_text()
    text = text.replace('daily_summary = "20:00"', f'daily_summary = "{summary_at:%H:%M}"')
    path = folder / "campaign.toml"
    path.write_text(text)
    return path


def just_passed() -> time:
    """A summary time two minutes ago, today (midnight at the earliest)."""
    now = datetime.now(PARIS)
    return max(now - timedelta(minutes=2), now.replace(hour=0, minute=0)).time()


def job_env(bot_env: dict[str, str], tmp_path: Path, port: int) -> dict[str, str]:
    """One process's settings: webhook mode (no process polls, so none fights for updates),
    two beneficiary chats, the summary time just passed, and a dead holder replaced within 2 s."""
    return {
        **bot_env, "HTTP_PORT": str(port), "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "jobs-once-secret",
        "BENEFICIARY_CHAT_IDS": f"{GROUP},{PERSON}", "BROADCAST_RECOVERY_SECONDS": "2",
        "CAMPAIGN_FILE": str(campaign_file(tmp_path, just_passed())),
    }


@contextlib.asynccontextmanager
async def three_bots(
    bot_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[list[CampaignBot]]:
    """Three bots started at the same moment on one Redis, each on its own port."""
    bots = [CampaignBot(settings_from(job_env(bot_env, tmp_path, free_port()))) for _ in "abc"]
    try:
        await asyncio.gather(*(bot.start() for bot in bots))
        yield bots
    finally:
        await asyncio.wait_for(asyncio.gather(*(bot.stop() for bot in bots)), 20)


def summaries(telegram: FakeBotAPI, chat_id: int) -> list[str]:
    return [c.text or "" for c in telegram.sent_to(chat_id) if "Résumé du" in (c.text or "")]


async def wait_for_summary(telegram: FakeBotAPI, chat_id: int, timeout: float) -> None:
    await telegram.wait_for(
        lambda call: call.chat_id == chat_id and "Résumé du" in (call.text or ""),
        timeout=timeout,
    )


def reports(telegram: FakeBotAPI) -> list[str]:
    return [c.text or "" for c in telegram.sent_to(ADMIN_ID) if "Reconciliation" in (c.text or "")]


def listings(stripe_server: FakeStripe, path: str) -> int:
    return sum(1 for r in stripe_server.requests if r.method == "GET" and r.path == path)


async def settle(seconds: float = 2.5) -> None:
    """Long enough for every bot's catch-up job (every second here) to look again twice."""
    await asyncio.sleep(seconds)


async def test_a_run_goes_to_one_job_at_a_time_even_within_one_process(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        here, sibling = JobRuns(redis, 1.0), JobRuns(redis, 1.0)
        worked: list[str] = []

        async def work() -> None:
            worked.append("run")
            await asyncio.sleep(0.2)

        # This process's scheduled run and its catch-up, and a sibling, all at the same moment.
        asked = [here.once("digest", "2026-12-01", work, 60) for _ in range(2)]
        asked.append(sibling.once("digest", "2026-12-01", work, 60))
        assert sorted(await asyncio.gather(*asked)) == [False, False, True]
        assert worked == ["run"]
        assert not await sibling.once("digest", "2026-12-01", work, 60), "done: not again"
        assert await sibling.once("digest", "2026-12-02", work, 60), "the next period runs"
    finally:
        await redis.aclose()


async def test_a_holder_that_stops_renewing_is_cut_short_and_its_run_taken_over(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    redis = Redis.from_url(redis_url)
    try:
        stalled, successor = JobRuns(redis, 0.3, owner="stalled"), JobRuns(redis, 0.3)
        finished: list[str] = []

        async def forever() -> None:
            await asyncio.sleep(60)
            finished.append("stalled")

        async def quick() -> None:
            finished.append("successor")

        holder = asyncio.create_task(stalled.once("digest", "2026-12-01", forever, 60))
        await asyncio.sleep(0.05)
        assert not await successor.once("digest", "2026-12-01", quick, 60), "held"
        assert await successor.unfinished("digest", "2026-12-01")
        # As if the holder froze past its lease: it lapses and the next process to ask has it.
        await redis.delete(keys.lease("digest:2026-12-01"))
        assert await successor.once("digest", "2026-12-01", quick, 60)
        assert not await asyncio.wait_for(holder, 2), "the stalled holder lost the run"
        assert finished == ["successor"]
        assert not await successor.unfinished("digest", "2026-12-01")
        assert "job lease lost role=digest:2026-12-01 owner=stalled" in caplog.text
    finally:
        await redis.aclose()


async def test_three_processes_starting_after_the_summary_time_send_one_summary(
    bot_env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path
) -> None:
    async with three_bots(bot_env, tmp_path):
        # Nobody triggers anything: each bot's own start-up catch-up finds the summary due.
        for chat_id in (GROUP, PERSON):
            await wait_for_summary(telegram, chat_id, timeout=15)
        await settle()
        assert len(summaries(telegram, GROUP)) == 1
        assert len(summaries(telegram, PERSON)) == 1


async def test_a_summary_the_earlier_release_sent_today_is_not_sent_again(
    bot_env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path, redis_url: str
) -> None:
    # The day of the upgrade: the release before job runs marked today's summary sent its way.
    redis = Redis.from_url(redis_url)
    await redis.set(keys.legacy_daily_summary_sent(datetime.now(PARIS).date().isoformat()), 1)
    await redis.aclose()
    async with three_bots(bot_env, tmp_path):
        await settle(5)
        assert summaries(telegram, GROUP) == []
        assert summaries(telegram, PERSON) == []


async def test_three_processes_at_the_summary_and_reconciliation_times_do_each_once(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe, tmp_path: Path
) -> None:
    async with three_bots(bot_env, tmp_path) as bots:
        for _, job in jobs_named(bots, "beneficiary-feed"):
            job.enabled = False  # ticked below, by all three at once
        telegram.user(DONOR, language_code="en")
        url = await bots[0].payments.create_checkout(  # type: ignore[union-attr]
            # A quarter of the goal: its milestones are announced without waiting for a batch.
            Pledge(DONOR, 250_000, "EUR", Frequency.ONCE, "en", origin_message_id=1),
            ReturnUrls("https://t.me/x?start=thanks", "https://t.me/x?start=cancelled"),
            "Gift",
        )
        session_id = next(s for s, session in stripe_server.sessions.items()
                          if session["url"] == url)
        stripe_server.complete_session(session_id)  # paid; the webhook never arrives
        tomorrow = (datetime.now(PARIS) + timedelta(days=1)).date()
        at = datetime.combine(tomorrow, bots[0].settings.campaign.daily_summary_at, PARIS)
        for bot in bots:
            # Tomorrow, 30 s past the summary time on every clock.
            services(bot).clock.offset = at.timestamp() + 30 - wall.time()
        mark = telegram.mark()
        # All three schedulers fire both jobs at the same moment.
        await asyncio.gather(*(
            job.run(application) for name in ("daily-summary", "reconcile")
            for application, job in jobs_named(bots, name)
        ))
        await settle()
        day = f"Résumé du {tomorrow.isoformat()}"
        for chat_id in (GROUP, PERSON):
            assert sum(day in text for text in summaries(telegram, chat_id)) == 1
        (report,) = reports(telegram)
        assert "1 donation (€2,500) had been paid without reaching the bot" in report
        assert listings(stripe_server, "/v1/checkout/sessions") == 1
        assert listings(stripe_server, "/v1/invoices") == 1
        thanks = [c for c in telegram.sent_to(DONOR) if c.index >= mark and "💛" in (c.text or "")]
        assert len(thanks) == 1

        # The healed gift is in the beneficiaries' feed: three ticks at once announce it once.
        await asyncio.gather(*(
            job.run(application) for application, job in jobs_named(bots, "beneficiary-feed")
        ))
        await settle()
        for chat_id in (GROUP, PERSON):
            texts = [c.text or "" for c in telegram.sent_to(chat_id)]
            assert sum("nouveau don" in text for text in texts) == 1
            milestones = [text for text in texts if "Étape franchie" in text]
            assert milestones and len(milestones) == len(set(milestones)), milestones


def services(bot: CampaignBot) -> Services:
    assert bot.application is not None and bot.application.bot_data.services is not None
    return bot.application.bot_data.services


def jobs_named(
    bots: list[CampaignBot], name: str
) -> list[tuple[CampaignApplication, Job[CampaignContext]]]:
    """Each bot's application and its job of that name."""
    found = []
    for bot in bots:
        application = bot.application
        assert application is not None and application.job_queue is not None
        (job,) = application.job_queue.get_jobs_by_name(name)
        found.append((application, job))
    return found


@contextlib.asynccontextmanager
async def bot_processes(
    bot_env: dict[str, str], tmp_path: Path, count: int
) -> AsyncIterator[list[tuple[asyncio.subprocess.Process, Path]]]:
    """`count` real `python -m bot` on the same Redis, each logging to its own file."""
    started = []
    for n in range(count):
        env = {**os.environ, **job_env(bot_env, tmp_path, free_port())}
        log_path = tmp_path / f"bot-{n}.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=ROOT, env=env,
                stdout=asyncio.subprocess.DEVNULL, stderr=log,
            )
        started.append((process, log_path))
    try:
        yield started
    finally:
        await stop_processes(*(process for process, _ in started), timeout=15)


async def wait_until_true(read: Callable[[], Awaitable[object]], timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await read():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("never happened")
        await asyncio.sleep(0.02)


@pytest.mark.slow
@pytest.mark.timeout(90)
async def test_a_process_killed_while_sending_the_summary_leaves_the_rest_to_another(
    bot_env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path
) -> None:
    day = datetime.now(PARIS).date().isoformat()
    # The first chat's summary is held 4 s by Telegram (under the bot's 5 s read timeout):
    # whoever sends it is killed meanwhile. Telegram still delivers that one.
    telegram.delay_next("sendMessage", seconds=4, chat_id=GROUP)
    redis = Redis.from_url(bot_env["REDIS_URL"])
    try:
        async with bot_processes(bot_env, tmp_path, 3) as processes:
            # The holder claims the first chat just before its send; a second later that send
            # is surely with Telegram, held there for three more seconds.
            await wait_until_true(
                lambda: redis.sismember(keys.daily_summary_chats(day), GROUP),  # type: ignore[arg-type]
                timeout=30,
            )
            await asyncio.sleep(1)
            holder = as_text(await redis.get(keys.lease(f"daily-summary:{day}")))
            assert holder is not None
            (killed, _), = [(p, log) for p, log in processes if f"-{p.pid}-" in holder]
            killed.kill()
            await killed.wait()
            await wait_for_summary(telegram, PERSON, timeout=15)
            await wait_for_summary(telegram, GROUP, timeout=10)
            await settle()
            assert len(summaries(telegram, GROUP)) == 1, "the killed process's, never resent"
            assert len(summaries(telegram, PERSON)) == 1
            assert as_text(await redis.get(keys.job_run(f"daily-summary:{day}"))) == "done"
        logs = "".join(log.read_text() for p, log in processes if p is not killed)
        assert f"daily summary taken over day={day} chats_claimed_before=1" in logs
    finally:
        await redis.aclose()

"""Daily and weekly digests: at the digest time, each once, every update since the last."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.broadcasts.preferences import Cadence, SubscriberPreferences
from bot.broadcasts.store import BroadcastContent, BroadcastStore, now_ms
from bot.context import Services
from bot.i18n import long_date
from bot.storage import keys
from bot.storage.connection import as_text, connect
from tests.broadcast_steps import add_subscribers, compose, send_now
from tests.conftest import ADMIN_ID, ROOT, Harness
from tests.fakes.telegram import ApiCall, FakeBotAPI
from tests.test_broadcast_resilience import bot_process, finished, wait_until
from tests.test_insight import clock, insight, run_job
from tests.test_jobs_once import PARIS, just_passed

__all__ = ["insight"]

DAILY_EN, DAILY_FR, WEEKLY_EN, WEEKLY_FR, INSTANT = 6_001, 6_002, 6_003, 6_004, 6_005
SATURDAY = 5


def services_of(harness: Harness) -> Services:
    assert harness.bot.application is not None
    services = harness.bot.application.bot_data.services
    assert services is not None
    return services


async def publish(harness: Harness, english: str, french: str, photo: bool = False) -> None:
    """The organizer sends an update, and it goes out."""
    await send_now(harness, await compose(harness, english, french, photo=photo))


async def digest_time(harness: Harness, day: datetime) -> list[ApiCall]:
    """The clock at `day`'s digest time, the job run (twice, as two processes would); the
    digests each run sent, once every run of the day is over."""
    clock(harness).offset = day.timestamp() - datetime.now(day.tzinfo).timestamp()
    mark = harness.telegram.mark()
    await run_job(harness, "digests")
    await run_job(harness, "digests-catch-up")
    redis = harness.bot.redis
    assert redis is not None
    for cadence in Cadence.DAILY, Cadence.WEEKLY:
        run = as_text(await redis.get(keys.digest_run(cadence, day.date().isoformat())))
        if run is None:
            continue
        await finished(redis, int(run), timeout=10)
    return [call for call in harness.telegram.calls[mark:] if call.method in (
        "sendMessage", "sendPhoto"
    )]


def to(calls: list[ApiCall], chat: int) -> list[ApiCall]:
    return [call for call in calls if call.chat_id == chat]


async def test_digests_come_once_at_their_time_with_every_update_since_the_last(
    insight: Harness,
) -> None:
    # The insight harness holds the bot's jobs: the test runs the digest job when it chooses.
    digests = insight
    services = services_of(digests)
    zone = digests.bot.settings.campaign.timezone
    for chat, locale, cadence in (
        (DAILY_EN, "en", Cadence.DAILY), (DAILY_FR, "fr", Cadence.DAILY),
        (WEEKLY_EN, "en", Cadence.WEEKLY), (WEEKLY_FR, "fr", Cadence.WEEKLY),
        (INSTANT, "en", Cadence.INSTANT),
    ):
        await services.subscribers.subscribe(chat, locale)
        await services.preferences.set_cadence(chat, cadence, now_ms())
    await publish(digests, "Tents <b>arrived</b>", "Les tentes sont <b>arrivées</b>")
    await publish(digests, "The kitchen photo", "La photo de la cuisine", photo=True)
    await publish(digests, "Thank you all", "Merci à tous")

    today = datetime.now(zone)
    saturday = (today + timedelta(days=(SATURDAY - today.weekday()) % 7 or 7)).replace(
        hour=19, minute=0, second=30, microsecond=0
    )
    sent = await digest_time(digests, saturday)
    # Saturday: the daily digests, one message each, the lone photo carrying them.
    assert {call.chat_id for call in sent} == {DAILY_EN, DAILY_FR}
    (english,) = to(sent, DAILY_EN)
    (french,) = to(sent, DAILY_FR)
    assert english.method == french.method == "sendPhoto"
    text = english.rendered_text or ""
    assert text.startswith("Your daily news from Calais — 3 updates")
    assert long_date(today.date(), "en") in text
    assert text.index("Tents arrived") < text.index("The kitchen photo") < text.index("Thank you")
    text = french.rendered_text or ""
    assert text.startswith("Vos nouvelles de Calais du jour — 3 nouvelles")
    assert long_date(today.date(), "fr") in text
    assert text.index("Les tentes") < text.index("La photo") < text.index("Merci à tous")
    # Like every broadcast, a digest carries the row to hear less, in the reader's language.
    assert english.button("Fewer messages") and english.button("Stop")
    assert french.button("Moins de messages")

    # Sunday, the digests' weekday, with no update since: the weekly ones only.
    sent = await digest_time(digests, saturday + timedelta(days=1))
    assert {call.chat_id for call in sent} == {WEEKLY_EN, WEEKLY_FR}
    assert (to(sent, WEEKLY_EN)[0].rendered_text or "").startswith(
        "Your weekly news from Calais — 3 updates"
    )
    assert "Les tentes sont arrivées" in (to(sent, WEEKLY_FR)[0].rendered_text or "")

    # Monday: two photos; the daily digest holds only what came since Saturday's.
    await publish(digests, "Blankets needed", "Il faut des couvertures", photo=True)
    await publish(digests, "The new van", "La nouvelle camionnette", photo=True)
    sent = await digest_time(digests, saturday + timedelta(days=2))
    assert {call.chat_id for call in sent} == {DAILY_EN, DAILY_FR}
    (english,) = to(sent, DAILY_EN)
    assert english.method == "sendMessage"
    text = english.rendered_text or ""
    assert text.startswith("Your daily news from Calais — 2 updates")
    assert "Tents" not in text and text.index("Blankets") < text.index("The new van")
    assert text.endswith("📷 The photos are in /updates")
    assert english.button("Fewer messages")
    assert (to(sent, DAILY_FR)[0].rendered_text or "").endswith(
        "📷 Les photos sont dans /updates"
    )
    # The same day again (another process, a restart): nothing more.
    assert await digest_time(digests, saturday + timedelta(days=2, hours=1)) == []


async def went_out(redis: Redis, english: str, french: str) -> None:
    """An update in the archive as if sent a moment ago (to nobody: the audience is digests)."""
    update = await BroadcastStore(redis).create(
        BroadcastContent({"en": english, "fr": french}), created_by=ADMIN_ID,
        admin_locale="en", progress_chat=ADMIN_ID, progress_message=1,
    )
    await redis.zrem(keys.broadcast_pending(), update)
    started = now_ms()
    await redis.hset(keys.broadcast(update), mapping={
        "status": "done", "started_at": started, "finished_at": started, "total": 0,
    })


DIGEST_AUDIENCE = 300


@pytest.mark.slow
@pytest.mark.timeout(60)
async def test_a_digest_run_killed_midway_gives_each_subscriber_one_digest_after_a_restart(
    bot_env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path
) -> None:
    audience = {200_000 + n: ("fr" if n % 2 else "en") for n in range(DIGEST_AUDIENCE)}
    await add_subscribers(bot_env["REDIS_URL"], audience)
    redis = connect(bot_env["REDIS_URL"])
    try:
        preferences = SubscriberPreferences(redis, None)
        # A second ago: an update of the same millisecond as the choice would not be in it.
        chosen = now_ms() - 1_000
        for chat in audience:
            await preferences.set_cadence(chat, Cadence.DAILY, chosen)
        for n in 1, 2, 3:
            await went_out(redis, f"Update {n} EN", f"Nouvelle {n} FR")
        # The digest time two minutes ago: the bot catches the run up as it starts.
        text = (ROOT / "campaign.toml").read_text().replace('"assets/', f'"{ROOT}/assets/')
        text = text.replace('time = "19:00"', f'time = "{just_passed():%H:%M}"')
        (tmp_path / "campaign.toml").write_text(text)
        env = {**bot_env, "CAMPAIGN_FILE": str(tmp_path / "campaign.toml")}
        kill_after = random.randrange(60, 200)
        async with bot_process(env, rate=100, recovery_seconds=2) as process:
            await wait_until(lambda: digests_received(telegram) >= kill_after, timeout=30)
            process.kill()
            await process.wait()
        day = datetime.now(PARIS).date().isoformat()
        run = int(as_text(await redis.get(keys.digest_run(Cadence.DAILY, day))) or 0)
        async with bot_process(env, rate=100, recovery_seconds=2):
            result = await finished(redis, run, timeout=30)
        marks = [await redis.hget(keys.user(chat), "digest_run") for chat in audience]
    finally:
        await redis.aclose()

    received: Counter[int] = Counter()
    for call in telegram.calls:
        if call.method == "sendMessage" and call.ok and "news from Calais" in (call.text or ""):
            assert "Update 1 EN\n" in (call.text or "") and "Update 3 EN" in (call.text or "")
            received[call.chat_id or 0] += 1
        elif call.method == "sendMessage" and call.ok and "de Calais du jour" in (call.text or ""):
            assert "Nouvelle 1 FR" in (call.text or "") and "Nouvelle 3 FR" in (call.text or "")
            received[call.chat_id or 0] += 1
    assert max(received.values()) == 1, f"a digest twice (killed after {kill_after})"
    # A digest cut off by the kill may or may not have arrived: counted uncertain, never resent.
    missing = set(audience) - set(received)
    assert len(missing) <= result.counts["uncertain"]
    assert result.counts["sent"] + result.counts["uncertain"] == DIGEST_AUDIENCE == result.total
    assert {as_text(mark) for mark in marks} == {str(run)}, "every subscriber's mark moved"
    print(f"killed after {kill_after}: uncertain {result.counts['uncertain']}, "
          f"missing {len(missing)}")


def digests_received(telegram: FakeBotAPI) -> int:
    return sum(
        1 for call in telegram.calls if call.method == "sendMessage"
        and "Calais" in (call.text or "") and call.chat_id and call.chat_id >= 200_000
    )

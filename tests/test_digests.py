"""Daily and weekly digests: at the digest time, each once, every update since the last."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.broadcasts.preferences import Cadence
from bot.broadcasts.store import BroadcastStatus, now_ms
from bot.context import Services
from bot.i18n import long_date
from bot.storage import keys
from bot.storage.connection import as_text
from tests.broadcast_steps import compose, send_now
from tests.conftest import Harness
from tests.fakes.telegram import ApiCall
from tests.test_insight import clock, insight, run_job

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
    services = services_of(harness)
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
        await finished(services, int(run))
    return [call for call in harness.telegram.calls[mark:] if call.method in (
        "sendMessage", "sendPhoto"
    )]


async def finished(services: Services, run: int) -> None:
    for _ in range(200):
        found = await services.broadcasts.get(run)
        if found is not None and found.status is BroadcastStatus.DONE:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"digest run {run} not over: {found}")


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
    assert (to(sent, DAILY_FR)[0].rendered_text or "").endswith(
        "📷 Les photos sont dans /updates"
    )
    # The same day again (another process, a restart): nothing more.
    assert await digest_time(digests, saturday + timedelta(days=2, hours=1)) == []

"""Quiet hours: a broadcast waits for each subscriber's window to end, held crash-safe in Redis;
the preview and the report say so; an urgent broadcast goes out to everyone at once."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from bot.broadcasts.preferences import DEFAULT_QUIET_HOURS, QuietHours, SubscriberPreferences
from bot.broadcasts.queue import Claim, RecipientQueue, Step
from bot.broadcasts.quiet import PARKED_NOW, QuietClock
from bot.broadcasts.store import BroadcastContent, BroadcastStore, Outcome, now_ms
from bot.clock import Clock
from bot.context import Services
from bot.storage import keys
from bot.storage.connection import connect
from tests.broadcast_steps import add_subscribers, compose, deliveries
from tests.conftest import ADMIN_ID, ROOT, Harness, running_bot
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import ApiCall, FakeBotAPI
from tests.forget_steps import forget
from tests.script_keys import undeclared_keys

PARIS = ZoneInfo("Europe/Paris")
LATER = 60_000
# Tomorrow evening, inside the default window (22:00-08:00), and the window's end.
EVENING = datetime.combine(datetime.now(PARIS).date() + timedelta(days=1),
                           datetime.min.time(), PARIS).replace(hour=23)
MORNING = EVENING.replace(hour=8) + timedelta(days=1)
LUNCH = QuietHours.parse("12:00-14:00")
NIGHT_OWL = QuietHours.parse("21:00-07:00")


def set_clock(clock: Clock, moment: datetime) -> None:
    """The bot's clock at `moment`, as the tests move it instead of waiting."""
    clock.offset = moment.timestamp() - time.time()


async def test_held_recipients_wait_for_their_window_and_two_movers_release_each_once(
    redis_url: str,
) -> None:
    async with contextlib.aclosing(connect(redis_url)) as redis:
        await hold_and_release(redis, redis_url)


async def hold_and_release(redis: Redis, redis_url: str) -> None:
    """Six subscribers, a night broadcast, two movers at once: each held and released once."""
    clock = Clock()
    set_clock(clock, EVENING)
    quiet = QuietClock(clock, PARIS, DEFAULT_QUIET_HOURS)
    # Two processes: each its own queue on the one Redis.
    queues = [RecipientQueue(redis, quiet), RecipientQueue(redis, quiet)]
    store = BroadcastStore(redis)
    preferences = SubscriberPreferences(redis, DEFAULT_QUIET_HOURS)
    audience = {1: "en", 2: "fr", 3: "en", 4: "fr", 5: "fr", 6: "en"}
    await add_subscribers(redis_url, audience)
    await preferences.set_quiet(2, None)
    await preferences.set_quiet(3, LUNCH)
    await preferences.set_quiet(4, NIGHT_OWL)
    broadcast_id = await store.create(
        BroadcastContent({"en": "News", "fr": "Nouvelles"}), created_by=ADMIN_ID,
        admin_locale="en", progress_chat=ADMIN_ID, progress_message=1,
    )
    assert await store.start_due() == broadcast_id
    while await queues[0].feed(broadcast_id, 500):
        pass
    read = await queues[0].read(broadcast_id, "a", 10, 10) or []

    async def step() -> list[Claim]:
        answers = await queues[0].step(
            broadcast_id, [Step(None, r.entry_id, next_chat=r.chat_id) for r in read],
            now_ms() + LATER,
        )
        return [answer.claim for answer in answers]

    claims: list[Claim] = []

    async def stepped() -> None:
        claims.extend(await step())

    # The step reads each user's hash: declared in its keys like every other.
    assert await undeclared_keys(redis, stepped) == set()
    held = {r.chat_id for r, c in zip(read, claims, strict=True) if c is Claim.HELD}
    sent = {r.chat_id for r, c in zip(read, claims, strict=True) if c is Claim.SEND}
    assert (held, sent) == ({1, 4, 5, 6}, {2, 3})
    done = [Step((r.entry_id, Outcome.SENT), None) for r in read if r.chat_id in sent]
    await queues[0].step(broadcast_id, done, now_ms() + LATER)
    # /forget while held: never sent, out of the total, the id nowhere.
    assert await queues[1].remove(broadcast_id, 6) == 1
    waiting = await store.get(broadcast_id)
    assert waiting is not None
    assert (waiting.held, waiting.total, waiting.counts["sent"]) == (3, 5, 2)
    assert not await store.finalize(broadcast_id)

    # Only the held are left: the broadcast gives up its slot until a window ends.
    assert await queues[0].park(broadcast_id) == PARKED_NOW
    assert await queues[1].park(broadcast_id) == 1
    assert await store.active_id() is None
    assert await queues[1].resume_parked() is None
    # 07:00: the night owl's window is over, not the default one; both movers at once.
    set_clock(clock, MORNING.replace(hour=7))
    assert await queues[1].resume_parked() == broadcast_id
    assert await store.active_id() == broadcast_id
    moved = await asyncio.gather(*(queue.release_held(broadcast_id) for queue in queues))
    assert sorted(moved) == [0, 1]
    assert [r.chat_id for r in await queues[1].read(broadcast_id, "b", 10, 10) or []] == [4]
    set_clock(clock, MORNING)
    moved = await asyncio.gather(*(queue.release_held(broadcast_id) for queue in queues))
    assert sorted(moved) == [0, 2]
    assert sum(await asyncio.gather(*(q.release_held(broadcast_id) for q in queues))) == 0
    morning = await queues[0].read(broadcast_id, "c", 10, 10) or []
    assert sorted((r.chat_id, r.locale) for r in morning) == [(1, "en"), (5, "fr")]
    await queues[0].reclaim(broadcast_id, "c", idle_ms=0)
    answers = await queues[0].step(
        broadcast_id, [Step(None, r.entry_id, next_chat=r.chat_id) for r in morning],
        now_ms() + LATER,
    )
    assert [a.claim for a in answers] == [Claim.SEND, Claim.SEND]
    assert await undeclared_keys(redis, lambda: queues[0].release_held(broadcast_id)) == set()


def services_of(bot: object) -> Services:
    application = getattr(bot, "application", None)
    assert application is not None and application.bot_data.services is not None
    services: Services = application.bot_data.services
    return services


async def schedule(harness: Harness, summary: ApiCall, moment: datetime) -> ApiCall:
    """Send at… `moment`: the preview's summary for that time."""
    admin, telegram = harness.user(ADMIN_ID, "en"), harness.telegram
    mark = telegram.mark()
    admin.tap(summary, "Send at")
    await telegram.wait_for_message(ADMIN_ID, after=mark)
    mark = telegram.mark()
    admin.send(f"{moment:%Y-%m-%d %H:%M}")
    return await telegram.wait_for(
        lambda call: "It will go out on" in (call.rendered_text or ""), after=mark
    )


async def progress_with(telegram: FakeBotAPI, text: str, after: int) -> ApiCall:
    return await telegram.wait_for(
        lambda call: call.method == "editMessageText" and call.chat_id == ADMIN_ID
        and text in (call.rendered_text or ""),
        after=after, timeout=15,
    )


async def test_a_broadcast_at_night_waits_for_quiet_subscribers_across_a_restart(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
) -> None:
    audience = {7001: "en", 7002: "fr", 7003: "en", 7004: "fr", 7005: "en"}
    await add_subscribers(bot_env["REDIS_URL"], audience)
    # The repository's campaign file, with its default window (the suite's has none).
    bot_env = {**bot_env, "CAMPAIGN_FILE": str(ROOT / "campaign.toml")}
    async with running_bot(bot_env, telegram, stripe_server) as harness:
        services = services_of(harness.bot)
        set_clock(services.clock, EVENING)
        # 7003 turned quiet hours off; 7004 keeps them at lunch: both are reached at once.
        await services.preferences.set_quiet(7003, None)
        await services.preferences.set_quiet(7004, LUNCH)
        summary = await compose(harness, "Night news #1", "Nouvelles de nuit #1")
        text = summary.rendered_text or ""
        assert "3 subscribers are in quiet hours now: they will get it from 08:00" in text
        night = telegram.mark()
        harness.user(ADMIN_ID, "en").tap(summary, "Send now")
        progress = await progress_with(telegram, "Held for quiet hours: 3", night)
        assert "Sent 2" in (progress.rendered_text or "")
        assert deliveries(telegram, "Night news #1", night) == {7003: 1}
        assert deliveries(telegram, "Nouvelles de nuit #1", night) == {7004: 1}

        # Meanwhile an urgent one: everyone at once, without waiting for the first one's held.
        summary = await compose(harness, "Urgent news #2", "Nouvelles urgentes #2")
        mark = telegram.mark()
        harness.user(ADMIN_ID, "en").tap(summary, "Urgent: ignore quiet hours")
        urgent = await telegram.wait_for(
            lambda call: call.method == "editMessageText" and "Urgent: it reaches everyone"
            in (call.rendered_text or ""), after=mark,
        )
        assert "in quiet hours now" not in (urgent.rendered_text or "")
        assert urgent.button("Normal: respect quiet hours")
        start = telegram.mark()
        harness.user(ADMIN_ID, "en").tap(summary, "Send now")
        report = await progress_with(telegram, "#2 is complete", start)
        assert "Sent: 5" in (report.rendered_text or "")
        assert deliveries(telegram, "Urgent news #2", start) == {7001: 1, 7003: 1, 7005: 1}
        assert deliveries(telegram, "Nouvelles urgentes #2", start) == {7002: 1, 7004: 1}

        # /forget while held: the waiting broadcast holds the chat no more.
        await forget(harness, harness.user(7005, "en"))
        redis = connect(bot_env["REDIS_URL"])
        try:
            assert not any("7005" in member for member in await redis.zrange(
                keys.broadcast_held(1), 0, -1
            ))
        finally:
            await redis.aclose()

        # Scheduled, the preview counts who will be in quiet hours at the chosen time: at
        # 13:00 only 7004's own lunchtime window holds.
        summary = await compose(harness, "Later news #3")
        daytime = await schedule(harness, summary, EVENING + timedelta(hours=-10))
        assert "1 subscriber will be in quiet hours then: they will get it from 14:00" in (
            daytime.rendered_text or ""
        )
        scheduled = await schedule(harness, daytime, EVENING)
        assert "2 subscribers will be in quiet hours then: they will get it from 08:00" in (
            scheduled.rendered_text or ""
        )
    # Stopped while they are held; the next process takes over at the window's end.
    async with running_bot(bot_env, telegram, stripe_server) as harness:
        morning = telegram.mark()
        set_clock(services_of(harness.bot).clock, MORNING)
        report = await progress_with(telegram, "#1 is complete", morning)
        assert "Sent: 4" in (report.rendered_text or "")
        # 7005 left while held: out of the total, never sent.
        assert "Not sent: 0 of 4" in (report.rendered_text or "")
        assert deliveries(telegram, "Night news #1", night) == {7001: 1, 7003: 1}
        assert deliveries(telegram, "Nouvelles de nuit #1", night) == {7002: 1, 7004: 1}
        assert deliveries(telegram, "Night news #1", morning) == {7001: 1}
        assert 7005 not in deliveries(telegram, "Night news #1", night)
        redis = connect(bot_env["REDIS_URL"])
        try:
            assert not await redis.exists(keys.broadcast_held(1), keys.broadcast_parked())
        finally:
            await redis.aclose()

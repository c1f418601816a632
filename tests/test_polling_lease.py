"""Polling mode with several processes on one Redis: the one holding the lease polls, a 409 from
another poller is one WARNING and a step back, webhook mode takes no lease."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.botapi.poller import LEASE_TTL_MS, ROLE
from bot.storage import keys
from bot.storage.embedded_valkey import EmbeddedValkey
from tests.conftest import ROOT, free_port, running_bot, stop_processes
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import TEST_TOKEN, FakeBotAPI
from tests.test_lifecycle import wait_until_ready

STARTED = "telegram polling started"
STANDING_BY = "another process polls telegram; this one stands by"
CONFLICT = "telegram polling conflict"


@dataclass
class BotProcess:
    """A `python -m bot` process and the file its log goes to."""

    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def logged(self, text: str) -> bool:
        return text in self.log.read_text()

    def owner(self) -> str:
        """The lease owner this process named when it started polling."""
        line = next(line for line in self.log.read_text().splitlines() if STARTED in line)
        return line.rsplit("owner=", 1)[1].strip()


@asynccontextmanager
async def bot_process(env: dict[str, str], log: Path) -> AsyncIterator[BotProcess]:
    """`python -m bot` in polling mode on the shared Redis, with its own HTTP port; ready."""
    port = free_port()
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=ROOT,
            env={**os.environ, **env, "HTTP_PORT": str(port)},
            stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
        )
    try:
        await wait_until_ready(f"http://127.0.0.1:{port}/readyz", timeout=30)
        yield BotProcess(process, log)
    finally:
        await stop_processes(process)


def local_ports(pid: int) -> set[int]:
    """The local TCP ports of a process's open sockets, read from /proc (Linux)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def eventually(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until the condition held; fails after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def replies_since(telegram: FakeBotAPI, mark: int) -> Counter[int | None]:
    return Counter(
        call.chat_id for call in telegram.calls[mark:] if call.method == "sendMessage" and call.ok
    )


async def send_help_and_wait(telegram: FakeBotAPI, users: range, timeout: float) -> None:
    """/help from every user, then every user's reply (and time for a duplicate to show)."""
    mark = telegram.mark()
    for user_id in users:
        telegram.user(user_id).send("/help")
    for user_id in users:
        await telegram.wait_for_message(user_id, after=mark, timeout=timeout)
    await asyncio.sleep(1)
    assert replies_since(telegram, mark) == dict.fromkeys(users, 1)


def roles(first: BotProcess, second: BotProcess) -> tuple[BotProcess, BotProcess]:
    """(the poller, the one standing by), each having said so once at start-up."""
    pollers = [bot for bot in (first, second) if bot.logged(STARTED)]
    assert len(pollers) == 1, "exactly one process polls"
    (poller,) = pollers
    standby = second if poller is first else first
    assert standby.logged(STANDING_BY) and not standby.logged(STARTED)
    return poller, standby


@pytest.mark.slow
async def test_of_two_polling_processes_one_polls_and_a_clean_stop_hands_over(
    bot_env: dict[str, str], telegram: FakeBotAPI, redis_url: str, tmp_path: Path
) -> None:
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        async with (
            bot_process(bot_env, tmp_path / "a.log") as a,
            bot_process(bot_env, tmp_path / "b.log") as b,
        ):
            poller, standby = roles(a, b)
            mark = telegram.mark()
            await send_help_and_wait(telegram, range(5101, 5121), timeout=15)
            ports = {pid: local_ports(pid) for pid in (a.pid, b.pid)}
            pollers = {
                pid
                for call in telegram.calls[mark:] if call.method == "getUpdates"
                for pid, owned in ports.items() if call.client_port in owned
            }
            assert pollers == {poller.pid}, "the fake saw getUpdates from the lease holder only"
            assert telegram.superseded_polls == 0, "never two long polls at once"

            owner = poller.owner()
            poller.process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(poller.process.wait(), 10) == 0
            # Released at the stop, not left to expire: the sibling need not wait it out.
            assert await redis.get(keys.lease(ROLE)) != owner
            await eventually(lambda: standby.logged(STARTED), timeout=10)
            await send_help_and_wait(telegram, range(5121, 5126), timeout=10)
    finally:
        await redis.aclose()
    assert not a.logged(CONFLICT) and not b.logged(CONFLICT)


@pytest.mark.slow
async def test_a_sigkilled_poller_is_replaced_and_updates_sent_meanwhile_are_answered(
    bot_env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path
) -> None:
    async with (
        bot_process(bot_env, tmp_path / "a.log") as a,
        bot_process(bot_env, tmp_path / "b.log") as b,
    ):
        poller, standby = roles(a, b)
        poller.process.kill()
        await poller.process.wait()
        killed_at = time.monotonic()
        mark = telegram.mark()
        # Sent while nobody polls: Telegram (and the fake) keep them until an offset confirms.
        await send_help_and_wait(telegram, range(5201, 5211), timeout=25)
        first_poll = next(call for call in telegram.calls[mark:] if call.method == "getUpdates")
        gap = first_poll.at - killed_at
        assert standby.logged(STARTED)
    print(f"SIGKILLed poller replaced after {gap:.1f} s")
    assert gap < 15, "README: within 10 s (ttl 8 s plus a 2 s retry); generous bound"


async def rogue_polls(telegram: FakeBotAPI, seconds: float) -> None:
    """Another deployment with the same token: plain getUpdates calls for a while."""
    url = f"{telegram.url}/bot{TEST_TOKEN}/getUpdates"
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.post(url, data={"timeout": "1"}) as response:
                await response.read()


@pytest.mark.slow
async def test_another_poller_costs_one_warning_and_the_bot_polls_again_once_it_is_gone(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(bot_env, telegram, stripe_server):
        await telegram.wait_for(lambda call: call.method == "getUpdates")
        await rogue_polls(telegram, seconds=7)
        # Each side ended the other's long polls more than once in those seconds.
        assert telegram.superseded_polls >= 3
        await send_help_and_wait(telegram, range(5301, 5303), timeout=10)
    conflicts = [record for record in caplog.records if CONFLICT in record.getMessage()]
    assert [record.levelno for record in conflicts] == [logging.WARNING]
    assert "terminated by other getUpdates request" in conflicts[0].getMessage()
    assert not [record for record in caplog.records if record.exc_info]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_a_poller_whose_lease_another_took_stops_without_another_get_updates(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe, redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    redis = Redis.from_url(redis_url)
    try:
        async with running_bot(bot_env, telegram, stripe_server):
            await telegram.wait_for(lambda call: call.method == "getUpdates")
            # As if this process had stalled past the ttl and a sibling had taken over.
            await redis.set(keys.lease(ROLE), "sibling", px=LEASE_TTL_MS)
            mark = telegram.mark()
            await eventually(lambda: STANDING_BY in caplog.text, timeout=10)
            await asyncio.sleep(3)
            polls = [call for call in telegram.calls[mark:] if call.method == "getUpdates"]
            # A final getUpdates (timeout 0) would have ended the sibling's long poll with a 409.
            assert [call.params.get("timeout") for call in polls] in ([], [10])
            await redis.delete(keys.lease(ROLE))
            await send_help_and_wait(telegram, range(5401, 5403), timeout=10)
    finally:
        await redis.aclose()
    assert caplog.text.count(STARTED) == 2
    assert caplog.text.count(STANDING_BY) == 1


async def test_webhook_mode_takes_no_lease(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe, redis_url: str
) -> None:
    env = {
        **bot_env, "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "s3cret_token-1",
        "PUBLIC_URL": f"http://127.0.0.1:{bot_env['HTTP_PORT']}",
    }
    redis = Redis.from_url(redis_url)
    try:
        async with running_bot(env, telegram, stripe_server):
            assert not await redis.exists(keys.lease(ROLE))
    finally:
        await redis.aclose()
    assert not telegram.calls_to("getUpdates")


@pytest.mark.slow
async def test_polling_goes_on_while_redis_is_down_past_the_lease_and_resumes_it(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe, tmp_path: Path
) -> None:
    server = EmbeddedValkey(tmp_path / "redis")
    url = await server.start()
    try:
        async with running_bot({**bot_env, "REDIS_URL": url}, telegram, stripe_server):
            await telegram.wait_for(lambda call: call.method == "getUpdates")
            await server.kill()
            # Nobody can take the lease while Redis is away: people still hear from the bot.
            await asyncio.sleep(LEASE_TTL_MS / 1000 + 1)
            mark = telegram.mark()
            telegram.user(5501).send("/help")
            reply = await telegram.wait_for_message(5501, after=mark, timeout=10)
            assert "can't reach my records" in (reply.rendered_text or "")
            await server.start()
            redis = Redis.from_url(url)
            try:
                holder = None
                for _ in range(100):
                    holder = await redis.get(keys.lease(ROLE))
                    if holder is not None:
                        break
                    await asyncio.sleep(0.1)
                assert holder is not None, "the poller took its lease again"
            finally:
                await redis.aclose()
            await send_help_and_wait(telegram, range(5502, 5503), timeout=10)
    finally:
        await server.stop()

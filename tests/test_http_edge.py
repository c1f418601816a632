"""The HTTP edge under abuse: stalled and slow requests, too many connections, odd header bytes,
oversized chunked bodies, and /metrics behind its token; raw sockets on loopback only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from unittest import mock

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from bot.config import ConfigError
from bot.web.connection_guard import Throttled, connection_cap, quiet_accept_errors
from bot.web.server import _direct_from_this_machine
from tests.conftest import ROOT, Harness, kill_if_running, running_bot, settings_from
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI
from tests.test_lifecycle import wait_until_ready

METRICS_TOKEN = "metrics-token-0123456789abcdef"
WEBHOOK_SECRET = "edge_secret-1"


def ignored_event(number: int) -> dict[str, object]:
    """A genuine-looking event of a type the bot acknowledges and leaves alone."""
    return {
        "id": f"evt_edge_{number}", "object": "event", "type": "customer.created",
        "created": int(time.time()), "data": {"object": {"id": "cus_edge", "object": "customer"}},
    }


async def raw_exchange(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are and read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        # The server may answer early and close while we still send: its answer is to be read.
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


async def closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    try:
        while await asyncio.wait_for(reader.read(4096), within):
            pass
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


async def healthz_seconds(harness: Harness) -> float:
    started = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=5)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.get(f"{harness.http}/healthz") as response,
    ):
        assert response.status == 200
    return time.monotonic() - started


@contextlib.asynccontextmanager
async def edge_bot(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe, **settings: str
) -> AsyncIterator[tuple[Harness, int]]:
    """The bot with a test's own settings, and the port it listens on."""
    async with running_bot({**bot_env, **settings}, telegram, stripe_server) as harness:
        assert harness.bot.http_port is not None
        yield harness, harness.bot.http_port


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Warnings and errors, with the promise that nothing reached ERROR or had a traceback."""
    caplog.set_level(logging.WARNING)
    yield caplog
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the log"


def warnings_with(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        r.getMessage() for r in caplog.records
        if r.levelno == logging.WARNING and text in r.getMessage()
    ]


def test_the_edge_limits_default_to_sane_values_that_fit_the_file_limit(
    bot_env: dict[str, str],
) -> None:
    http = settings_from(bot_env).http
    assert (http.headers_timeout, http.body_timeout, http.keepalive_timeout) == (10, 30, 15)
    assert http.max_connections == 512 and http.metrics_token is None
    assert connection_cap(512, file_limit=1024) == 512
    assert connection_cap(512, file_limit=512) == 256
    assert connection_cap(5000, file_limit=20000) == 5000
    with pytest.raises(ConfigError) as refused:
        settings_from({**bot_env, "HTTP_BODY_TIMEOUT": "0", "HTTP_MAX_CONNECTIONS": "lots",
                       "METRICS_TOKEN": "short"})
    assert [p.split()[0] for p in refused.value.problems] == [
        "HTTP_BODY_TIMEOUT", "HTTP_MAX_CONNECTIONS", "METRICS_TOKEN"]


async def test_300_stalled_requests_are_closed_while_healthz_keeps_answering(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
    logged: pytest.LogCaptureFixture,
) -> None:
    settings = {"HTTP_HEADERS_TIMEOUT": "1"}
    async with edge_bot(bot_env, telegram, stripe_server, **settings) as (harness, port):
        stalled = [await asyncio.open_connection("127.0.0.1", port) for _ in range(300)]
        for _, writer in stalled:
            writer.write(b"GET /healthz HT")  # half a request line, and then nothing
        assert await healthz_seconds(harness) < 2
        closed = await asyncio.gather(*(closed_by_server(r, within=30) for r, _ in stalled))
        for _, writer in stalled:
            writer.close()
        assert sum(closed) == 300
        assert await healthz_seconds(harness) < 2
    assert len(warnings_with(logged, "no complete request headers in time")) == 1


async def test_a_body_that_trickles_in_is_refused_with_408_and_one_warning(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
    logged: pytest.LogCaptureFixture,
) -> None:
    settings = {"HTTP_BODY_TIMEOUT": "1"}
    async with edge_bot(bot_env, telegram, stripe_server, **settings) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /stripe/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        # Up to the end of the headers: the socket itself stayed open 10 s after the 408 and its
        # `Connection: close`, and waiting for its end was most of this test's 12 s.
        response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
        writer.close()
        assert status_of(response) == 408
        assert b"Connection: close" in response
    assert len(warnings_with(logged, "body not received in time")) == 1


async def test_at_the_connection_cap_idle_connections_make_room_for_healthz_and_stripe(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
    logged: pytest.LogCaptureFixture,
) -> None:
    settings = {"HTTP_MAX_CONNECTIONS": "50"}
    async with edge_bot(bot_env, telegram, stripe_server, **settings) as (harness, port):
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(60)]
        assert await healthz_seconds(harness) < 2
        assert await stripe_server.deliver(ignored_event(1), harness.webhook_url) == 200
        closed = await asyncio.gather(*(closed_by_server(r, within=1) for r, _ in idle))
        for _, writer in idle:
            writer.close()
        # 60 idle with room for 50, then /healthz (whose client hung up before Stripe came).
        assert sum(closed) >= 11
    assert len(warnings_with(logged, "connection cap reached")) == 1


async def test_header_bytes_no_sender_uses_are_400_with_one_warning_and_no_value_logged(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
    logged: pytest.LogCaptureFixture,
) -> None:
    port = int(bot_env["HTTP_PORT"])
    env = {**bot_env, "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
           "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    body = b'{"update_id": 1}'
    cases = [
        (b"/stripe/webhook", b"Stripe-Signature: t=1,v1=caf\xc3\xa9"),
        (b"/stripe/webhook", b"Stripe-Signature: t=1,v1=\xff\xfe"),
        (b"/telegram/webhook", b"X-Telegram-Bot-Api-Secret-Token: edge_secret-\xff"),
    ]
    async with running_bot(env, telegram, stripe_server):
        for path, header in cases:
            request = (
                b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + header
                + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body
            )
            assert status_of(await raw_exchange(port, request)) == 400
    refused = warnings_with(logged, "header is not ASCII")
    assert len(refused) == 3
    assert not [text for text in refused if "caf" in text or "\udcff" in text or "\xff" in text]


async def test_a_chunked_body_over_512_kb_is_refused_while_it_arrives(
    harness: Harness, logged: pytest.LogCaptureFixture
) -> None:
    assert harness.bot.http_port is not None
    chunk = b"x" * 65536
    request = (
        b"POST /stripe/webhook HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Stripe-Signature: t=1,v1=00\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n%s\r\n" % (len(chunk), chunk) * 10 + b"0\r\n\r\n"
    )
    response = await raw_exchange(harness.bot.http_port, request)
    assert status_of(response) == 413
    assert len(warnings_with(logged, "body too large")) == 1


async def test_metrics_are_served_only_to_this_machine_or_the_bearer_of_the_metrics_token(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
    logged: pytest.LogCaptureFixture,
) -> None:
    async with running_bot(bot_env, telegram, stripe_server) as harness:
        async with aiohttp.ClientSession() as http, http.get(f"{harness.http}/metrics") as got:
            assert got.status == 200, "no token: a scraper on this machine still gets them"
            assert "campaign_donations_total" in await got.text()
        for relayed in ({"X-Forwarded-For": "203.0.113.5"}, {"Forwarded": "for=203.0.113.5"},
                        {"X-Real-IP": "203.0.113.5"}):
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"{harness.http}/metrics", headers=relayed) as got,
            ):
                assert got.status == 404, f"relayed by a proxy ({relayed}): not served"
    async with edge_bot(
        bot_env, telegram, stripe_server, METRICS_TOKEN=METRICS_TOKEN
    ) as (harness, port):
        for authorization in (b"", b"Authorization: Bearer wrong\r\n",
                              b"Authorization: Bearer " + METRICS_TOKEN.encode() + b"\xff\r\n"):
            request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            response = await raw_exchange(port, request + authorization + b"\r\n")
            assert status_of(response) == 401
        headers = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{harness.http}/metrics", headers=headers) as got,
        ):
            assert got.status == 200
            assert "campaign_donations_total" in await got.text()


async def test_accept_running_out_of_files_is_one_warning_not_a_flood_of_errors(
    logged: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    passed_on: list[str] = []
    loop.set_exception_handler(lambda _, context: passed_on.append(str(context["message"])))
    undo = quiet_accept_errors(loop)
    try:
        for _ in range(500):
            loop.call_exception_handler({
                "message": "socket.accept() out of system resource",
                "exception": OSError(24, "Too many open files"),
            })
        loop.call_exception_handler({"message": "something else"})
    finally:
        undo()
        loop.set_exception_handler(None)
    assert len(warnings_with(logged, "out of file descriptors")) == 1
    assert passed_on == ["something else"], "other loop errors still reach the old handler"


async def test_a_repeated_warning_is_one_line_then_one_count_per_interval(
    logged: pytest.LogCaptureFixture,
) -> None:
    throttled = Throttled("edge test event", interval=0.3)
    for _ in range(100):
        throttled.note()
    await asyncio.sleep(0.5)
    assert warnings_with(logged, "edge test event") == [
        "edge test event count=1", "edge test event count=99"]


# `python -m bot` with the usual 1,024 open files at most, as on most Linux hosts.
_WITH_1024_FILES = (
    "import resource, runpy, sys; "
    "resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024)); "
    "sys.argv = ['bot']; runpy.run_module('bot', run_name='__main__', alter_sys=True)"
)


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def test_a_bot_with_1024_files_keeps_serving_through_1100_idle_connections(
    bot_env: dict[str, str], stripe_server: FakeStripe, tmp_path: Path
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1400:
        if hard != resource.RLIM_INFINITY and hard < 1400:
            pytest.skip("this test opens 1,100 connections and needs 1,400 files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (1400, hard))
    port = int(bot_env["HTTP_PORT"])
    log_file = tmp_path / "bot.log"
    with log_file.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _WITH_1024_FILES, cwd=ROOT, env={**os.environ, **bot_env},
            stdout=log, stderr=log,
        )
    idle: list[socket.socket] = []
    try:
        await wait_until_ready(f"http://127.0.0.1:{port}/readyz")
        for _ in range(1100):
            connection = socket.socket()
            connection.setblocking(False)
            with contextlib.suppress(BlockingIOError):  # connects on its own, in the background
                connection.connect(("127.0.0.1", port))
            idle.append(connection)
        await asyncio.sleep(1)  # the bot takes what it can of them
        started = time.monotonic()
        timeout = aiohttp.ClientTimeout(total=5)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            assert response.status == 200
        assert time.monotonic() - started < 2
        webhook = f"http://127.0.0.1:{port}/stripe/webhook"
        assert await stripe_server.deliver(ignored_event(2), webhook) == 200
        assert open_files(process.pid) < 1024 - 64
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0
    finally:
        for connection in idle:
            connection.close()
        await kill_if_running(process)
    logs = log_file.read_text()
    assert "level=ERROR" not in logs and "Traceback" not in logs
    assert logs.count("connection cap reached") == 1


def test_metrics_without_a_token_are_not_served_to_another_machine() -> None:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        ("203.0.113.5", 40000) if name == "peername" else default
    )
    request = make_mocked_request("GET", "/metrics", transport=transport)
    assert not _direct_from_this_machine(request)
    transport.get_extra_info.side_effect = lambda name, default=None: (
        ("::1", 40000, 0, 0) if name == "peername" else default
    )
    assert _direct_from_this_machine(make_mocked_request("GET", "/metrics", transport=transport))

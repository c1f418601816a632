"""Two `python -m bot` processes in webhook mode on one Redis, behind one address."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web

from bot.web.telegram_webhook import WEBHOOK_PATH
from tests.conftest import ROOT, free_port, stop_processes
from tests.fakes.telegram import FakeBotAPI
from tests.test_lifecycle import wait_until_ready

# Two processes start and take 40 deliveries: 7.5 to 12 s on a busy 2-core machine.
pytestmark = pytest.mark.slow

SECRET = "several-processes-secret-20"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
USERS = 30
# Sent twice at the same moment: one process handles the update, the other answers 503 (Telegram
# sends it again later) unless it is done by then.
AT_ONCE = 5
# Sent again once the first delivery was answered, as Telegram retries after a timeout.
LATER = 5


class RoundRobin:
    """What the compose file's nginx does: one address, each POST to the next process in turn."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.turn = 0
        # update_id -> (process index, status) for each delivery, in order.
        self.deliveries: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self._http: aiohttp.ClientSession | None = None

    async def forward(self, request: web.Request) -> web.Response:
        index, self.turn = self.turn % len(self.backends), self.turn + 1
        body = await request.read()
        headers = {SECRET_HEADER: request.headers.get(SECRET_HEADER, "")}
        assert self._http is not None
        async with self._http.post(
            self.backends[index] + request.path, data=body, headers=headers
        ) as response:
            self.deliveries[json.loads(body)["update_id"]].append((index, response.status))
            return web.Response(status=response.status, body=await response.read())

    @asynccontextmanager
    async def serving(self, port: int) -> AsyncIterator[None]:
        app = web.Application()
        app.router.add_post(WEBHOOK_PATH, self.forward)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with aiohttp.ClientSession() as self._http:
                yield
        finally:
            await runner.cleanup()


@asynccontextmanager
async def bot_processes(
    env: dict[str, str], ports: list[int]
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """One `python -m bot` per port, all ready; each stopped with SIGTERM at the end."""
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=ROOT,
            env={**os.environ, **env, "HTTP_PORT": str(port)},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        await asyncio.gather(
            *(wait_until_ready(f"http://127.0.0.1:{port}/readyz") for port in ports)
        )
        yield processes
    finally:
        await stop_processes(*processes)


async def test_two_processes_behind_one_address_answer_each_update_once(
    bot_env: dict[str, str], telegram: FakeBotAPI
) -> None:
    ports = [free_port(), free_port()]
    proxy = RoundRobin([f"http://127.0.0.1:{port}" for port in ports])
    public_url = f"http://127.0.0.1:{free_port()}"
    env = {**bot_env, "TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": SECRET,
           "PUBLIC_URL": public_url}
    async with (
        proxy.serving(int(public_url.rsplit(":", 1)[1])),
        bot_processes(env, ports),
        aiohttp.ClientSession() as http,
    ):
        # Both set the same webhook: Telegram sends every update to the one address.
        assert telegram.webhook_url == f"{public_url}{WEBHOOK_PATH}"
        assert len(telegram.calls_to("setWebhook")) == 2

        async def deliver(update_id: int) -> int:
            body = json.dumps(telegram.pushed[update_id])
            async with http.post(
                f"{public_url}{WEBHOOK_PATH}", data=body, headers={SECRET_HEADER: SECRET}
            ) as response:
                return response.status

        mark = telegram.mark()
        users = [70_000 + n for n in range(USERS)]
        languages = {user: "fr" if n % 2 else "en" for n, user in enumerate(users)}
        updates = [
            telegram.user(user, language_code=languages[user]).send("/help") for user in users
        ]
        for n, update_id in enumerate(updates):
            copies = 2 if n < AT_ONCE else 1
            statuses = await asyncio.gather(*(deliver(update_id) for _ in range(copies)))
            assert sorted(statuses) in ([200], [200, 200], [200, 503]), statuses
            if 503 in statuses:
                assert await deliver(update_id) == 200, "a retry once it was handled"
        # Each later retry goes to the process the first delivery did not reach.
        for _ in range(LATER):
            following = proxy.turn % len(ports)
            retried = next(
                update_id for update_id in updates
                if [index for index, _ in proxy.deliveries[update_id]] == [1 - following]
            )
            assert await deliver(retried) == 200

        for user in users:
            reply = await telegram.wait_for_message(user, after=mark, timeout=15)
            expected = "ce que je sais faire" if languages[user] == "fr" else "what I can do"
            assert expected in (reply.rendered_text or ""), reply.describe()

    again = [update_id for update_id in updates if len(proxy.deliveries[update_id]) > 1]
    assert len(again) == AT_ONCE + LATER
    # Every update sent again reached both processes, and each answered 200 once it was handled.
    assert all({index for index, _ in proxy.deliveries[update_id]} == {0, 1}
               and proxy.deliveries[update_id][-1][1] == 200
               for update_id in again), dict(proxy.deliveries)
    answers = [
        call.chat_id for call in telegram.calls[mark:]
        if call.ok and call.method == "sendMessage" and call.chat_id in languages
    ]
    assert sorted(answers) == users, "an update was answered twice, or not at all"

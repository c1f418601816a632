"""Telegram updates as Telegram delivers them in webhook mode, for the measures of people tapping.

Each update is POSTed to /telegram/webhook with the secret token at the moment a schedule says;
the lean fake Bot API records every message reaching the watched chats.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from bench.fake_api import LeanBotAPI
from bench.harness import ROOT, Bench, free_port, stop_process, wait_ready
from tests.fakes.telegram import BOT_ID

BURST_SECRET = "bench-webhook-secret"
WARM_UP_CHAT = 19_999_999
WAIT_CAP_SECONDS = 120.0
_update_ids = iter(range(1, 10**9))


def webhook_env(bench: Bench) -> dict[str, str]:
    """The bot as deployed, in webhook mode: updates come from the harness, setWebhook goes to
    the fake, BROADCAST_RATE is the default."""
    env = bench.env(
        TELEGRAM_MODE="webhook", TELEGRAM_WEBHOOK_SECRET=BURST_SECRET,
        PUBLIC_URL="https://bench.invalid",
    )
    env.pop("BROADCAST_RATE")
    return env


def _person(chat: int, locale: str) -> dict[str, object]:
    return {"id": chat, "is_bot": False, "first_name": "Supporter", "language_code": locale}


def _private_chat(chat: int) -> dict[str, object]:
    return {"id": chat, "type": "private", "first_name": "Supporter"}


def command(chat: int, text: str, locale: str) -> bytes:
    """One private-chat command as Telegram delivers it."""
    name = text.split()[0]
    return json.dumps({"update_id": next(_update_ids), "message": {
        "message_id": 1, "date": int(time.time()), "text": text, "from": _person(chat, locale),
        "chat": _private_chat(chat),
        "entities": [{"type": "bot_command", "offset": 0, "length": len(name)}],
    }}).encode()


def tap(chat: int, data: str, locale: str, message_id: int = 2) -> bytes:
    """A tap on a button with callback `data` under the bot's message `message_id`."""
    update_id = next(_update_ids)
    return json.dumps({"update_id": update_id, "callback_query": {
        "id": str(update_id), "from": _person(chat, locale), "chat_instance": str(chat),
        "data": data, "message": {
            "message_id": message_id, "date": int(time.time()), "chat": _private_chat(chat),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot"}, "text": "Amounts",
        },
    }}).encode()


async def deliver(url: str, schedule: list[tuple[float, int, bytes]]) -> dict[int, list[float]]:
    """POST each update at its offset (s) from now; the send times per chat."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    sent: dict[int, list[float]] = {}
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": BURST_SECRET}

    async def post(http: aiohttp.ClientSession, offset: float, chat: int, body: bytes) -> None:
        await asyncio.sleep(max(0.0, started + offset - loop.time()))
        sent.setdefault(chat, []).append(time.monotonic())
        async with http.post(url, data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"telegram webhook answered {response.status}")

    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(post(http, *item) for item in schedule))
    return sent


async def settle(telegram: LeanBotAPI, wanted: int, per_chat: int, quiet: float) -> None:
    """Until `wanted` messages reached the watched chats (at most `per_chat` counted each), or
    none came for `quiet` seconds."""
    last_count, last_change = -1, time.monotonic()
    deadline = time.monotonic() + WAIT_CAP_SECONDS
    while time.monotonic() < deadline:
        count = sum(min(per_chat, len(d)) for d in telegram.deliveries.values())
        if count >= wanted:
            return
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > quiet:
            return
        await asyncio.sleep(0.02)


async def warm_up(telegram: LeanBotAPI, url: str, updates: list[bytes]) -> None:
    """One supporter first, outside the measure: the campaign photo's upload, lazy imports.
    The updates go one after another, each once the message answering it came."""
    for update in updates:
        before = telegram.other_sends
        await deliver(url, [(0.0, WARM_UP_CHAT, update)])
        deadline = time.monotonic() + 30
        while telegram.other_sends <= before:
            if time.monotonic() > deadline:
                raise RuntimeError("the warm-up supporter was not answered")
            await asyncio.sleep(0.01)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its threads, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def error_lines(log: Path) -> int:
    """ERROR lines in a key=value log (the bot's format, and the reference's)."""
    with contextlib.suppress(OSError):
        return sum("level=ERROR" in line for line in log.read_text(errors="replace").splitlines())
    return 0


@contextlib.asynccontextmanager
async def reference_app(
    bench: Bench, log: Path, *flags: str
) -> AsyncIterator[tuple[str, int]]:
    """A `python -m bench.clients burst` reference as its own process: its webhook URL and pid."""
    port = free_port()
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.clients", "burst", "--url", bench.telegram.url,
            "--port", str(port), "--secret", BURST_SECRET, *flags, cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=output,
        )
        try:
            await wait_ready(f"http://127.0.0.1:{port}/readyz", process, timeout=30)
            yield f"http://127.0.0.1:{port}/telegram/webhook", process.pid
        finally:
            await stop_process(process)

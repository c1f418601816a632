"""Health endpoints, and a real `python -m bot` process that serves and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import ROOT, Harness, kill_if_running
from tests.fakes.telegram import FakeBotAPI


async def test_healthz_and_readyz_answer_when_running(harness: Harness) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{harness.http}/healthz") as response:
            assert response.status == 200
        async with http.get(f"{harness.http}/readyz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ready", "bot": True, "redis": True}


async def wait_until_ready(url: str, timeout: float = 20) -> float:
    """Poll /readyz; returns the seconds it took to answer 200."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        while time.monotonic() - started < timeout:
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return time.monotonic() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never became ready")


async def embedded_bot(
    bot_env: dict[str, str], data: Path, settings: dict[str, str] | None = None, **popen: Any
) -> asyncio.subprocess.Process:
    """`python -m bot` with its own embedded Redis in `data`, `settings` added to its env."""
    env = {**os.environ, **bot_env, "DATA_DIR": str(data), **(settings or {})}
    env.pop("REDIS_URL")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env=env, **popen
    )


async def test_bot_process_with_embedded_redis_serves_and_stops_on_sigterm(
    bot_env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path
) -> None:
    process = await embedded_bot(
        bot_env, tmp_path / "data",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_until_ready(f"http://127.0.0.1:{bot_env['HTTP_PORT']}/readyz")
        mark = telegram.mark()
        telegram.user(2001, language_code="fr").send("/help")
        reply = await telegram.wait_for_message(2001, after=mark, timeout=10)
        assert "ce que je sais faire" in (reply.rendered_text or "")
        redis_pid = int((tmp_path / "data" / "valkey.pid").read_text())
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 10)
        assert process.returncode == 0, stderr.decode()
        assert time.monotonic() - stopping < 10
        assert not Path(f"/proc/{redis_pid}").exists(), "the embedded valkey-server was stopped"
        logs = stderr.decode()
        assert "bot stopped" in logs
        assert bot_env["TELEGRAM_BOT_TOKEN"] not in logs
        assert bot_env["STRIPE_SECRET_KEY"] not in logs
    finally:
        await kill_if_running(process)


def running(pid: int) -> bool:
    """Whether the process exists and has not exited (an unreaped zombie has)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


async def test_embedded_redis_has_its_own_session_and_exits_when_the_bot_is_killed(
    bot_env: dict[str, str], tmp_path: Path
) -> None:
    process = await embedded_bot(
        bot_env, tmp_path / "data",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        await wait_until_ready(f"http://127.0.0.1:{bot_env['HTTP_PORT']}/readyz")
        redis_pid = int((tmp_path / "data" / "valkey.pid").read_text())
        # A terminal's Ctrl-C or a group SIGTERM reaches the bot's group, never its Redis.
        assert os.getpgid(redis_pid) != os.getpgid(process.pid)
        assert os.getsid(redis_pid) == redis_pid
        process.kill()
        await process.wait()
        for _ in range(200):
            if not running(redis_pid):
                break
            await asyncio.sleep(0.05)
        assert not running(redis_pid), "valkey-server outlived the SIGKILLed bot"
    finally:
        await kill_if_running(process)

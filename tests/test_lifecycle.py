"""Health endpoints, and a real `python -m bot` process that serves and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp

from tests.conftest import ROOT, Harness
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


async def test_bot_process_with_embedded_redis_serves_and_stops_on_sigterm(
    bot_env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path
) -> None:
    env = {**os.environ, **bot_env, "DATA_DIR": str(tmp_path / "data")}
    env.pop("REDIS_URL")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_until_ready(f"http://127.0.0.1:{bot_env['HTTP_PORT']}/readyz")
        mark = telegram.mark()
        telegram.user(2001, language_code="fr").send("/help")
        reply = await telegram.wait_for_message(2001, after=mark, timeout=10)
        assert "ce que je sais faire" in (reply.rendered_text or "")
        redis_pid = int((tmp_path / "data" / "redis.pid").read_text())
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 10)
        assert process.returncode == 0, stderr.decode()
        assert time.monotonic() - stopping < 10
        assert not Path(f"/proc/{redis_pid}").exists(), "the embedded redis-server was stopped"
        logs = stderr.decode()
        assert "bot stopped" in logs
        assert bot_env["TELEGRAM_BOT_TOKEN"] not in logs
        assert bot_env["STRIPE_SECRET_KEY"] not in logs
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

"""The default log holds what happened, not a library's routine (APScheduler's job runs)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis

from bot.logs import configure_logging
from bot.storage import keys
from tests.conftest import ROOT, kill_if_running
from tests.fakes.telegram import FakeBotAPI
from tests.test_lifecycle import wait_until_ready


async def test_a_job_run_writes_no_scheduler_line_at_info(
    bot_env: dict[str, str], telegram: FakeBotAPI, redis_url: str
) -> None:
    redis = Redis.from_url(redis_url)
    # Something for the feed job to take (nobody to tell: it is dropped), so its run is seen.
    await redis.rpush(keys.beneficiary_feed(), json.dumps({"kind": "donation", "amount": 500}))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env={**os.environ, **bot_env},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_until_ready(f"http://127.0.0.1:{bot_env['HTTP_PORT']}/readyz")
        for _ in range(200):
            if not await redis.exists(keys.beneficiary_feed()):
                break
            await asyncio.sleep(0.05)
        assert not await redis.exists(keys.beneficiary_feed()), "the feed job never ran"
        # The start-up catch-up job runs a second after the feed's first run.
        await asyncio.sleep(1.5)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 10)
    finally:
        await redis.aclose()
        await kill_if_running(process)
    logs = stderr.decode()
    assert "msg=bot started" in logs and "msg=bot stopped" in logs
    assert "logger=apscheduler" not in logs


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging sets the root and library loggers; pytest's own set-up comes back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {
        name: logger.level for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            logger.setLevel(levels.get(name, logging.NOTSET))


@pytest.mark.usefixtures("restored_logging")
def test_scheduler_lines_show_only_when_debugging() -> None:
    scheduler = logging.getLogger("apscheduler.executors.default")
    configure_logging("INFO")
    assert not scheduler.isEnabledFor(logging.INFO)
    assert scheduler.isEnabledFor(logging.WARNING)
    configure_logging("DEBUG")
    assert scheduler.isEnabledFor(logging.INFO)
    assert not scheduler.isEnabledFor(logging.DEBUG)

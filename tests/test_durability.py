"""An external Redis's persistence is read and said plainly: by `check`, and once at start."""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.storage.durability import Durability, read_durability
from bot.storage.embedded_valkey import valkey_server_process
from tests.conftest import running_bot
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI
from tests.test_operations import run_check

EVERYSEC = (
    "appendfsync=everysec: a crash can lose the last second of acknowledged gifts; "
    "set appendfsync always"
)
APPEND_ONLY_OFF = (
    "append-only off: a crash loses every gift since the last snapshot; "
    "set appendonly yes and appendfsync always"
)
CONFIG_DISABLED = (
    "unknown (CONFIG disabled; the server reports append-only on): "
    "make sure appendfsync is always"
)

StartServer = Callable[..., str]


@pytest.fixture
def valkey_with(tmp_path: Path) -> Iterator[StartServer]:
    """Starts Valkey servers with extra arguments after the bot's own; returns each one's URL."""
    numbers = itertools.count()
    with contextlib.ExitStack() as servers:
        def start(*args: str) -> str:
            folder = tmp_path / f"valkey-{next(numbers)}"
            return servers.enter_context(valkey_server_process(folder, extra_args=args))

        yield start


async def warnings_at_start(
    env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
    caplog: pytest.LogCaptureFixture,
) -> list[str]:
    """Start and stop the bot with `env`; the durability WARNINGs it logged."""
    caplog.set_level(logging.INFO)
    async with running_bot(env, telegram, stripe_server):
        pass
    return [
        record.getMessage() for record in caplog.records
        if record.name == "bot.storage.durability" and record.levelno >= logging.WARNING
    ]


@pytest.mark.parametrize(("server_args", "summary"), [
    (("--appendfsync", "everysec"), EVERYSEC),
    (("--appendonly", "no"), APPEND_ONLY_OFF),
], ids=["everysec", "append-only-off"])
async def test_a_weaker_setting_is_a_warning_in_check_and_one_warning_at_start(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
    valkey_with: StartServer, caplog: pytest.LogCaptureFixture,
    server_args: tuple[str, ...], summary: str,
) -> None:
    env = {**bot_env, "REDIS_URL": valkey_with(*server_args)}
    code, lines = await run_check(env)
    assert lines[2] == f"WARN  durability: {summary}"
    # The bot runs on such a server: the check warns, it does not fail.
    assert code == 0, lines
    warnings = await warnings_at_start(env, telegram, stripe_server, caplog)
    assert warnings == [f"durability: {summary}"]


async def test_a_server_that_fsyncs_every_write_gets_no_warning_at_start(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await warnings_at_start(bot_env, telegram, stripe_server, caplog) == []


async def test_where_config_is_renamed_away_info_says_whether_append_only_is_on(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
    valkey_with: StartServer,
) -> None:
    # As managed Redis services do: CONFIG answers "unknown command".
    on = valkey_with("--rename-command", "CONFIG", "")
    off = valkey_with("--rename-command", "CONFIG", "", "--appendonly", "no")
    _, lines = await run_check({**bot_env, "REDIS_URL": on})
    assert lines[2] == f"WARN  durability: {CONFIG_DISABLED}"
    _, lines = await run_check({**bot_env, "REDIS_URL": off})
    assert lines[2] == f"WARN  durability: {APPEND_ONLY_OFF}"


async def test_where_an_acl_refuses_config_the_check_reads_info_and_says_what_it_cannot_tell(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
    valkey_with: StartServer,
) -> None:
    url = valkey_with()
    async with Redis.from_url(url, decode_responses=True) as admin:
        await admin.acl_setuser("default", enabled=True, nopass=True, commands=["-config"])
        code, lines = await run_check({**bot_env, "REDIS_URL": url})
        assert (code, lines[2]) == (0, f"WARN  durability: {CONFIG_DISABLED}")

        # INFO refused too (the check's redis line needs it, so only the reading is asked).
        await admin.acl_setuser("default", enabled=True, nopass=True, commands=["-info"])
        assert await read_durability(admin) == Durability(False, (
            "unknown (the server does not report its persistence settings): "
            "set appendonly yes and appendfsync always"
        ))

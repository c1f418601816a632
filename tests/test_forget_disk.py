"""After /forget the append-only file is rewritten; a server that refuses it is no failure."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis.asyncio import Redis

from bot.storage.aof_rewrite import AofRewrites
from bot.storage.embedded_valkey import EmbeddedValkey
from tests.conftest import running_bot
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI
from tests.forget_steps import forget, give_with_name_and_words

FORGETS = 987_654_321
KEEPS = 123_456_789


def manifest_files(folder: Path) -> set[str]:
    manifest = next(folder.glob("*.manifest"))
    return {line.split()[1] for line in manifest.read_text().splitlines() if line.strip()}


async def rewritten_after(redis: Redis, rewrites_before: int, folder: Path) -> None:
    """Wait until a rewrite that began after `rewrites_before` ended and its old files went."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        info = await redis.info("persistence")
        done = (
            int(info["aof_rewrites"]) > rewrites_before
            and not int(info["aof_rewrite_in_progress"])
            and not int(info["aof_rewrite_scheduled"])
        )
        listed = manifest_files(folder) | {next(folder.glob("*.manifest")).name}
        if done and {path.name for path in folder.iterdir()} <= listed:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the append-only file was not rewritten")


async def test_after_forget_the_append_only_files_hold_neither_the_id_nor_the_words(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    # Without REDIS_URL: the embedded Valkey, its append-only files in DATA_DIR.
    env = {name: value for name, value in bot_env.items() if name != "REDIS_URL"}
    folder = Path(env["DATA_DIR"]) / "appendonlydir"
    async with running_bot(env, telegram, stripe_server) as harness:
        assert harness.bot.embedded_store is not None
        redis = Redis.from_url(harness.bot.embedded_store.url)
        try:
            # A binary base stores numbers as integers and packs long strings, so searching its
            # bytes could miss the id; the text form makes the search sound (the control below
            # proves the search finds what is still there).
            await redis.config_set("aof-use-rdb-preamble", "no")
            leaving = telegram.user(FORGETS, language_code="en", first_name="Ysolde")
            staying = telegram.user(KEEPS, language_code="en", first_name="Brunhild")
            await give_with_name_and_words(harness, leaving, "Courage from the forgetful one")
            await give_with_name_and_words(harness, staying, "Hold on, spring is coming")
            rewrites = int((await redis.info("persistence"))["aof_rewrites"])
            done = await forget(harness, leaving)
            assert "no longer know who you are" in str(done.rendered_text)
            await rewritten_after(redis, rewrites, folder)
        finally:
            await redis.aclose()
    on_disk = b"".join(path.read_bytes() for path in sorted(folder.iterdir()))
    for gone in (str(FORGETS), "Courage from the forgetful one", "Ysolde"):
        assert gone.encode() not in on_disk, gone
    for kept in (str(KEEPS), "Hold on, spring is coming", "Brunhild"):
        assert kept.encode() in on_disk, kept


async def test_erasures_close_together_share_one_rewrite(tmp_path: Path) -> None:
    server = EmbeddedValkey(tmp_path / "data")
    redis = Redis.from_url(await server.start())
    rewrites = AofRewrites(redis, every=60)
    try:
        rewrites.request()
        await rewritten_after(redis, 0, tmp_path / "data" / "appendonlydir")
        rewrites.request()
        rewrites.request()
        await asyncio.sleep(0.5)
        # The next one waits for its minute; stopping the bot drops it.
        assert int((await redis.info("persistence"))["aof_rewrites"]) == 1
        await rewrites.stop()
    finally:
        await redis.aclose()
        await server.stop()


async def test_a_server_that_refuses_the_rewrite_still_forgets_and_says_so_once(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    admin = Redis.from_url(bot_env["REDIS_URL"])
    # As on a managed server: everything but BGREWRITEAOF is allowed.
    await admin.acl_setuser(
        "no-rewrite", enabled=True, passwords=["+secret"], keys=["*"], channels=["*"],
        commands=["+@all", "-bgrewriteaof"],
    )
    server = urlsplit(bot_env["REDIS_URL"])
    place = f"{server.hostname}:{server.port}" if server.hostname else ""
    url = urlunsplit(server._replace(netloc=f"no-rewrite:secret@{place}"))
    try:
        async with running_bot({**bot_env, "REDIS_URL": url}, telegram, stripe_server) as bot:
            for user_id in (4101, 4102):
                user = bot.user(user_id, "en")
                mark = telegram.mark()
                user.send("/subscribe")
                await telegram.wait_for_message(user_id, after=mark)
                assert "no longer know who you are" in str((await forget(bot, user)).rendered_text)
            await asyncio.sleep(0.2)
    finally:
        await admin.acl_deluser("no-rewrite")
        await admin.aclose()
    refusals = [r for r in caplog.records if "BGREWRITEAOF" in r.getMessage()]
    assert [r.levelno for r in refusals] == [logging.WARNING]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []

"""A `python -m bot` that cannot start says why in one line, and leaves nothing running."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import redis

from bot.storage.embedded_valkey import valkey_server_process
from tests.conftest import ROOT, free_port, kill_if_running
from tests.fakes.telegram import FakeBotAPI
from tests.test_lifecycle import running, wait_until_ready

WRONG_TOKEN = "654321:WRONG-token-abcdefghijklmnopqrstuvwxyz"


async def failed_start(
    bot_env: dict[str, str], settings: dict[str, str], embedded: bool = True
) -> tuple[str, list[str]]:
    """Run the bot to its exit; returns the start-up failure line and every line before it."""
    env = {**os.environ, **bot_env, **settings}
    if embedded:
        env.pop("REDIS_URL")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        await kill_if_running(process)
    text = stderr.decode()
    assert process.returncode == 1, text
    lines = text.splitlines()
    # The last thing written: no ERROR block (an unclosed session, a traceback) after it.
    assert lines and lines[-1].startswith("start-up failed: "), text
    assert all(level_of(line) == "INFO" for line in lines[:-1]), text
    for leak in ("Unclosed", "Traceback", "ERROR", bot_env["TELEGRAM_BOT_TOKEN"], WRONG_TOKEN):
        assert leak not in text
    return lines[-1], lines[:-1]


def level_of(line: str) -> str:
    """The level of a log line, key=value or JSON."""
    if line.startswith("{"):
        return str(json.loads(line)["level"])
    return line.split(" level=", 1)[1].split()[0]


def assert_server_gone(logged: list[str]) -> None:
    """The embedded server the bot logged starting is no longer running."""
    started = [line for line in logged if "embedded valkey started pid=" in line]
    assert len(started) == 1, logged
    pid = int(started[0].split("pid=", 1)[1].split()[0])
    assert not running(pid), "the embedded valkey-server outlived the failed start"


async def test_telegram_nobody_answers_is_named_with_its_url(
    bot_env: dict[str, str], tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    line, before = await failed_start(
        bot_env, {"TELEGRAM_API_URL": url, "DATA_DIR": str(tmp_path)}
    )
    assert line.startswith(
        f"start-up failed: Telegram could not be reached at TELEGRAM_API_URL={url} "
        "(Cannot connect to host 127.0.0.1:"
    ), line
    assert line.endswith("): check TELEGRAM_API_URL and the network")
    assert_server_gone(before)


async def test_a_refused_token_is_named_and_never_shown(
    bot_env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path
) -> None:
    line, before = await failed_start(bot_env, {
        "TELEGRAM_BOT_TOKEN": WRONG_TOKEN, "DATA_DIR": str(tmp_path), "LOG_FORMAT": "json",
    })
    assert line == (
        "start-up failed: Telegram refused TELEGRAM_BOT_TOKEN (Unauthorized): "
        "check the token @BotFather gave you"
    )
    assert any(json.loads(entry)["msg"] == "bot stopped" for entry in before)
    assert_server_gone(before)


async def test_an_unreachable_redis_is_named_once_and_the_bot_serves_meanwhile(
    bot_env: dict[str, str], telegram: FakeBotAPI
) -> None:
    # A server still starting (compose, a restart) is no reason to stop: people are told the bot
    # cannot reach its records, Stripe is asked to retry, and it recovers by itself.
    port = free_port()
    url = f"redis://:hunter2-secret@127.0.0.1:{port}/0"
    env = {**os.environ, **bot_env, "REDIS_URL": url}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE,
    )
    try:
        # Liveness, not readiness: /readyz stays 503 while Redis is away.
        await wait_until_ready(f"http://127.0.0.1:{bot_env['HTTP_PORT']}/healthz")
        mark = telegram.mark()
        telegram.user(3101, language_code="en").send("/help")
        reply = await telegram.wait_for_message(3101, after=mark, timeout=10)
        assert "can't reach my records" in (reply.rendered_text or "")
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 20)
    finally:
        await kill_if_running(process)
    text = stderr.decode()
    assert "hunter2" not in text
    warnings = [line for line in text.splitlines() if level_of(line) == "WARNING"]
    assert any(
        "Redis could not be reached at "
        f"REDIS_URL=redis://:***@127.0.0.1:{port}/0 (Error 111 connecting to 127.0.0.1:{port}."
        in line and "; starting anyway" in line for line in warnings
    ), text
    assert "Traceback" not in text


async def test_redis_refusing_the_password_fails_the_start_naming_redis_url(
    bot_env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path
) -> None:
    with valkey_server_process(tmp_path / "locked") as socket_url:
        # Locked after it is up: the helper's own readiness PING carries no password.
        admin = redis.Redis.from_url(socket_url)
        admin.config_set("requirepass", "right-one")
        admin.close()
        url = f"{socket_url}?password=wrong-one"
        line, _ = await failed_start(bot_env, {"REDIS_URL": url}, embedded=False)
    assert line.startswith("start-up failed: Redis refused the credentials in REDIS_URL="), line
    assert line.endswith(": check the user name and password in REDIS_URL")
    assert "wrong-one" not in line
    assert not telegram.calls_to("getMe"), "Redis is checked before anything else"


async def test_a_data_dir_that_cannot_be_written_is_named(
    bot_env: dict[str, str], tmp_path: Path
) -> None:
    # Under a regular file: unwritable even for root, who ignores permission bits.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line, _ = await failed_start(bot_env, {"DATA_DIR": str(blocker / "data")})
    assert line == (
        f"start-up failed: the embedded Valkey server did not start: DATA_DIR={blocker / 'data'} "
        "is not writable (Not a directory); set DATA_DIR to a folder this user can write, or "
        "REDIS_URL to an external server"
    )


async def test_a_taken_http_port_is_named_once_telegram_was_reached(
    bot_env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(bot_env["HTTP_PORT"])))
        taken.listen()
        line, before = await failed_start(bot_env, {"DATA_DIR": str(tmp_path)})
    assert line.startswith(
        f"start-up failed: the HTTP server could not listen on HTTP_HOST=127.0.0.1 "
        f"HTTP_PORT={bot_env['HTTP_PORT']} ("
    ), line
    assert "address already in use" in line
    assert line.endswith("check HTTP_HOST and HTTP_PORT, and that no other process uses the port")
    assert telegram.calls_to("getMe"), "the pools opened for getMe were closed (no Unclosed)"
    assert_server_gone(before)


async def test_a_refused_webhook_names_public_url_after_the_application_started(
    bot_env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path
) -> None:
    refusal = "Bad Request: bad webhook: HTTPS url must be provided"
    telegram.fail_next("setWebhook", status=400, description=refusal)
    line, before = await failed_start(bot_env, {
        "DATA_DIR": str(tmp_path), "TELEGRAM_MODE": "webhook",
        "TELEGRAM_WEBHOOK_SECRET": "s3cret_token-1", "PUBLIC_URL": "http://127.0.0.1:1",
    })
    assert line == (
        "start-up failed: Telegram refused the webhook at PUBLIC_URL=http://127.0.0.1:1 "
        "(Bad webhook: https url must be provided): check PUBLIC_URL "
        "(a public https address) and TELEGRAM_WEBHOOK_SECRET"
    )
    assert any("Application started" in entry for entry in before)
    assert_server_gone(before)

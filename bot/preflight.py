"""`python -m bot check`: configuration, Redis and its durability, Telegram and Stripe, one line
per check."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import stripe
from telegram import Bot
from telegram.error import TelegramError

from bot.botapi.transport import BotApiRequest
from bot.config import Settings
from bot.donations.stripe_client import Payments
from bot.service_errors import (
    REDIS_PING_SECONDS,
    one_line,
    redis_problem,
    stripe_problem,
    telegram_problem,
    without_password,
)
from bot.storage.connection import StorageUnavailable, connect
from bot.storage.durability import EMBEDDED, read_durability
from bot.storage.embedded_valkey import EmbeddedServerError, EmbeddedValkey, valkey_server_binary


@dataclass(frozen=True)
class Check:
    """The outcome of one check, as printed; a warning is printed but passes."""

    ok: bool
    name: str
    detail: str
    warning: bool = False

    def line(self) -> str:
        state = "FAIL" if not self.ok else "WARN" if self.warning else "ok  "
        return f"{state}  {self.name}: {self.detail}"


NOT_READ = Check(True, "durability", "unknown, Redis was not reached", warning=True)


async def check_redis(settings: Settings) -> Check:
    url = settings.storage.redis_url
    if url:
        client = connect(url)
        try:
            await asyncio.wait_for(client.ping(), REDIS_PING_SECONDS)
            info = await client.info("server")
        except StorageUnavailable as exc:  # TimeoutError is an OSError
            return Check(False, "redis", redis_problem(exc, url).what)
        finally:
            await client.aclose()
        return Check(True, "redis", f"reached at REDIS_URL={without_password(url)}, "
                     f"{server_version(info)}")
    try:
        binary = valkey_server_binary()
        version = (await asyncio.to_thread(
            subprocess.run, [str(binary), "--version"], capture_output=True, text=True,
            timeout=10, check=True,
        )).stdout.split()[2].removeprefix("v=")
    except (RuntimeError, OSError, subprocess.SubprocessError, IndexError) as exc:
        return Check(False, "redis", f"embedded valkey-server unusable ({one_line(str(exc))})")
    server = EmbeddedValkey(settings.storage.data_dir)
    try:
        server.check_data_dir()
    except EmbeddedServerError as exc:
        return Check(False, "redis", str(exc))
    return Check(True, "redis", f"embedded Valkey {version}, DATA_DIR={server.data_dir}")


async def check_durability(settings: Settings) -> Check:
    """What a crash of the Redis server could lose: a warning, since the bot still runs."""
    url = settings.storage.redis_url
    durability = EMBEDDED
    if url:
        client = connect(url)
        try:
            durability = await asyncio.wait_for(read_durability(client), REDIS_PING_SECONDS)
        except StorageUnavailable:
            return NOT_READ
        finally:
            await client.aclose()
    return Check(True, "durability", durability.summary, warning=not durability.ok)


def server_version(info: Mapping[str, Any]) -> str:
    """"Valkey 9.1.2" or "Redis 7.2.4": Valkey answers redis_version too, for old clients."""
    if "valkey_version" in info:
        return f"Valkey {info['valkey_version']}"
    return f"Redis {info.get('redis_version', '?')}"


async def check_telegram(settings: Settings) -> Check:
    # The bot's own transport, so the check reaches Telegram the way the bot will.
    bot = Bot(
        settings.telegram.token,
        base_url=f"{settings.telegram.api_url}/bot",
        base_file_url=f"{settings.telegram.api_url}/file/bot",
        request=BotApiRequest(connections=1),
        get_updates_request=BotApiRequest(connections=1),
    )
    try:
        await bot.initialize()
        return Check(True, "telegram", f"token accepted, the bot is @{bot.username}")
    except TelegramError as exc:
        return Check(False, "telegram", telegram_problem(exc, settings).what)
    finally:
        await bot.shutdown()


async def check_stripe(settings: Settings) -> Check:
    payments = Payments(settings.stripe.secret_key, settings.stripe.api_base)
    mode = "live" if "_live_" in settings.stripe.secret_key else "test"
    try:
        account = await payments.account_name()
        return Check(True, "stripe", f"key accepted for account {account} ({mode} mode)")
    except stripe.StripeError as exc:
        return Check(False, "stripe", stripe_problem(exc, settings).what)
    finally:
        await payments.close()


async def run_checks(settings: Settings, report: Callable[[str], None]) -> bool:
    """Run every check, reporting each line as it completes; True if all passed (warnings pass)."""
    report(Check(True, "configuration", f"{settings.telegram.mode} mode, campaign file "
                 f"{settings.campaign_file}").line())
    checks: list[Callable[[Settings], Awaitable[Check]]] = [
        check_redis, check_durability, check_telegram, check_stripe,
    ]
    all_ok = True
    for check in checks:
        if check is check_durability and settings.storage.redis_url and not all_ok:
            result = NOT_READ  # asking a server that did not answer would wait as long again
        else:
            result = await check(settings)
        all_ok &= result.ok
        report(result.line())
    return all_ok

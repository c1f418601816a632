"""`python -m bot check`: configuration, Redis, Telegram and Stripe, one line per check."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import stripe
from redis.exceptions import RedisError
from telegram import Bot
from telegram.error import TelegramError

from bot.config import Settings
from bot.donations.stripe_client import Payments
from bot.storage.connection import connect
from bot.storage.embedded_valkey import valkey_server_binary


@dataclass(frozen=True)
class Check:
    """The outcome of one check, as printed."""

    ok: bool
    name: str
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


async def check_redis(settings: Settings) -> Check:
    if settings.storage.redis_url:
        client = connect(settings.storage.redis_url)
        try:
            await client.ping()
            info = await client.info("server")
            return Check(True, "redis", f"reached, version {info.get('redis_version', '?')}")
        except (RedisError, OSError) as exc:
            return Check(False, "redis", f"cannot reach REDIS_URL ({type(exc).__name__})")
        finally:
            await client.aclose()
    try:
        binary = valkey_server_binary()
        version = (await asyncio.to_thread(
            subprocess.run, [str(binary), "--version"], capture_output=True, text=True,
            timeout=10, check=True,
        )).stdout.split()[2]
    except (RuntimeError, OSError, subprocess.SubprocessError, IndexError) as exc:
        return Check(False, "redis", f"embedded valkey-server unusable ({type(exc).__name__})")
    data_dir = settings.storage.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(data_dir, os.W_OK):
        return Check(False, "redis", f"DATA_DIR {data_dir} is not writable")
    return Check(True, "redis", f"embedded {version}, data in {data_dir.resolve()}")


async def check_telegram(settings: Settings) -> Check:
    bot = Bot(
        settings.telegram.token,
        base_url=f"{settings.telegram.api_url}/bot",
        base_file_url=f"{settings.telegram.api_url}/file/bot",
    )
    try:
        async with bot:
            me = await bot.get_me()
        return Check(True, "telegram", f"token accepted, the bot is @{me.username}")
    except TelegramError as exc:
        # PTB's InvalidToken message quotes the token itself.
        detail = exc.message.replace(settings.telegram.token, "<TELEGRAM_BOT_TOKEN>")
        return Check(False, "telegram", f"{type(exc).__name__}: {detail}")


async def check_stripe(settings: Settings) -> Check:
    payments = Payments(settings.stripe.secret_key, settings.stripe.api_base)
    mode = "live" if "_live_" in settings.stripe.secret_key else "test"
    try:
        account = await payments.account_name()
        return Check(True, "stripe", f"key accepted for account {account} ({mode} mode)")
    except stripe.StripeError as exc:
        return Check(False, "stripe", f"{type(exc).__name__}: {exc.user_message or 'no detail'}")
    finally:
        await payments.close()


async def run_checks(settings: Settings, report: Callable[[str], None]) -> bool:
    """Run every check, reporting each line as it completes; True if all passed."""
    report(Check(True, "configuration", f"{settings.telegram.mode} mode, campaign file "
                 f"{settings.campaign_file}").line())
    checks: list[Callable[[Settings], Awaitable[Check]]] = [
        check_redis, check_telegram, check_stripe,
    ]
    all_ok = True
    for check in checks:
        result = await check(settings)
        all_ok &= result.ok
        report(result.line())
    return all_ok

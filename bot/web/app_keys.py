"""aiohttp state under web.AppKey, typed: what each route reads, set once by the server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiohttp import web
from telegram import Bot, Update

from bot.campaign import Campaign
from bot.config import HttpSettings
from bot.donations.ledger import DonationLedger
from bot.donations.spending import SpendingRecord
from bot.donations.stripe_client import Payments
from bot.donations.stripe_events import StripeEventProcessor
from bot.i18n import Localizer
from bot.metrics import Metrics
from bot.storage.health import StorageHealth
from bot.storage.update_log import UpdateLog
from bot.web.connection_guard import ConnectionGuard


@dataclass(frozen=True)
class StripeWebhook:
    """What the Stripe endpoint needs: the verifier, the processor and the bot's update queue."""

    payments: Payments
    processor: StripeEventProcessor
    signing_secret: str
    # The notice courier's queue: notices recorded in Redis and ready to be sent.
    deliver_soon: Callable[[Iterable[str]], None]
    metrics: Metrics


@dataclass(frozen=True)
class TelegramWebhook:
    """What the Telegram endpoint needs; absent in polling mode, where the endpoint answers 404."""

    secret: str
    bot: Bot
    updates: UpdateLog
    # The update's handling, begun; None once the bot stops taking updates.
    start_handling: Callable[[Update], asyncio.Task[None] | None]


BOT_READY: web.AppKey[Callable[[], bool]] = web.AppKey("bot_ready")
BOT_USERNAME: web.AppKey[Callable[[], str]] = web.AppKey("bot_username")
CAMPAIGN = web.AppKey("campaign", Campaign)
CONNECTION_GUARD = web.AppKey("connection_guard", ConnectionGuard)
HTTP_SETTINGS = web.AppKey("http_settings", HttpSettings)
LEDGER = web.AppKey("ledger", DonationLedger)
LOCALIZER = web.AppKey("localizer", Localizer)
METRICS = web.AppKey("metrics", Metrics)
SPENDING = web.AppKey("spending", SpendingRecord)
STORAGE_HEALTH = web.AppKey("storage_health", StorageHealth)
STRIPE_WEBHOOK = web.AppKey("stripe_webhook", StripeWebhook)
TELEGRAM_WEBHOOK: web.AppKey[TelegramWebhook | None] = web.AppKey("telegram_webhook")

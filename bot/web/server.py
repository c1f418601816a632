"""The one aiohttp server: its routes, and the state they read under typed AppKeys."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from bot.campaign import Campaign
from bot.donations.ledger import DonationLedger
from bot.i18n import Localizer
from bot.metrics import Metrics
from bot.storage.health import StorageHealth
from bot.web.app_keys import (
    BOT_READY,
    BOT_USERNAME,
    CAMPAIGN,
    LEDGER,
    LOCALIZER,
    METRICS,
    STORAGE_HEALTH,
    STRIPE_WEBHOOK,
    TELEGRAM_WEBHOOK,
    StripeWebhook,
    TelegramWebhook,
)
from bot.web.landing_pages import donate_cancel, donate_success
from bot.web.stripe_webhook import stripe_webhook
from bot.web.telegram_webhook import WEBHOOK_PATH, telegram_webhook
from bot.web.widget import widget

log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the event loop answers; no I/O so a slow Redis never gets the bot restarted."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: Redis answers a PING and the Telegram application is initialised."""
    checks = {
        "bot": request.app[BOT_READY](),
        "redis": await request.app[STORAGE_HEALTH].answers(),
    }
    if not checks["redis"]:
        log.warning("readiness: redis did not answer")
    ready = all(checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", **checks}, status=200 if ready else 503
    )


async def prometheus_metrics(request: web.Request) -> web.Response:
    """Counters and histograms in Prometheus' text format."""
    return web.Response(
        body=request.app[METRICS].render(),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )


def build_web_app(
    *,
    bot_ready: Callable[[], bool],
    bot_username: Callable[[], str],
    storage: StorageHealth,
    l10n: Localizer,
    ledger: DonationLedger,
    campaign: Campaign,
    metrics: Metrics,
    stripe: StripeWebhook,
    telegram: TelegramWebhook | None,
) -> web.Application:
    """All HTTP routes, with what they read under typed AppKeys."""
    app = web.Application(client_max_size=1024 * 1024)
    app[BOT_READY] = bot_ready
    app[BOT_USERNAME] = bot_username
    app[STORAGE_HEALTH] = storage
    app[LOCALIZER] = l10n
    app[LEDGER] = ledger
    app[CAMPAIGN] = campaign
    app[METRICS] = metrics
    app[STRIPE_WEBHOOK] = stripe
    app[TELEGRAM_WEBHOOK] = telegram
    app.router.add_post(WEBHOOK_PATH, telegram_webhook)
    app.router.add_get("/metrics", prometheus_metrics)
    app.router.add_get("/donate/success", donate_success)
    app.router.add_get("/donate/cancel", donate_cancel)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_post("/stripe/webhook", stripe_webhook)
    app.router.add_get("/widget", widget)
    return app

"""The one aiohttp server: health, readiness and (later) webhooks, on the bot's event loop."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from redis.exceptions import RedisError

from bot.context import Services
from bot.metrics import Metrics
from bot.web.landing_pages import BOT_USERNAME, LOCALIZER, donate_cancel, donate_success
from bot.web.stripe_webhook import STRIPE_WEBHOOK, StripeWebhook, stripe_webhook
from bot.web.telegram_webhook import (
    TELEGRAM_WEBHOOK,
    WEBHOOK_PATH,
    TelegramWebhook,
    telegram_webhook,
)
from bot.web.widget import add_widget_routes

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)
METRICS = web.AppKey("metrics", Metrics)
BOT_READY: web.AppKey[Callable[[], bool]] = web.AppKey("bot_ready")


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the event loop answers; no I/O so a slow Redis never gets the bot restarted."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: Redis answers a PING and the Telegram application is initialised."""
    services = request.app[SERVICES]
    checks = {"bot": request.app[BOT_READY](), "redis": False}
    try:
        checks["redis"] = bool(await services.redis.ping())
    except (RedisError, OSError):
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
    services: Services,
    bot_ready: Callable[[], bool],
    webhook: StripeWebhook,
    bot_username: Callable[[], str],
    metrics: Metrics,
    telegram: TelegramWebhook | None,
) -> web.Application:
    """All HTTP routes, with their dependencies under typed AppKeys."""
    app = web.Application(client_max_size=1024 * 1024)
    app[SERVICES] = services
    app[BOT_READY] = bot_ready
    app[STRIPE_WEBHOOK] = webhook
    app[LOCALIZER] = services.l10n
    app[BOT_USERNAME] = bot_username
    app[METRICS] = metrics
    app[TELEGRAM_WEBHOOK] = telegram
    app.router.add_post(WEBHOOK_PATH, telegram_webhook)
    app.router.add_get("/metrics", prometheus_metrics)
    app.router.add_get("/donate/success", donate_success)
    app.router.add_get("/donate/cancel", donate_cancel)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_post("/stripe/webhook", stripe_webhook)
    add_widget_routes(app)
    return app

"""The one aiohttp server: its routes, and the state they read under typed AppKeys."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
from collections.abc import Callable

from aiohttp import web

from bot.campaign import Campaign
from bot.config import HttpSettings
from bot.donations.ledger import DonationLedger
from bot.donations.spending import SpendingRecord
from bot.i18n import Localizer
from bot.metrics import Metrics
from bot.storage.health import StorageHealth
from bot.web.app_keys import (
    BOT_READY,
    BOT_USERNAME,
    CAMPAIGN,
    CONNECTION_GUARD,
    HTTP_SETTINGS,
    LEDGER,
    LOCALIZER,
    METRICS,
    SPENDING,
    STORAGE_HEALTH,
    STRIPE_WEBHOOK,
    TELEGRAM_WEBHOOK,
    StripeWebhook,
    TelegramWebhook,
)
from bot.web.connection_guard import (
    ACCEPT_BACKLOG,
    ConnectionGuard,
    connection_cap,
    quiet_accept_errors,
)
from bot.web.landing_pages import card_updated, donate_cancel, donate_success
from bot.web.request_guard import MAX_BODY_BYTES, whole_requests
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
    """Prometheus text: for the bearer of METRICS_TOKEN, or this machine when it is unset."""
    token = request.app[HTTP_SETTINGS].metrics_token
    if token is None:
        # The contract's /metrics stays for a scraper on the same machine; anyone else, or a
        # request relayed by a proxy on this machine, learns nothing, not even that it exists.
        if not _direct_from_this_machine(request):
            raise web.HTTPNotFound()
        return _metrics_response(request)
    # Bytes as sent (0xff included), compared in constant time.
    given = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(given, f"Bearer {token}".encode()):
        return web.json_response(
            {"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )
    return _metrics_response(request)


def _metrics_response(request: web.Request) -> web.Response:
    return web.Response(
        body=request.app[METRICS].render(),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )


_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


def _direct_from_this_machine(request: web.Request) -> bool:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not peer:
        return False
    try:
        loopback = ipaddress.ip_address(peer[0]).is_loopback
    except ValueError:
        return False
    return loopback and not any(name in request.headers for name in _PROXY_HEADERS)


def build_web_app(
    *,
    bot_ready: Callable[[], bool],
    bot_username: Callable[[], str],
    storage: StorageHealth,
    l10n: Localizer,
    ledger: DonationLedger,
    spending: SpendingRecord,
    campaign: Campaign,
    metrics: Metrics,
    stripe: StripeWebhook,
    telegram: TelegramWebhook | None,
    http: HttpSettings,
) -> web.Application:
    """All HTTP routes, with what they read under typed AppKeys."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[whole_requests])
    app[HTTP_SETTINGS] = http
    app[CONNECTION_GUARD] = ConnectionGuard(
        max_connections=connection_cap(http.max_connections),
        headers_timeout=http.headers_timeout,
    )
    app[BOT_READY] = bot_ready
    app[BOT_USERNAME] = bot_username
    app[STORAGE_HEALTH] = storage
    app[LOCALIZER] = l10n
    app[LEDGER] = ledger
    app[SPENDING] = spending
    app[CAMPAIGN] = campaign
    app[METRICS] = metrics
    app[STRIPE_WEBHOOK] = stripe
    app[TELEGRAM_WEBHOOK] = telegram
    app.router.add_post(WEBHOOK_PATH, telegram_webhook)
    app.router.add_get("/metrics", prometheus_metrics)
    app.router.add_get("/donate/success", donate_success)
    app.router.add_get("/donate/cancel", donate_cancel)
    app.router.add_get("/monthly/card", card_updated)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_post("/stripe/webhook", stripe_webhook)
    app.router.add_get("/widget", widget)
    return app


async def start_http_server(app: web.Application) -> web.AppRunner:
    """Listen on HTTP_HOST:HTTP_PORT behind the connection guard; cleanup() stops it."""
    http = app[HTTP_SETTINGS]
    guard = app[CONNECTION_GUARD]
    if guard.limit < http.max_connections:
        log.warning(
            "http connection cap lowered to fit the open-file limit max_connections=%d "
            "configured=%d", guard.limit, http.max_connections,
        )
    undo = quiet_accept_errors(asyncio.get_running_loop())

    async def restore_accept_errors(app: web.Application) -> None:
        undo()

    app.on_cleanup.append(restore_accept_errors)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=http.keepalive_timeout)
    await runner.setup()
    try:
        await _GuardedSite(runner, http.host, http.port, guard).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


class _GuardedSite(web.BaseSite):
    """aiohttp's TCPSite, with every connection going through the guard first."""

    __slots__ = ("_guard", "_host", "_port")

    def __init__(
        self, runner: web.AppRunner, host: str, port: int, guard: ConnectionGuard
    ) -> None:
        super().__init__(runner, backlog=ACCEPT_BACKLOG)
        self._host, self._port, self._guard = host, port, guard

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        guard = self._guard
        self._server = await asyncio.get_running_loop().create_server(
            lambda: guard.protocol(server()), self._host, self._port, backlog=self._backlog
        )

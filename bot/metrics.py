"""Prometheus metrics, one registry per bot so several bots in one process never collide."""

from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

log = logging.getLogger(__name__)


class Metrics:
    """Every counter the bot exposes on /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.donations = Counter(
            "campaign_donations", "Donations recorded", ["kind"], registry=self.registry
        )
        self.donation_amount = Counter(
            "campaign_donation_amount_minor", "Amount recorded, in minor units (cents)",
            ["kind"], registry=self.registry,
        )
        self.webhook_events = Counter(
            "campaign_stripe_webhook_events", "Stripe webhook requests by event type and outcome",
            ["type", "outcome"], registry=self.registry,
        )
        self.broadcast_messages = Counter(
            "campaign_broadcast_messages", "Broadcast messages by outcome", ["outcome"],
            registry=self.registry,
        )
        self.late_send_grants = Counter(
            "campaign_broadcast_late_grants",
            "Send turns whose sender woke past its slot (a stalled process): moved, or lost",
            registry=self.registry,
        )
        self.telegram_errors = Counter(
            "campaign_telegram_api_errors", "Bot API calls that failed, by HTTP code",
            ["code"], registry=self.registry,
        )
        self.handler_seconds = Histogram(
            "campaign_handler_seconds", "Time to handle one update", ["kind"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    def render(self) -> bytes:
        """The Prometheus text format."""
        return generate_latest(self.registry)


def update_kind(update: object) -> str:
    """A low-cardinality label for an update: message, callback_query, stripe notice…"""
    for field in ("callback_query", "message", "edited_message", "my_chat_member"):
        if getattr(update, field, None) is not None:
            return field
    return type(update).__name__


class HandlerTimer:
    """Times one update from start to end of processing."""

    def __init__(self, metrics: Metrics, update: object) -> None:
        self._metrics = metrics
        self._kind = update_kind(update)
        self._started = time.perf_counter()

    def done(self) -> None:
        elapsed = time.perf_counter() - self._started
        self._metrics.handler_seconds.labels(self._kind).observe(elapsed)
        log.debug("update handled kind=%s seconds=%.4f", self._kind, elapsed)

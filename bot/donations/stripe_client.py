"""Stripe: Checkout Sessions for pledges, monthly gifts, and reading objects events point to."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlencode

import stripe

from bot.donations.stripe_objects import CheckoutSession, EventType, Invoice, Subscription

log = logging.getLogger(__name__)

# The SDK retries network errors, 409 and 5xx with backoff and the same idempotency key.
STRIPE_NETWORK_RETRIES = 2
STRIPE_TIMEOUT_SECONDS = 20


class Frequency(Enum):
    """One-off gift or a monthly subscription."""

    ONCE = "once"
    MONTHLY = "monthly"


@dataclass(frozen=True)
class Pledge:
    """What a supporter asked to give, before Stripe has taken any money."""

    user_id: int
    amount: int
    currency: str
    frequency: Frequency
    locale: str
    # The Telegram message the choice was made on: a retried tap on it is the same pledge.
    origin_message_id: int
    referral: str | None = None

    def idempotency_key(self) -> str:
        """Same pledge, same key: a retried tap returns the Checkout Session already created."""
        raw = (
            f"{self.user_id}:{self.origin_message_id}:{self.amount}:{self.currency}:"
            f"{self.frequency.value}:{self.locale}:{self.referral or ''}"
        )
        return "pledge-" + hashlib.sha256(raw.encode()).hexdigest()[:40]

    def metadata(self) -> dict[str, str]:
        data = {
            "telegram_user_id": str(self.user_id),
            "locale": self.locale,
            "frequency": self.frequency.value,
        }
        if self.referral:
            data["referral"] = self.referral
        return data


@dataclass(frozen=True)
class ReturnUrls:
    """Where Stripe sends the donor after paying or giving up."""

    success: str
    cancel: str


def return_urls(public_url: str | None, bot_username: str, locale: str) -> ReturnUrls:
    """Landing pages when the bot has a public URL, else straight back to the chat by deep link."""
    if public_url:
        query = urlencode({"lang": locale})
        return ReturnUrls(
            success=f"{public_url}/donate/success?{query}&session_id={{CHECKOUT_SESSION_ID}}",
            cancel=f"{public_url}/donate/cancel?{query}",
        )
    return ReturnUrls(
        success=f"https://t.me/{bot_username}?start=thanks",
        cancel=f"https://t.me/{bot_username}?start=cancelled",
    )


class Payments:
    """The Stripe calls the bot makes, through the SDK's async client and its own retries."""

    def __init__(self, secret_key: str, api_base: str | None) -> None:
        addresses: dict[str, str] = {"api": api_base} if api_base else {}
        self._http = stripe.AIOHTTPClient(timeout=STRIPE_TIMEOUT_SECONDS)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses=addresses,  # type: ignore[arg-type]
            http_client=self._http,
            max_network_retries=STRIPE_NETWORK_RETRIES,
        )

    async def create_checkout(
        self, pledge: Pledge, urls: ReturnUrls, product_name: str
    ) -> str:
        """Create (or, for a retried pledge, fetch back) the Checkout Session; returns its URL."""
        price_data: dict[str, Any] = {
            "currency": pledge.currency.lower(),
            "unit_amount": pledge.amount,
            "product_data": {"name": product_name},
        }
        params: dict[str, Any] = {
            "line_items": [{"price_data": price_data, "quantity": 1}],
            "locale": pledge.locale,
            "client_reference_id": str(pledge.user_id),
            "metadata": pledge.metadata(),
            "success_url": urls.success,
            "cancel_url": urls.cancel,
        }
        if pledge.frequency is Frequency.ONCE:
            params |= {
                "mode": "payment",
                "submit_type": "donate",
                "payment_intent_data": {"metadata": pledge.metadata()},
            }
        else:
            price_data["recurring"] = {"interval": "month"}
            params |= {
                "mode": "subscription",
                "subscription_data": {"metadata": pledge.metadata()},
            }
        session = await self._client.v1.checkout.sessions.create_async(
            params,  # type: ignore[arg-type]
            {"idempotency_key": pledge.idempotency_key()},
        )
        if not session.url:
            raise stripe.APIError("Checkout Session has no URL")
        return session.url

    async def subscription(self, subscription_id: str) -> Subscription:
        """The subscription as Stripe has it now (for metadata an invoice event lacks)."""
        found = await self._client.v1.subscriptions.retrieve_async(subscription_id)
        return Subscription.parse(found.to_dict())

    async def invoice_payment_intent(self, invoice_id: str) -> str | None:
        """The PaymentIntent that paid an invoice (current API versions leave it off the event)."""
        invoice = await self._client.v1.invoices.retrieve_async(
            invoice_id, {"expand": ["payments"]}
        )
        return Invoice.parse(invoice.to_dict()).payment_intent

    async def receipt_url(self, payment_intent_id: str) -> str | None:
        """The address of Stripe's receipt for a payment: its latest charge's."""
        found = await self._client.v1.payment_intents.retrieve_async(
            payment_intent_id, {"expand": ["latest_charge"]}
        )
        charge = found.to_dict().get("latest_charge")
        url = charge.get("receipt_url") if isinstance(charge, dict) else None
        return url if isinstance(url, str) and url.startswith("https://") else None

    async def cancel_subscription(self, subscription_id: str) -> None:
        """Cancel a monthly gift at once; cancelling twice is harmless."""
        try:
            await self._client.v1.subscriptions.cancel_async(subscription_id)
        except stripe.InvalidRequestError as exc:
            # Already cancelled (by Stripe after failed payments, or a double tap): same outcome.
            if "cancel" not in str(exc.user_message or "").lower():
                raise

    async def paid_since(
        self, since: int
    ) -> AsyncIterator[tuple[EventType, CheckoutSession | Invoice]]:
        """Completed one-off sessions and paid invoices created since `since` (epoch s), as the
        event types that would have announced them."""
        sessions = await self._client.v1.checkout.sessions.list_async(
            {"created": {"gte": since}, "status": "complete", "limit": 100}
        )
        async for session in sessions.auto_paging_iter():
            if session.mode == "payment" and session.payment_status == "paid":
                yield EventType.CHECKOUT_COMPLETED, CheckoutSession.parse(session.to_dict())
        invoices = await self._client.v1.invoices.list_async(
            {"created": {"gte": since}, "status": "paid", "limit": 100}
        )
        async for invoice in invoices.auto_paging_iter():
            yield EventType.INVOICE_PAID, Invoice.parse(invoice.to_dict())

    async def account_name(self) -> str:
        """Who the secret key belongs to, for the start-up check."""
        account = await self._client.v1.accounts.retrieve_current_async()
        return str(account.id)

    def verify_event(self, payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
        """Check Stripe's signature (300 s tolerance) before reading the payload at all.

        The SDK's own check, then plain JSON: `construct_event` would build a tree of
        StripeObjects only for the processor to turn it back into dicts, which cost more than
        the signature check and the ledger together.
        """
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE
        )
        event = json.loads(payload)
        if not isinstance(event, dict) or event.get("object") != "event":
            raise ValueError("a signed payload that is not a Stripe event")
        return event

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

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

from bot.donations.fees import FeeRule, covered_fee
from bot.donations.stripe_objects import (
    FEE_LINE_MARK,
    CheckoutSession,
    EventType,
    Invoice,
    Subscription,
)

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
    # The card fee the donor chose to add on top of `amount` (bot/donations/fees.py), 0 for none.
    covered_fee: int = 0
    # With a receipt issuer, Checkout asks for the donor's postal address for the receipt.
    collect_address: bool = False
    # The need the gift is for (bot/donations/needs.py); None for "where it helps most".
    need: str | None = None
    # For a pledge made from an earlier gift (Give again, the monthly suggestion): how many
    # one-off gifts the donor had made, so a tap after paying is a new pledge, not the same
    # message's Checkout, paid already, returned again.
    gifts_made: int | None = None

    def idempotency_key(self) -> str:
        """Same pledge, same key: a retried tap returns the Checkout Session already created."""
        raw = (
            f"{self.user_id}:{self.origin_message_id}:{self.amount}:{self.currency}:"
            f"{self.frequency.value}:{self.locale}:{self.referral or ''}:{self.covered_fee}"
        )
        if self.collect_address:
            # Other parameters: a pledge made before an issuer was named must not share a key.
            raw += ":address"
        if self.need:
            # Added only when set, so a pledge without a need keeps the key it always had.
            raw += f":need={self.need}"
        if self.gifts_made is not None:
            raw += f":gifts={self.gifts_made}"

        return "pledge-" + hashlib.sha256(raw.encode()).hexdigest()[:40]

    def metadata(self) -> dict[str, str]:
        data = {
            "telegram_user_id": str(self.user_id),
            "locale": self.locale,
            "frequency": self.frequency.value,
        }
        if self.referral:
            data["referral"] = self.referral
        if self.need:
            data["need"] = self.need
        if self.covered_fee:
            # How the webhook splits what was paid (bot/donations/fees.py split_paid).
            data |= {"gift_amount": str(self.amount), "covered_fee": str(self.covered_fee)}
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


def portal_return_url(public_url: str | None, bot_username: str, locale: str) -> str:
    """Where the card page sends the donor back: the bot's landing page, else the chat."""
    if public_url:
        return f"{public_url}/monthly/card?{urlencode({'lang': locale})}"
    return f"https://t.me/{bot_username}"


def donor_action_key(*parts: object) -> str:
    """The idempotency key of a change a donor asked for: the same tap (message, choice and the
    gift as it was then) is the same change, so a double tap makes it once."""
    raw = ":".join(str(part) for part in parts)
    return "donor-" + hashlib.sha256(raw.encode()).hexdigest()[:40]


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
        self, pledge: Pledge, urls: ReturnUrls, product_name: str, fee_name: str = ""
    ) -> str:
        """Create (or, for a retried pledge, fetch back) the Checkout Session; returns its URL."""
        price_data: dict[str, Any] = {
            "currency": pledge.currency.lower(),
            "unit_amount": pledge.amount,
            "product_data": {"name": product_name},
        }
        prices = [price_data]
        if pledge.covered_fee:
            # A line of its own, so the donor sees on Stripe's page what the gift is and what
            # the fee; monthly, it recurs with the gift.
            prices.append({
                "currency": price_data["currency"],
                "unit_amount": pledge.covered_fee,
                "product_data": {"name": fee_name, "metadata": dict(FEE_LINE_MARK)},
            })
        params: dict[str, Any] = {
            "line_items": [{"price_data": price, "quantity": 1} for price in prices],
            "locale": pledge.locale,
            "client_reference_id": str(pledge.user_id),
            "metadata": pledge.metadata(),
            "success_url": urls.success,
            "cancel_url": urls.cancel,
        }
        if pledge.collect_address:
            params["billing_address_collection"] = "required"
        if pledge.frequency is Frequency.ONCE:
            params |= {
                "mode": "payment",
                "submit_type": "donate",
                "payment_intent_data": {"metadata": pledge.metadata()},
            }
        else:
            for price in prices:
                price["recurring"] = {"interval": "month"}
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

    async def change_amount(
        self, subscription_id: str, amount: int, currency: str, fees: FeeRule,
        idempotency_key: str,
    ) -> Subscription:
        """The gift's amount from its next payment on, with nothing charged or credited now.

        The item's price is swapped for a new one of the new amount, rather than the gift being
        a quantity of a one-unit price: the subscriptions already running keep their own price
        of the full amount and change the same way, with no migration, and an invoice keeps
        reading "1 x EUR 20" instead of "20 x EUR 1". A donor who covers the card fees keeps
        covering them: the fee line and the metadata that splits each payment move with it."""
        current = await self.subscription(subscription_id)
        if current.item is None or current.product is None:
            raise stripe.APIError("subscription without a priced item")

        def price(product: str, unit_amount: int) -> dict[str, Any]:
            return {
                "currency": currency.lower(), "product": product,
                "unit_amount": unit_amount, "recurring": {"interval": "month"},
            }

        items = [{"id": current.item, "price_data": price(current.product, amount)}]
        params: dict[str, Any] = {
            "items": items,
            # No charge or credit for the month under way: the change starts next payment.
            "proration_behavior": "none",
        }
        if covered_fee(current.metadata) and current.fee_item and current.fee_product:
            fee = fees.cover(amount)
            items.append({"id": current.fee_item, "price_data": price(current.fee_product, fee)})
            params["metadata"] = {"gift_amount": str(amount), "covered_fee": str(fee)}
        updated = await self._client.v1.subscriptions.update_async(
            subscription_id, params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key},
        )
        return Subscription.parse(updated.to_dict())

    async def pause(
        self, subscription_id: str, resumes_at: int, idempotency_key: str
    ) -> Subscription:
        """Skip the payments until `resumes_at` (epoch s); Stripe resumes collecting by itself."""
        updated = await self._client.v1.subscriptions.update_async(
            subscription_id,
            {"pause_collection": {"behavior": "void", "resumes_at": resumes_at}},
            {"idempotency_key": idempotency_key},
        )
        return Subscription.parse(updated.to_dict())

    async def resume(self, subscription_id: str, idempotency_key: str) -> Subscription:
        """Collect again from the next payment on."""
        updated = await self._client.v1.subscriptions.update_async(
            subscription_id, {"pause_collection": ""}, {"idempotency_key": idempotency_key}
        )
        return Subscription.parse(updated.to_dict())

    async def card_page(
        self, customer: str, locale: str, return_url: str, idempotency_key: str
    ) -> str:
        """A customer-portal page that only updates the card, in the donor's language."""
        session = await self._client.v1.billing_portal.sessions.create_async(
            {
                "customer": customer,
                "flow_data": {"type": "payment_method_update"},
                "locale": locale,
                "return_url": return_url,
            },
            {"idempotency_key": idempotency_key},
        )
        return str(session.url)

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

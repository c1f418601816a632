"""The typed context every handler receives: services built once at start-up, not bot_data keys."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from telegram import Update, User
from telegram.ext import Application, CallbackContext, ExtBot

from bot.botapi.campaign_photo import photo_key
from bot.botapi.send_rate import SendRate
from bot.broadcasts.closing import ClosingReports
from bot.broadcasts.digest_delivery import DigestDelivery
from bot.broadcasts.digests import DigestRuns
from bot.broadcasts.drafts import BroadcastDrafts
from bot.broadcasts.preferences import SubscriberPreferences
from bot.broadcasts.report import BroadcastReporter
from bot.broadcasts.store import BroadcastStore
from bot.broadcasts.subscribers import Subscribers
from bot.clock import Clock
from bot.config import Settings
from bot.donations.beneficiary_feed import BeneficiaryFeed
from bot.donations.donor_gifts import DonorGifts
from bot.donations.ledger import DonationLedger
from bot.donations.monthly_gifts import MonthlyGifts
from bot.donations.monthly_stop import MonthlyStopper
from bot.donations.needs_store import NeedsAnnouncer, NeedsStore
from bot.donations.notice_courier import NoticeCourier
from bot.donations.receipt_numbers import ReceiptNumbers
from bot.donations.reconciliation import Reconciler
from bot.donations.sharing import SharedLinks
from bot.donations.spending import SpendingRecord
from bot.donations.spending_drafts import SpendingDrafts
from bot.donations.stripe_client import Payments
from bot.donations.stripe_events import StripeEventProcessor
from bot.i18n import Localizer, resolve_locale
from bot.privacy import Erasure
from bot.reports.chart import ChartCache
from bot.storage.rate_limit import CheckoutCap, UserRateLimit
from bot.storage.update_state import Counts, UpdateState
from bot.storage.users import UserStore


@dataclass(frozen=True)
class Services:
    """Long-lived clients and stores, created in one place and passed down explicitly."""

    settings: Settings
    users: UserStore
    l10n: Localizer
    ledger: DonationLedger
    monthly: MonthlyGifts
    # Each donor's one-off gifts, for /mygift.
    gifts: DonorGifts
    payments: Payments
    subscribers: Subscribers
    broadcasts: BroadcastStore
    drafts: BroadcastDrafts
    clock: Clock
    feed: BeneficiaryFeed
    processor: StripeEventProcessor
    # Telegram's limit counts every message: broadcasts and notices take turns on one schedule.
    send_rate: SendRate
    notices: NoticeCourier
    erasure: Erasure
    rate_limit: UserRateLimit
    checkout_cap: CheckoutCap
    reconciler: Reconciler
    # The organizer's progress message and final report, for the engine and the Stop button.
    reporter: BroadcastReporter
    # /progress and /stats send the chart through it: drawn once per change of the totals.
    charts: ChartCache
    sharing: SharedLinks
    # Tax receipt numbers, given by /export receipts.
    receipts: ReceiptNumbers
    # The needs board, and the one broadcast of each need filled.
    needs: NeedsStore
    needs_announcer: NeedsAnnouncer
    # What the campaign spent (/spent, /spending), and the organizers' entries being written.
    spending: SpendingRecord
    spending_drafts: SpendingDrafts
    # Each subscriber's cadence and quiet hours.
    preferences: SubscriberPreferences
    # The closing report: one per campaign, to every subscriber and donor.
    closing: ClosingReports
    # Once the campaign is over, the monthly gifts cancelled at Stripe.
    monthly_stop: MonthlyStopper
    # The daily and weekly digests: each period's run, and each recipient's content.
    digests: DigestRuns
    digest_delivery: DigestDelivery


class BotData:
    """PTB creates this with no arguments; the application fills in the services at start-up."""

    services: Services | None = None


class CampaignContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with typed access to the campaign's services, and the sender's state
    read once for the update (PTB builds one context per update for all its handlers)."""

    _update_state: UpdateState | None = None

    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("services are attached before the application starts")
        return services

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def l10n(self) -> Localizer:
        return self.services.l10n

    @property
    def users(self) -> UserStore:
        return self.services.users

    @property
    def ledger(self) -> DonationLedger:
        return self.services.ledger

    @property
    def monthly(self) -> MonthlyGifts:
        return self.services.monthly

    @property
    def gifts(self) -> DonorGifts:
        return self.services.gifts

    @property
    def payments(self) -> Payments:
        return self.services.payments

    @property
    def subscribers(self) -> Subscribers:
        return self.services.subscribers

    @property
    def broadcasts(self) -> BroadcastStore:
        return self.services.broadcasts

    @property
    def drafts(self) -> BroadcastDrafts:
        return self.services.drafts

    @property
    def feed(self) -> BeneficiaryFeed:
        return self.services.feed

    @property
    def erasure(self) -> Erasure:
        return self.services.erasure

    @property
    def rate_limit(self) -> UserRateLimit:
        return self.services.rate_limit

    @property
    def checkout_cap(self) -> CheckoutCap:
        return self.services.checkout_cap

    @property
    def sharing(self) -> SharedLinks:
        return self.services.sharing

    @property
    def needs(self) -> NeedsStore:
        return self.services.needs

    @property
    def spending(self) -> SpendingRecord:
        return self.services.spending

    @property
    def spending_drafts(self) -> SpendingDrafts:
        return self.services.spending_drafts

    @property
    def preferences(self) -> SubscriberPreferences:
        return self.services.preferences

    @property
    def closing(self) -> ClosingReports:
        return self.services.closing

    def matched(self, field: str) -> str:
        """A named group of the callback format whose pattern routed this update here."""
        if self.match is None:
            raise RuntimeError("only handlers registered with a pattern have match groups")
        value: str = self.match[field]
        return value

    async def read_state(
        self, user: User, *, counted: bool, asks_for_session: bool = False
    ) -> UpdateState:
        """Read the sender's state (bot/storage/update_state), counting the update towards the
        rate limit when `counted` and a Checkout Session when it asks for one; the handlers
        after take it from `state_of`."""
        photo = self.settings.campaign.photo
        counts = Counts(
            user=self.rate_limit.counter(user.id) if counted else None,
            user_limit=self.rate_limit.limit,
            sessions=self.checkout_cap.counter() if asks_for_session else None,
        )
        state = await self.users.read_update_state(
            user.id, resolve_locale(user.language_code), counts,
            None if photo is None else photo_key(photo),
        )
        self._update_state = state
        return state

    async def state_of(self, user: User) -> UpdateState:
        """The state this update read for `user`, read now (uncounted) if it has not been."""
        state = self._update_state
        if state is not None and state.user_id == user.id:
            return state
        return await self.read_state(user, counted=False)

    async def choose_need(self, user: User, need_id: str | None) -> None:
        """Store the need the user's next gift is for, and see it in this update's state."""
        await self.users.choose_need(user.id, need_id)
        self._update_state = replace(await self.state_of(user), need=need_id)

    async def locale_of(self, user: User | None) -> str:
        """The user's stored locale, else the one guessed from language_code (then stored)."""
        if user is None:
            return resolve_locale(None)
        return (await self.state_of(user)).locale

    async def locale_for(self, update: Update) -> str:
        """Locale of the person behind an update."""
        return await self.locale_of(update.effective_user)

    def text(self, locale: str, message_id: str, **args: Any) -> str:
        """Shorthand for formatting one localised message."""
        return self.l10n.format(locale, message_id, **args)

    async def reply(self, update: Update, message_id: str, **args: Any) -> None:
        """Answer in the chat of the update, in the sender's language."""
        chat = update.effective_chat
        if chat is None:
            return
        locale = await self.locale_for(update)
        await self.bot.send_message(chat.id, self.text(locale, message_id, **args))


CampaignApplication = Application[
    ExtBot[None], CampaignContext, dict[Any, Any], dict[Any, Any], BotData, Any
]

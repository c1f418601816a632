"""/forget: everything that ties a Telegram user to the campaign, erased; the accounts kept.

Each store erases its own part, so no store's format is known here. The mark comes first: a
Stripe event arriving during the erasure already finds the user forgotten and links nothing.
The append-only file on disk still holds what was erased until the server rewrites it, which
is asked for last (bot/storage/aof_rewrite.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.broadcasts.drafts import BroadcastDrafts
from bot.broadcasts.preferences import SubscriberPreferences
from bot.broadcasts.queue import RecipientQueue
from bot.broadcasts.store import BroadcastStore
from bot.broadcasts.subscribers import Subscribers
from bot.donations.donor_gifts import DonorGifts
from bot.donations.ledger import DonationLedger, telegram_donor_key
from bot.donations.monthly_gifts import MonthlyGifts
from bot.donations.outbox import Outbox
from bot.donations.sharing import SharedLinks
from bot.donations.spending_drafts import SpendingDrafts
from bot.storage.aof_rewrite import AofRewrites
from bot.storage.erasure import ErasureMarks
from bot.storage.rate_limit import UserRateLimit
from bot.storage.users import UserStore


@dataclass(frozen=True)
class Erasure:
    """Erases a user's personal data; donations stay for accounting, made anonymous."""

    marks: ErasureMarks
    ledger: DonationLedger
    outbox: Outbox
    monthly: MonthlyGifts
    subscribers: Subscribers
    broadcasts: BroadcastStore
    recipients: RecipientQueue
    drafts: BroadcastDrafts
    rate_limit: UserRateLimit
    users: UserStore
    rewrites: AofRewrites
    sharing: SharedLinks
    gifts: DonorGifts
    spending_drafts: SpendingDrafts
    preferences: SubscriberPreferences

    async def start(self) -> None:
        """Before any event is read: an earlier release's reversible fingerprints go."""
        await self.marks.drop_legacy()

    async def stop(self) -> None:
        await self.rewrites.stop()

    async def forget(self, user_id: int) -> int:
        """Erase the user; returns how many donations were made anonymous."""
        await self.marks.mark(user_id)
        anonymised = await self.ledger.anonymise_donor(user_id)
        await self.monthly.unlink_owner(user_id)
        # Before the outbox: once their link is nobody's, no gift can owe them a word.
        await self.sharing.forget(
            user_id, telegram_donor_key(user_id), await self.users.referral(user_id)
        )
        await self.gifts.forget(user_id)
        await self.outbox.drop_owed_to(user_id)
        await self.subscribers.unsubscribe(user_id)
        await self.preferences.forget(user_id)
        # After unsubscribing: a broadcast starting from now on never lists them.
        active = await self.broadcasts.active_id()
        if active is not None:
            await self.recipients.remove(active, user_id)
        # Nor do broadcasts waiting for quiet hours to end (bot/broadcasts/quiet.py).
        for parked in await self.recipients.parked():
            await self.recipients.remove(parked, user_id)
        await self.drafts.discard(user_id)
        # An organizer's half-written spending entry goes; the recorded entries stay: they are
        # the campaign's account of its money and name no one (bot/donations/spending.py).
        await self.spending_drafts.drop(user_id)
        await self.rate_limit.forget(user_id)
        # Last: unsubscribing above writes to the user's record.
        await self.users.forget(user_id)
        self.rewrites.request()
        return anonymised

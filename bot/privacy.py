"""/forget: everything that ties a Telegram user to the campaign, erased; the accounts kept.

Each store erases its own part, so no store's format is known here. The mark comes first: a
Stripe event arriving during the erasure already finds the user forgotten and links nothing.
"""

from __future__ import annotations

from bot.broadcasts.drafts import BroadcastDrafts
from bot.broadcasts.subscribers import Subscribers
from bot.donations.ledger import DonationLedger
from bot.donations.monthly_gifts import MonthlyGifts
from bot.donations.outbox import Outbox
from bot.storage.erasure import ErasureMarks
from bot.storage.rate_limit import UserRateLimit
from bot.storage.users import UserStore


class Erasure:
    """Erases a user's personal data; donations stay for accounting, made anonymous."""

    def __init__(
        self, marks: ErasureMarks, ledger: DonationLedger, outbox: Outbox, monthly: MonthlyGifts,
        subscribers: Subscribers, drafts: BroadcastDrafts, rate_limit: UserRateLimit,
        users: UserStore,
    ) -> None:
        self._marks = marks
        self._ledger = ledger
        self._outbox = outbox
        self._monthly = monthly
        self._subscribers = subscribers
        self._drafts = drafts
        self._rate_limit = rate_limit
        self._users = users

    async def start(self) -> None:
        """Before any event is read: an earlier release's reversible fingerprints go."""
        await self._marks.drop_legacy()

    async def forget(self, user_id: int) -> int:
        """Erase the user; returns how many donations were made anonymous."""
        await self._marks.mark(user_id)
        anonymised = await self._ledger.anonymise_donor(user_id)
        await self._monthly.unlink_owner(user_id)
        await self._outbox.drop_owed_to(user_id)
        await self._subscribers.unsubscribe(user_id)
        await self._drafts.discard(user_id)
        await self._rate_limit.forget(user_id)
        # Last: unsubscribing above writes to the user's record.
        await self._users.forget(user_id)
        return anonymised

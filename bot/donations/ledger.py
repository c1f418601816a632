"""The donation ledger in Redis: every gift counted once, net of refunds and disputes.

Each change is one Lua script, so recording a gift, moving the totals and queueing the thank-you
happen together or not at all, and a replayed Stripe event finds the work already done. The
thank-you is written into the outbox (outbox.py owns its format and everything after).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from redis.asyncio import Redis

from bot.donations import ledger_scripts
from bot.donations.needs import Need, find_need, gift_need_fields
from bot.donations.outbox import Notice
from bot.donations.sharing import SharedGift, script_keys
from bot.donations.stripe_client import Frequency
from bot.storage import keys
from bot.storage.connection import as_text, text_of
from bot.storage.script_batch import ScriptBatch

SUPPORT_WORDS_KEPT = 100
READ_BATCH = 500

class Recorded(IntEnum):
    """What recording a gift did; false for a gift recorded before (a replayed event)."""

    ALREADY = 0
    LINKED = 1
    # The donor used /forget after the Stripe object was created: counted, nobody named.
    ANONYMOUS = 2


@dataclass(frozen=True)
class ForgetCheck:
    """The donor's erasure fingerprint, and when the Stripe object behind the gift was created:
    the gift names them only if they did not use /forget since (bot/storage/erasure.py)."""

    fingerprint: str
    created: int


@dataclass(frozen=True)
class Totals:
    """Campaign totals in minor units; `raised` is net of refunds and disputes."""

    raised: int = 0
    gross: int = 0
    donors: int = 0
    donations: int = 0
    refunded: int = 0
    disputed: int = 0
    # Card fees donors chose to cover, net of reversals; never part of raised or gross.
    fees_covered: int = 0
    # The closing report's broadcast id once /close confirmed it (bot/broadcasts/closing.py).
    closed: int = 0


@dataclass(frozen=True)
class Donation:
    """A payment Stripe has confirmed, as the ledger stores it."""

    # The PaymentIntent id when Stripe gives one, so refunds and disputes find the gift.
    donation_id: str
    amount: int
    currency: str
    kind: str
    created: int
    locale: str
    telegram_user_id: int | None = None
    referral: str | None = None
    stripe_ids: dict[str, str] = field(default_factory=dict)
    # The card fee the donor added on top of `amount` (bot/donations/fees.py), 0 for none.
    covered_fee: int = 0
    # What a tax receipt needs (donor_name, donor_address, payment_method), only when the
    # campaign has a receipt issuer; stored only while the gift names its donor.
    donor_details: dict[str, str] = field(default_factory=dict)
    # The need the donor chose (bot/donations/needs.py); None for "where it helps most".
    need: str | None = None

    def donor_key(self) -> str:
        """One donor per Telegram user, else per Stripe customer, else per payment."""
        if self.telegram_user_id is not None:
            return telegram_donor_key(self.telegram_user_id)
        return self.anonymous_donor_key()

    def anonymous_donor_key(self) -> str:
        """The donor as counted when no Telegram user may be named."""
        customer = self.stripe_ids.get("customer")
        return f"customer:{customer}" if customer else f"payment:{self.donation_id}"

    def fields(self) -> dict[str, str]:
        """What the donation's hash holds besides its amounts and its Telegram user."""
        stored = {
            "currency": self.currency,
            "kind": self.kind,
            "created": str(self.created),
            "locale": self.locale,
            **self.stripe_ids,
        }
        if self.referral:
            stored["referral"] = self.referral
        return stored


@dataclass(frozen=True)
class StoredDonation:
    """One donation as the ledger holds it, with its net amount after reversals."""

    donation_id: str
    created: int
    fields: dict[str, str]

    @property
    def amount(self) -> int:
        return int(self.fields.get("amount", 0))

    @property
    def reversed(self) -> int:
        return int(self.fields.get("refunded", 0)) + int(self.fields.get("disputed", 0))

    @property
    def net(self) -> int:
        return self.amount - self.reversed


class DonationLedger:
    """Records donations and reversals atomically; reads totals and donations."""

    def __init__(
        self, redis: Redis, *, milestone_step: int = 0, milestone_amounts: tuple[int, ...] = (),
        needs: tuple[Need, ...] = (),
    ) -> None:
        self._redis = redis
        self._needs = needs
        self._milestone_step = milestone_step
        self._milestone_amounts = milestone_amounts
        self._record = redis.register_script(ledger_scripts.RECORD)
        self._reverse = redis.register_script(ledger_scripts.REVERSE)
        self._anonymise_donor = redis.register_script(ledger_scripts.ANONYMISE_DONOR)
        # Every Stripe delivery at a peak records at once: their scripts share round trips.
        self._batch = ScriptBatch(redis)

    async def record(
        self, donation: Donation, thanks: Notice | None, check: ForgetCheck | None = None,
        shared: SharedGift | None = None, suggesting: Notice | None = None,
    ) -> Recorded:
        """Count a donation once, with its thank-you, in one step: nothing again for an id seen
        before; anonymous, without a thank-you, if `check` finds the donor forgot since;
        `suggesting` in place of `thanks` for a donor's first one-off gift if none is monthly."""
        donor_keys = []
        if donation.telegram_user_id is not None and donation.kind == Frequency.ONCE.value:
            user_id = donation.telegram_user_id
            donor_keys = [keys.user_gifts(user_id), keys.user_subscriptions(user_id)]
        listed = [
            keys.donation(donation.donation_id),
            keys.totals(),
            keys.donors(),
            keys.donation_timeline(),
            keys.reversal(donation.donation_id),
            keys.outbox(),
            keys.beneficiary_feed(),
            keys.milestones_reached(),
            keys.referral_totals(),
            keys.erasure_marks(),
            *script_keys(shared),
            *donor_keys,
        ]
        board: dict[str, str] = {}
        if self._needs:
            # The board's keys go after the donor's two, given as "" when the gift has none.
            listed += [] if donor_keys else ["", ""]
            need = find_need(self._needs, donation.need)
            board = {"needs_at": str(len(listed) + 1), **gift_need_fields(need)}
            listed += [keys.needs_summary(), keys.need_announcement(need.need_id) if need else ""]
        recorded = await self._batch(
            self._record,
            listed,
            [
                _gift(donation, thanks, check, shared, suggesting, board), self._milestone_step,
                *self._milestone_amounts,
            ],
        )
        return Recorded(int(recorded))

    async def refund(self, payment_intent_id: str, amount_refunded: int) -> int:
        """Apply Stripe's cumulative refunded amount; returns how much `raised` went down."""
        return await self._apply_reversal(payment_intent_id, "refund", "", amount_refunded)

    async def dispute(self, payment_intent_id: str, dispute_id: str, amount: int) -> int:
        """Take a disputed amount out of the totals once per dispute."""
        return await self._apply_reversal(payment_intent_id, "dispute", dispute_id, amount)

    async def _apply_reversal(
        self, payment_intent_id: str, kind: str, ref: str, amount: int
    ) -> int:
        delta = await self._batch(
            self._reverse,
            [
                keys.reversal(payment_intent_id), keys.donation(payment_intent_id), keys.totals(),
                keys.beneficiary_feed(), *([keys.needs_summary()] if self._needs else []),
            ],
            [
                kind, ref, amount, payment_intent_id, keys.shared_link(""),
                keys.subscription(""),
            ],
        )
        return int(delta)

    async def totals(self) -> Totals:
        raw = await self._redis.hgetall(keys.totals())
        fields = {as_text(key): int(value) for key, value in raw.items()}
        return Totals(**{name: fields.get(name, 0) for name in Totals.__dataclass_fields__})

    async def donation(self, donation_id: str) -> dict[str, str] | None:
        raw = await self._redis.hgetall(keys.donation(donation_id))
        return {str(as_text(k)): str(as_text(v)) for k, v in raw.items()} or None

    async def set_public_words(
        self, donation_id: str, *, name: str | None = None, words: str | None = None
    ) -> None:
        """Attach the donor's chosen public name and/or words of support to their donation."""
        updates = {k: v for k, v in (("public_name", name), ("public_words", words)) if v}
        if not updates:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.donation(donation_id), mapping=updates)  # type: ignore[arg-type]
            if words:
                pipe.lrem(keys.supporter_words(), 0, donation_id)
                pipe.lpush(keys.supporter_words(), donation_id)
                pipe.ltrim(keys.supporter_words(), 0, SUPPORT_WORDS_KEPT - 1)
            await pipe.execute()

    async def recent_words(self, count: int) -> list[tuple[str | None, str]]:
        """The newest public words of support with the name the donor chose to show, if any."""
        ids = await self._redis.lrange(keys.supporter_words(), 0, count - 1)
        async with self._redis.pipeline(transaction=False) as pipe:
            for donation_id in ids:
                pipe.hmget(keys.donation(str(as_text(donation_id))), "public_name", "public_words")
            rows = await pipe.execute()
        return [(as_text(name), str(as_text(words))) for name, words in rows if words]

    async def top_referrals(self, count: int) -> list[tuple[str, int]]:
        """The referral codes that brought the most money (net), largest first."""
        top: list[Any] = await self._redis.zrevrange(
            keys.referral_totals(), 0, count - 1, withscores=True
        )
        return [(text_of(code), int(amount)) for code, amount in top]

    async def donations(
        self, since: float = float("-inf"), until: float = float("inf")
    ) -> AsyncIterator[StoredDonation]:
        """Donations in time order, read in batches so a long campaign never loads at once."""
        offset = 0
        while True:
            rows: list[Any] = await self._redis.zrangebyscore(
                keys.donation_timeline(), since, until,
                start=offset, num=READ_BATCH, withscores=True,
            )
            if not rows:
                return
            async with self._redis.pipeline(transaction=False) as pipe:
                for member, _ in rows:
                    pipe.hgetall(keys.donation(text_of(member)))
                records = await pipe.execute()
            for (member, score), record in zip(rows, records, strict=True):
                fields = {text_of(k): text_of(v) for k, v in record.items()}
                if fields:
                    yield StoredDonation(text_of(member), int(score), fields)
            offset += len(rows)

    async def anonymise_donor(self, user_id: int) -> int:
        """Unlink a Telegram user from their gifts, which stay counted, and take what they
        showed publicly off them; returns how many gifts."""
        user = str(user_id)
        theirs = [
            donation.donation_id async for donation in self.donations()
            if donation.fields.get("telegram_user_id") == user
        ]
        anonymised = await self._anonymise_donor(
            keys=[keys.donors(), keys.supporter_words(), *map(keys.donation, theirs)],
            args=[telegram_donor_key(user_id), f"erased:{uuid.uuid4().hex}", *theirs],
        )
        return int(anonymised)


def _gift(
    donation: Donation, thanks: Notice | None, check: ForgetCheck | None,
    shared: SharedGift | None, suggesting: Notice | None, board: dict[str, str],
) -> str:
    """The record script's gift: every value a string, keys absent rather than null."""
    gift: dict[str, object] = {
        "id": donation.donation_id,
        "amount": str(donation.amount),
        "created": str(donation.created),
        "donor": donation.donor_key(),
        "anonymous_donor": donation.anonymous_donor_key(),
        "fields": donation.fields(),
    }
    if donation.telegram_user_id is not None:
        gift["user"] = str(donation.telegram_user_id)
    if check is not None:
        gift["fingerprint"] = check.fingerprint
        gift["object_created"] = str(check.created)
    if shared is not None:
        gift.update(shared.script_fields())
    elif donation.referral:
        gift["referral"] = donation.referral
    if donation.covered_fee:
        gift["fee"] = str(donation.covered_fee)
    if donation.donor_details:
        gift["details"] = donation.donor_details
    gift.update(board)
    if thanks is not None:
        gift["thanks_id"] = thanks.notice_id
        gift["thanks"] = thanks.to_json()
        if suggesting is not None:
            gift["suggesting"] = suggesting.to_json()
    return json.dumps(gift)


def telegram_donor_key(user_id: int) -> str:
    """How a Telegram user is counted among donors (and a link's donors, sharing.py)."""
    return f"tg:{user_id}"

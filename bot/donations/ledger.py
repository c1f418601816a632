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

from bot.donations.needs import Need, find_need, gift_need_fields
from bot.donations.outbox import Notice
from bot.donations.sharing import SharedGift, script_keys
from bot.donations.stripe_client import Frequency
from bot.storage import keys
from bot.storage.connection import as_text, text_of
from bot.storage.script_batch import ScriptBatch

SUPPORT_WORDS_KEPT = 100
READ_BATCH = 500

# KEYS: donation, totals, donors, timeline, reversal, outbox, beneficiary feed, milestones
# reached, referral totals, erasure marks, supporters' links' total, the supporter's link and
# its donors (both "" for a gift through none), and for a one-off gift with a Telegram user
# their one-off gifts and monthly gifts (absent otherwise), then the needs board's keys when the
# campaign lists needs (see its block).
# ARGV: the gift as JSON (`_gift`: one argument costs the client far less than twenty), the
# milestone step (0 for none), then the milestone amounts.
# The beneficiaries' feed and the milestones are written here too, so a crash can lose neither
# and a milestone crossed by two concurrent gifts is announced once. The erasure mark is read
# here too: a /forget marked before this runs leaves the gift anonymous, and one marked after
# finds it linked and anonymises it (bot/privacy.py), so none slips between the two.
# Returns 0 for a gift already recorded, 1 recorded with its donor, 2 recorded anonymous.
_RECORD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local gift = cjson.decode(ARGV[1])
local linked = gift.user ~= nil
if linked and gift.fingerprint then
  local forgotten = redis.call('HGET', KEYS[10], gift.fingerprint)
  if forgotten and tonumber(gift.object_created) <= tonumber(forgotten) then linked = false end
end
local amount = tonumber(gift.amount)
local reversed = redis.call('HMGET', KEYS[5], 'refunded', 'disputed')
local from_refunds = math.min(amount, tonumber(reversed[1] or '0'))
local from_disputes = math.min(amount - from_refunds, tonumber(reversed[2] or '0'))
local counted = amount - from_refunds - from_disputes
local hash = {'amount', gift.amount, 'refunded', from_refunds, 'disputed', from_disputes}
for name, value in pairs(gift.fields) do
  hash[#hash + 1] = name
  hash[#hash + 1] = value
end
-- A covered card fee stays beside the gift: raised, gross, milestones and referrals count what
-- donors gave for the cause, not what paid the card processor. A reversal noted before the gift
-- takes the gift first, only its excess the fee (as in _REVERSE).
local fee = tonumber(gift.fee or '0')
if fee > 0 then
  local reversed_all = tonumber(reversed[1] or '0') + tonumber(reversed[2] or '0')
  local fee_back = math.min(fee, reversed_all - from_refunds - from_disputes)
  for _, v in ipairs({'covered_fee', fee, 'fee_reversed', fee_back}) do hash[#hash + 1] = v end
  redis.call('HINCRBY', KEYS[2], 'fees_covered', fee - fee_back)
end
local donor = gift.anonymous_donor
if linked then
  donor = gift.donor
  hash[#hash + 1] = 'telegram_user_id'
  hash[#hash + 1] = gift.user
  if gift.thanks_id then redis.call('HSET', KEYS[6], gift.thanks_id, gift.thanks) end
end
-- Tax receipts (bot/reports/receipts.py): the donor's name and address, kept only on a gift
-- that names its donor, so one who used /forget before this ran leaves none behind.
if linked and gift.details then
  for name, value in pairs(gift.details) do
    hash[#hash + 1] = name
    hash[#hash + 1] = value
  end
end
-- /mygift (bot/donations/donor_gifts.py): KEYS[14] the donor's one-off gifts and KEYS[15]
-- their monthly gifts, given for a one-off gift with a Telegram user. The first such gift from
-- someone giving monthly nowhere is thanked with the monthly suggestion instead: decided here,
-- so two first gifts at once cannot both be the first.
if linked and (KEYS[14] or '') ~= '' then
  if gift.suggesting and redis.call('ZCARD', KEYS[14]) == 0
      and redis.call('SCARD', KEYS[15]) == 0 then
    redis.call('HSET', KEYS[6], gift.thanks_id, gift.suggesting)
  end
  -- Stripe dates to the second: a gift in the same second as the newest one goes after it.
  local score = tonumber(gift.created)
  local newest = redis.call('ZREVRANGE', KEYS[14], 0, 0, 'WITHSCORES')[2]
  if newest and math.floor(tonumber(newest)) == score then score = tonumber(newest) + 0.001 end
  redis.call('ZADD', KEYS[14], score, gift.id)
end
redis.call('HSET', KEYS[1], unpack(hash))
redis.call('HINCRBY', KEYS[2], 'gross', amount)
local after = redis.call('HINCRBY', KEYS[2], 'raised', counted)
local before = after - counted
-- Most gifts were never refunded before they were recorded: no write for a zero.
if from_refunds > 0 then redis.call('HINCRBY', KEYS[2], 'refunded', from_refunds) end
if from_disputes > 0 then redis.call('HINCRBY', KEYS[2], 'disputed', from_disputes) end
redis.call('HINCRBY', KEYS[2], 'donations', 1)
if redis.call('SADD', KEYS[3], donor) == 1 then redis.call('HINCRBY', KEYS[2], 'donors', 1) end
redis.call('ZADD', KEYS[4], gift.created, gift.id)
if gift.referral then redis.call('ZINCRBY', KEYS[9], amount, gift.referral) end
-- A supporter's own link (/share, sharing.py), apart from the organizers' codes: the links'
-- total, and while its owner has not used /forget (checked again: they may have since the
-- caller looked) its money and distinct donors, and a word to the owner on its first gift.
if gift.shared then
  redis.call('HINCRBY', KEYS[11], 'gifts', 1)
  redis.call('HINCRBY', KEYS[11], 'amount', amount)
  if gift.sharer and redis.call('HGET', KEYS[12], 'user') == gift.sharer then
    redis.call('HINCRBY', KEYS[12], 'amount', amount)
    if redis.call('SADD', KEYS[13], donor) == 1
        and redis.call('HINCRBY', KEYS[12], 'donors', 1) == 1 then
      redis.call('HSET', KEYS[6], gift.first_gift_id, gift.first_gift)
    end
  end
end
redis.call('RPUSH', KEYS[7], cjson.encode({kind = 'donation', id = gift.id}))
local crossed = {}
local step = tonumber(ARGV[2])
if step > 0 then
  for k = math.floor(before / step) + 1, math.floor(after / step) do
    table.insert(crossed, k * step)
  end
end
for i = 3, #ARGV do
  local m = tonumber(ARGV[i])
  if before < m and m <= after then table.insert(crossed, m) end
end
table.sort(crossed)
for _, m in ipairs(crossed) do
  if redis.call('SADD', KEYS[8], string.format('%.0f', m)) == 1 then
    redis.call('RPUSH', KEYS[7], cjson.encode({kind = 'milestone', amount = m}))
  end
end
-- The needs board (bot/donations/needs.py), when the campaign lists needs: KEYS[needs_at] its
-- summary, the next key the announcement marker of the gift's need ("" for a general gift), and
-- KEYS[14] and KEYS[15] are "" when not given. Counted with the gift, so a replayed event counts
-- once; the gift that fills its need leaves the marker its one broadcast is made from and tells
-- the beneficiaries, decided here so two gifts filling it together announce it once. The
-- gift's hash keeps its need ("" for the general pool) so a reversal takes it back from there.
if gift.needs_at then
  local board = KEYS[tonumber(gift.needs_at)]
  redis.call('HSET', KEYS[1], 'need', gift.need or '')
  if gift.need then
    local cents = redis.call('HINCRBY', board, 'need:' .. gift.need, counted)
    if cents >= tonumber(gift.need_goal)
        and redis.call('HSETNX', board, 'filled:' .. gift.need, gift.id) == 1 then
      redis.call('HSET', KEYS[tonumber(gift.needs_at) + 1], 'token', gift.need_token)
      redis.call('RPUSH', KEYS[7], cjson.encode({kind = 'need_filled', need = gift.need}))
    end
  else
    redis.call('HINCRBY', board, 'general', counted)
  end
end
return linked and 1 or 2
"""

# KEYS: reversal, donation, totals, beneficiary feed, and the needs board when there are needs
# ARGV: kind ('refund' | 'dispute'), reference (dispute id), amount, payment intent
# Refunds carry Stripe's cumulative amount_refunded, so a replay or a late, smaller refund event
# changes nothing; disputes are counted once per dispute id. Returns the change to `raised`.
_REVERSE = """
if ARGV[1] == 'refund' then
  local old = tonumber(redis.call('HGET', KEYS[1], 'refunded') or '0')
  if tonumber(ARGV[3]) <= old then return 0 end
  redis.call('HSET', KEYS[1], 'refunded', ARGV[3])
else
  if redis.call('HSETNX', KEYS[1], 'dispute:' .. ARGV[2], ARGV[3]) == 0 then return 0 end
  redis.call('HINCRBY', KEYS[1], 'disputed', ARGV[3])
end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
local amount = tonumber(redis.call('HGET', KEYS[2], 'amount'))
local refunded = tonumber(redis.call('HGET', KEYS[1], 'refunded') or '0')
local disputed = tonumber(redis.call('HGET', KEYS[1], 'disputed') or '0')
local from_refunds = math.min(amount, refunded)
local from_disputes = math.min(amount - from_refunds, disputed)
local old_refunds = tonumber(redis.call('HGET', KEYS[2], 'refunded') or '0')
local old_disputes = tonumber(redis.call('HGET', KEYS[2], 'disputed') or '0')
local delta = (from_refunds - old_refunds) + (from_disputes - old_disputes)
redis.call('HSET', KEYS[2], 'refunded', from_refunds, 'disputed', from_disputes)
if delta > 0 then
  redis.call('RPUSH', KEYS[4], cjson.encode({kind = ARGV[1], id = ARGV[4], amount = delta}))
end
redis.call('HINCRBY', KEYS[3], 'refunded', from_refunds - old_refunds)
redis.call('HINCRBY', KEYS[3], 'disputed', from_disputes - old_disputes)
redis.call('HINCRBY', KEYS[3], 'raised', -delta)
-- The needs board (bot/donations/needs.py), when the campaign lists needs: KEYS[5] its summary.
-- What is given back leaves the need the gift went to (or the general pool): the board never
-- counts money returned, as raised does not. A need already announced as filled is not
-- announced again if it fills anew: "filled" stays set.
if KEYS[5] then
  local need = redis.call('HGET', KEYS[2], 'need')
  if need then
    redis.call('HINCRBY', KEYS[5], need == '' and 'general' or 'need:' .. need, -delta)
  end
end
-- A covered fee (see _RECORD): what the reversals take beyond the gift comes off the fee, so a
-- refund of the whole charge takes no more than the gift off raised, and the fee off
-- fees_covered. A partial refund takes the gift first: raised never shows money given back.
local fee = tonumber(redis.call('HGET', KEYS[2], 'covered_fee') or '0')
if fee > 0 then
  local fee_back = math.min(fee, refunded + disputed - from_refunds - from_disputes)
  local fee_back_before = tonumber(redis.call('HGET', KEYS[2], 'fee_reversed') or '0')
  redis.call('HSET', KEYS[2], 'fee_reversed', fee_back)
  redis.call('HINCRBY', KEYS[3], 'fees_covered', fee_back_before - fee_back)
end
return delta
"""

# KEYS: donors, supporter words, then the donor's donations. ARGV: the donor's key, an
# anonymous key in its place, then the donations' ids. The donor count must not drop when
# someone is forgotten: the donor stays, only anonymous. What they chose to show publicly (first
# name, words) leaves with their id: nobody could ask for it to be removed any more.
_ANONYMISE_DONOR = """
if redis.call('SREM', KEYS[1], ARGV[1]) == 1 then redis.call('SADD', KEYS[1], ARGV[2]) end
for i = 3, #KEYS do
  redis.call('HDEL', KEYS[i], 'telegram_user_id', 'public_name', 'public_words')
  redis.call('LREM', KEYS[2], 0, ARGV[i])
  -- A tax receipt issued (numbered, bot/donations/receipt_numbers.py) must stay with the
  -- association, which answers for it to the tax office: its name and address stay, no
  -- longer tied to Telegram. Those of a gift whose receipt was not issued go.
  if redis.call('HEXISTS', KEYS[i], 'receipt') == 0 then
    redis.call('HDEL', KEYS[i], 'donor_name', 'donor_address')
  end
end
return #KEYS - 2
"""


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
        self._record = redis.register_script(_RECORD)
        self._reverse = redis.register_script(_REVERSE)
        self._anonymise_donor = redis.register_script(_ANONYMISE_DONOR)
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
            [kind, ref, amount, payment_intent_id],
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

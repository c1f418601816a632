"""Tax receipt numbers: one per gift, in order, given the first time an export lists the gift.

A receipt is issued when the organizer exports the list to send it, so that is when its gift
is numbered: a gift refunded before then uses no number, and the numbers of gifts exported
before never change, whatever arrives later (a late webhook, a reconciled gift dated earlier).
A receipt issued stays on every later list, also once its gift is refunded: the association
must cancel or correct it, so the list says what the refund left.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from bot.donations.ledger import READ_BATCH, StoredDonation
from bot.storage import keys

# KEYS: the receipt counter, then the donations to number, in the order to number them.
# Returns, for each donation, its receipt number (0 for none), the amount kept, and the amount
# its receipt was issued for ('' for a gift numbered before that was kept beside the number).
# Each gift is read in the step that numbers it: one refunded in full meanwhile gets no number,
# and two exports at once give each gift one number. What is kept is what kept_amount says.
_NUMBER = """
local numbered = {}
for i = 2, #KEYS do
  local gift = redis.call('HMGET', KEYS[i], 'receipt', 'amount', 'refunded', 'disputed',
    'covered_fee', 'fee_reversed', 'receipt_kept')
  local kept = 0
  if gift[2] then
    kept = tonumber(gift[2]) + tonumber(gift[5] or '0') - tonumber(gift[3] or '0')
      - tonumber(gift[4] or '0') - tonumber(gift[6] or '0')
  end
  local number = tonumber(gift[1] or '0')
  local issued = gift[7] or ''
  if number == 0 and kept > 0 then
    number = redis.call('INCR', KEYS[1])
    issued = tostring(kept)
    redis.call('HSET', KEYS[i], 'receipt', number, 'receipt_kept', issued)
  end
  numbered[#numbered + 1] = number
  numbered[#numbered + 1] = kept
  numbered[#numbered + 1] = issued
end
return numbered
"""


def kept_amount(fields: Mapping[str, str]) -> int:
    """What the association kept of a gift: the gift and the card fee its donor chose to cover
    (given to it too), less what refunds and disputes took back of either."""
    def part(name: str) -> int:
        return int(fields.get(name, 0))

    return (
        part("amount") + part("covered_fee")
        - part("refunded") - part("disputed") - part("fee_reversed")
    )


def issued_amount(kept: int, fields: Mapping[str, str]) -> int:
    """What a numbered gift's receipt was issued for: kept beside its number; for a gift
    numbered before it was, what is kept now, or the whole gift once nothing is."""
    stored = fields.get("receipt_kept", "")
    if stored:
        return int(stored)
    return kept if kept > 0 else int(fields.get("amount", 0)) + int(fields.get("covered_fee", 0))


def refund_after_issue(kept: int, issued: int) -> str:
    """"refunded", "partly" (refunded after the receipt was issued, in full or in part), or
    "none": the status the list and the statement give a receipt."""
    if kept >= issued:
        return "none"
    return "refunded" if kept <= 0 else "partly"


@dataclass(frozen=True)
class NumberedGift:
    """A gift on the receipts list: its receipt number, the amount the receipt was issued for,
    and what is kept of the gift now (less, after a refund since)."""

    donation: StoredDonation
    number: int
    kept: int
    issued: int

    @property
    def after_issue(self) -> str:
        return refund_after_issue(max(0, self.kept), self.issued)


class ReceiptNumbers:
    """Gives each gift kept its receipt number once, in order."""

    def __init__(self, redis: Redis) -> None:
        self._number = redis.register_script(_NUMBER)

    async def issue(self, gifts: AsyncIterator[StoredDonation]) -> list[NumberedGift]:
        """Every gift numbered before, and every gift still (partly) kept, numbered if it was
        not yet, in number order."""
        listed: list[NumberedGift] = []
        batch: list[StoredDonation] = []
        async for gift in gifts:
            batch.append(gift)
            if len(batch) == READ_BATCH:
                listed += await self._numbered(batch)
                batch = []
        listed += await self._numbered(batch)
        return sorted(listed, key=lambda gift: gift.number)

    async def _numbered(self, batch: list[StoredDonation]) -> list[NumberedGift]:
        if not batch:
            return []
        reply: list[Any] = await self._number(
            keys=[keys.receipt_counter(), *(keys.donation(gift.donation_id) for gift in batch)]
        )
        return [
            NumberedGift(gift, int(number), int(kept), int(issued or 0) or issued_amount(
                int(kept), gift.fields
            ))
            for gift, number, kept, issued in zip(
                batch, reply[0::3], reply[1::3], reply[2::3], strict=True
            )
            if int(number) > 0
        ]


async def donor_gifts_between(
    gifts: AsyncIterator[StoredDonation], user_id: int
) -> list[StoredDonation]:
    """The gifts of the timeline (one year of it, for a statement) that are this donor's."""
    # One-off and monthly alike: the donor index (donor_gifts.py) holds only one-off gifts.
    user = str(user_id)
    return [gift async for gift in gifts if gift.fields.get("telegram_user_id") == user]


def donor_details(
    name: str | None, address: Mapping[str, str], methods: tuple[str, ...]
) -> dict[str, str]:
    """A gift's fields for its receipt: the donor's name and address as Stripe collected them,
    and the payment method when the page offered only one (so it is the one used)."""
    details = {}
    if name:
        details["donor_name"] = name
    if address:
        details["donor_address"] = json.dumps(dict(address), ensure_ascii=False)
    if len(methods) == 1:
        details["payment_method"] = methods[0]
    return details


def stored_address(fields: Mapping[str, str]) -> dict[str, str]:
    """The address donor_details stored, empty where there is none."""
    try:
        address = json.loads(fields.get("donor_address", "{}"))
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in address.items()} if isinstance(address, dict) else {}

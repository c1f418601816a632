"""Tax receipt numbers: one per gift, in order, given the first time an export lists the gift.

A receipt is issued when the organizer exports the list to send it, so that is when its gift
is numbered: a gift refunded before then uses no number, and the numbers of gifts exported
before never change, whatever arrives later (a late webhook, a reconciled gift dated earlier).
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
# Returns, for each donation, its receipt number (0 for none) and the amount kept.
# Each gift is read in the step that numbers it: one refunded in full meanwhile gets no number,
# and two exports at once give each gift one number. What is kept is what kept_amount says.
_NUMBER = """
local numbered = {}
for i = 2, #KEYS do
  local gift = redis.call('HMGET', KEYS[i], 'receipt', 'amount', 'refunded', 'disputed',
    'covered_fee', 'fee_reversed')
  local kept = 0
  if gift[2] then
    kept = tonumber(gift[2]) + tonumber(gift[5] or '0') - tonumber(gift[3] or '0')
      - tonumber(gift[4] or '0') - tonumber(gift[6] or '0')
  end
  local number = tonumber(gift[1] or '0')
  if number == 0 and kept > 0 then
    number = redis.call('INCR', KEYS[1])
    redis.call('HSET', KEYS[i], 'receipt', number)
  end
  numbered[#numbered + 1] = number
  numbered[#numbered + 1] = kept
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


@dataclass(frozen=True)
class NumberedGift:
    """A gift on the receipts list: its receipt number and the amount the receipt is for."""

    donation: StoredDonation
    number: int
    kept: int


class ReceiptNumbers:
    """Gives each gift kept its receipt number once, in order."""

    def __init__(self, redis: Redis) -> None:
        self._number = redis.register_script(_NUMBER)

    async def issue(self, gifts: AsyncIterator[StoredDonation]) -> list[NumberedGift]:
        """Every gift still (partly) kept, numbered if it was not yet, in number order."""
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
            NumberedGift(gift, int(number), int(kept))
            for gift, number, kept in zip(batch, reply[0::2], reply[1::2], strict=True)
            if int(kept) > 0
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

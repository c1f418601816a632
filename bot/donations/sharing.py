"""Supporters' own links (/share): one code per supporter, who owns it, and what it brought.

A code is random (secrets), never derived from the user id: it tells nothing about its owner
and none can be guessed from another. Its prefix keeps it apart from the organizers' /link codes
(which may not take it) and from the bot's own /start payloads. What a gift through a link
changes is written by the ledger's record script in the same step as the gift (ledger.py):
the owner is read here beforehand, and checked again there, so one who used /forget meanwhile
is told nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.asyncio import Redis

from bot.donations.outbox import Notice, NoticeKind
from bot.i18n import FALLBACK_LOCALE
from bot.storage import keys
from bot.storage.connection import as_text

if TYPE_CHECKING:
    # Only a type: the user store reads the ledger's totals, which records gifts through here.
    from bot.storage.users import UserStore

SHARED_CODE_PREFIX = "by-"
# 96 random bits: 16 characters of Telegram's start-parameter alphabet (A-Z a-z 0-9 _ -).
CODE_BYTES = 12

# KEYS: the user's code, the new code's link. ARGV: the new code, the user id.
# Two /share at once: the second finds the first's code and returns it. Returns the user's
# code, or nil if the new one is taken (never in practice: the caller draws another).
_CLAIM = """
local code = redis.call('GET', KEYS[1])
if code then return code end
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'user', ARGV[2])
return ARGV[1]
"""


def is_shared_code(code: str) -> bool:
    """Whether a referral code is a supporter's own link rather than an organizer's."""
    return code.startswith(SHARED_CODE_PREFIX)


@dataclass(frozen=True)
class Tally:
    """What gifts through one or more links brought: donors (or gifts) and money (a link's
    own net of refunds, the campaign's total gross)."""

    count: int = 0
    amount: int = 0


@dataclass(frozen=True)
class SharedGift:
    """A gift through a supporter's link, for the record script: the link's owner (None when
    the code is nobody's, or the donor's own) and the word owed to them on its first gift."""

    code: str
    owner: int | None = None
    first_gift: Notice | None = None

    def script_fields(self) -> dict[str, str]:
        fields = {"shared": self.code}
        if self.owner is not None and self.first_gift is not None:
            fields["sharer"] = str(self.owner)
            fields["first_gift_id"] = self.first_gift.notice_id
            fields["first_gift"] = self.first_gift.to_json()
        return fields


def script_keys(shared: SharedGift | None) -> list[str]:
    """The record script's keys for the links' total, the gift's link and its donors."""
    if shared is None:
        return [keys.shared_links_total(), "", ""]
    code = shared.code
    return [keys.shared_links_total(), keys.shared_link(code), keys.shared_link_donors(code)]


class SharedLinks:
    """Codes and their owners; the tallies are moved by the ledger, read here."""

    def __init__(self, redis: Redis, users: UserStore) -> None:
        self._redis = redis
        self._users = users
        self._claim = redis.register_script(_CLAIM)

    async def code_of(self, user_id: int) -> str:
        """The user's code, made now if they have none."""
        while True:
            code = SHARED_CODE_PREFIX + secrets.token_urlsafe(CODE_BYTES)
            claimed = as_text(await self._claim(
                keys=[keys.shared_link_of(user_id), keys.shared_link(code)],
                args=[code, user_id],
            ))
            if claimed is not None:
                return claimed

    async def tally(self, code: str) -> Tally:
        """Distinct donors and money through one link."""
        donors, amount = await self._redis.hmget(keys.shared_link(code), "donors", "amount")
        return Tally(int(donors or 0), int(amount or 0))

    async def campaign_total(self) -> Tally:
        """Gifts and money through every supporter's link, for /stats."""
        gifts, amount = await self._redis.hmget(keys.shared_links_total(), "gifts", "amount")
        return Tally(int(gifts or 0), int(amount or 0))

    async def owner(self, code: str) -> int | None:
        """Who the code belongs to; None for nobody's (forged, or its owner used /forget)."""
        owner = as_text(await self._redis.hget(keys.shared_link(code), "user"))
        return int(owner) if owner is not None else None

    async def is_own(self, code: str, user_id: int) -> bool:
        """Whether the code is this user's own link."""
        return is_shared_code(code) and await self.owner(code) == user_id

    async def gift_through(self, code: str | None, donor: int | None) -> SharedGift | None:
        """What a gift with referral `code` does to a supporter's link; None for other codes."""
        if code is None or not is_shared_code(code):
            return None
        owner = await self.owner(code)
        if owner is None or owner == donor:
            return SharedGift(code)
        locale = await self._users.chosen_locale(owner) or FALLBACK_LOCALE
        notice = Notice(f"shared:{code}", NoticeKind.SHARED_GIFT, owner, locale)
        return SharedGift(code, owner, notice)

    async def forget(self, user_id: int, donor_key: str, referral: str | None) -> None:
        """/forget: the user's own link (its code then resolves to nobody; the campaign's total
        keeps what it brought) and their place among the donors of the link they came by."""
        code = as_text(await self._redis.get(keys.shared_link_of(user_id)))
        async with self._redis.pipeline(transaction=True) as pipe:
            if code is not None:
                pipe.delete(
                    keys.shared_link_of(user_id), keys.shared_link(code),
                    keys.shared_link_donors(code),
                )
            if referral is not None and is_shared_code(referral):
                pipe.srem(keys.shared_link_donors(referral), donor_key)
            await pipe.execute()

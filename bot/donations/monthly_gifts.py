"""Monthly gifts (Stripe subscriptions) the bot knows each supporter has."""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from bot.donations.fees import covered_fee
from bot.donations.ledger import READ_BATCH
from bot.donations.stripe_client import Frequency
from bot.donations.stripe_objects import Subscription
from bot.storage import keys
from bot.storage.connection import as_text, text_of


def _later_next_payment(argv: int) -> str:
    """Lua setting the gift's next payment from ARGV[argv] only if later than the one kept:
    Stripe's periods only move forward, even through a pause."""
    return f"""local next_payment = tonumber(ARGV[{argv}])
if next_payment and next_payment > (tonumber(redis.call('HGET', KEYS[1], 'next_payment')) or -1)
then
  redis.call('HSET', KEYS[1], 'next_payment', ARGV[{argv}])
end"""


# KEYS: subscription hash, the user's set of gifts, every active gift. ARGV: subscription id,
# user id, currency, locale, customer, invoice id, amount paid, invoice created, period end,
# covered fee. Each invoice adds to `given` once. An invoice older than what last set the
# amount (a late retry) leaves amount and fee alone. The next payment only moves forward:
# Stripe's periods do, even through a pause. A renewal arriving after the cancellation must
# not revive the gift.
_LINK = """
redis.call('HSET', KEYS[1], 'user_id', ARGV[2], 'currency', ARGV[3], 'locale', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'customer', ARGV[5]) end
if redis.call('HSETNX', KEYS[1], 'invoice:' .. ARGV[6], 1) == 1 then
  redis.call('HINCRBY', KEYS[1], 'given', ARGV[7])
end
local created = tonumber(ARGV[8])
local since = tonumber(redis.call('HGET', KEYS[1], 'since'))
if not since or created < since then redis.call('HSET', KEYS[1], 'since', created) end
if created >= (tonumber(redis.call('HGET', KEYS[1], 'amount_at')) or -1) then
  redis.call('HSET', KEYS[1], 'amount', ARGV[7], 'amount_at', created, 'fee', ARGV[10])
end
""" + _later_next_payment(9) + """
if redis.call('HGET', KEYS[1], 'status') == 'canceled' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'active')
redis.call('SADD', KEYS[3], ARGV[1])
return redis.call('SADD', KEYS[2], ARGV[1])
"""

# KEYS: subscription hash, paused gifts. ARGV: subscription id, as of (epoch s), amount, next
# payment, paused (1/0), resumes at, since, customer ('' where unknown), covered fee. What
# Stripe said at `as of` applies only over what was said earlier: an older event arriving late
# undoes nothing, and the next payment only moves forward (a late event passing the state's
# stamp must not bring back a date a renewal moved past). A gift never linked, or ended, is
# left as it is.
_APPLY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'status') == 'canceled' then return 0 end
local at = tonumber(ARGV[2])
if ARGV[3] ~= '' and at >= (tonumber(redis.call('HGET', KEYS[1], 'amount_at')) or -1) then
  redis.call('HSET', KEYS[1], 'amount', ARGV[3], 'amount_at', at, 'fee', ARGV[9])
end
""" + _later_next_payment(4) + """
if at >= (tonumber(redis.call('HGET', KEYS[1], 'state_at')) or -1) then
  redis.call('HSET', KEYS[1], 'state_at', at)
  if ARGV[5] == '1' then
    redis.call('HSET', KEYS[1], 'paused_until', ARGV[6])
    if ARGV[6] ~= '' then redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
    else redis.call('ZREM', KEYS[2], ARGV[1]) end
  else
    redis.call('HDEL', KEYS[1], 'paused_until')
    redis.call('ZREM', KEYS[2], ARGV[1])
  end
end
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'since', ARGV[7]) end
if ARGV[8] ~= '' and redis.call('HEXISTS', KEYS[1], 'user_id') == 1 then
  redis.call('HSET', KEYS[1], 'customer', ARGV[8])
end
return 1
"""

# KEYS: subscription hash, the user's set of gifts, every active gift, paused gifts. ARGV:
# subscription id. Returns 1 only the first time, so the donor is told once that the gift ended.
_END = """
redis.call('HSET', KEYS[1], 'status', 'canceled')
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return redis.call('SREM', KEYS[2], ARGV[1])
"""

# Why a gift ended, when the bot ended it (bot/donations/monthly_stop.py): its notice says so.
ENDED_BY = "ended_by"
CAMPAIGN_OVER = "campaign-over"

# KEYS: the subscriptions of monthly gifts the ledger holds. ARGV: per key, the invoice, what
# it gave net of what was given back, and when. Gifts linked before the bot kept `given` and
# `since`: each paid invoice counts once into them, as the link script counts it (the same
# `invoice:` mark), so running this twice, or beside a renewal, counts nothing twice.
_BACKFILL = """
for i = 1, #KEYS do
  local invoice, net, created = ARGV[3 * i - 2], tonumber(ARGV[3 * i - 1]), ARGV[3 * i]
  if redis.call('EXISTS', KEYS[i]) == 1
      and redis.call('HSETNX', KEYS[i], 'invoice:' .. invoice, 1) == 1 then
    redis.call('HINCRBY', KEYS[i], 'given', net)
    local since = tonumber(redis.call('HGET', KEYS[i], 'since'))
    if not since or tonumber(created) < since then
      redis.call('HSET', KEYS[i], 'since', created)
    end
  end
end
return #KEYS
"""

_FIELDS = (
    "amount", "currency", "customer", "since", "given", "next_payment", "paused_until",
    "amount_at", "state_at", "fee",
)


@dataclass(frozen=True)
class MonthlyGift:
    """One active monthly gift as shown to its donor."""

    subscription_id: str
    amount: int
    currency: str
    customer: str | None = None
    since: int | None = None
    # Every paid invoice of this gift, net of refunds and disputes, in minor units.
    given: int = 0
    next_payment: int | None = None
    paused: bool = False
    # When Stripe resumes collecting by itself (None while paused: only when resumed).
    paused_until: int | None = None
    # When Stripe last told the amount and the pause state: a tap on an older view differs.
    version: str = ""
    # The card fee the donor covers each month on top of `amount` (bot/donations/fees.py).
    fee: int = 0


@dataclass(frozen=True)
class ResumingGift:
    """A paused gift whose collection resumes soon, and whom to tell."""

    subscription_id: str
    user_id: int
    amount: int
    locale: str
    resumes_at: int


def _number(raw: object) -> int | None:
    text = None if raw is None else text_of(raw)
    return int(text) if text else None


class MonthlyGifts:
    """Links subscriptions to supporters so they can see and manage them from the chat."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._link = redis.register_script(_LINK)
        self._apply = redis.register_script(_APPLY)
        self._end = redis.register_script(_END)
        self._backfill = redis.register_script(_BACKFILL)

    async def link(
        self, subscription_id: str, user_id: int, amount: int, currency: str, locale: str, *,
        invoice_id: str = "", created: int = 0, customer: str | None = None,
        period_end: int | None = None, fee: int = 0,
    ) -> None:
        """Remember an active monthly gift and count one paid invoice into it (each renewal
        repeats this, and a repeated invoice counts once)."""
        await self._link(
            keys=[
                keys.subscription(subscription_id), keys.user_subscriptions(user_id),
                keys.active_subscriptions(),
            ],
            args=[
                subscription_id, user_id, currency, locale, customer or "",
                invoice_id or f"unnamed-{created}", amount, created,
                period_end if period_end is not None else "", fee,
            ],
        )

    async def apply(self, subscription: Subscription, as_of: int) -> bool:
        """Keep a linked gift as Stripe holds it at `as_of` (epoch s: an event's `created`, or
        the moment the bot's own change returned); False for a gift unknown or ended."""
        applied = await self._apply(
            keys=[keys.subscription(subscription.id), keys.paused_subscriptions()],
            args=[
                subscription.id, as_of, _blank(subscription.amount),
                _blank(subscription.current_period_end), 1 if subscription.paused else 0,
                _blank(subscription.resumes_at), _blank(subscription.start_date),
                subscription.customer or "", covered_fee(subscription.metadata),
            ],
        )
        return bool(applied)

    async def active(self, user_id: int) -> list[MonthlyGift]:
        """The user's active monthly gifts."""
        now = stripe_time()
        gifts = []
        for raw_id in sorted(await self._redis.smembers(keys.user_subscriptions(user_id))):
            subscription_id = str(as_text(raw_id))
            values = dict(zip(
                _FIELDS, await self._redis.hmget(keys.subscription(subscription_id), _FIELDS),
                strict=True,
            ))
            amount, currency = _number(values["amount"]), as_text(values["currency"])
            if amount is None or currency is None:
                continue
            paused_until = as_text(values["paused_until"])
            resumes_at = _number(paused_until)
            # Past its date Stripe collects again, even if its word of that has not come yet.
            paused = paused_until is not None and (resumes_at or now) >= now
            gifts.append(MonthlyGift(
                subscription_id, amount, str(currency),
                customer=as_text(values["customer"]),
                since=_number(values["since"]),
                given=_number(values["given"]) or 0,
                next_payment=_number(values["next_payment"]),
                paused=paused,
                paused_until=resumes_at if paused else None,
                version=f"{as_text(values['amount_at'])}:{as_text(values['state_at'])}",
                fee=_number(values["fee"]) or 0,
            ))
        return gifts

    async def count_earlier_invoices(self) -> None:
        """Count the invoices of gifts linked before this release into their `given` and
        `since`, once for all processes (repeating it changes nothing)."""
        if await self._redis.exists(keys.subscriptions_backfilled()):
            return
        offset = 0
        while ids := await self._redis.zrange(
            keys.donation_timeline(), offset, offset + READ_BATCH - 1
        ):
            async with self._redis.pipeline(transaction=False) as pipe:
                for raw in ids:
                    pipe.hmget(
                        keys.donation(text_of(raw)), "kind", "subscription", "invoice", "amount",
                        "refunded", "disputed", "created",
                    )
                gifts = await pipe.execute()
            subscriptions: list[str] = []
            args: list[str | int] = []
            for kind, subscription, invoice, amount, refunded, disputed, created in gifts:
                if as_text(kind) != Frequency.MONTHLY.value or not subscription or not invoice:
                    continue
                subscriptions.append(keys.subscription(text_of(subscription)))
                net = int(amount or 0) - int(refunded or 0) - int(disputed or 0)
                args += [text_of(invoice), net, text_of(created or b"0")]
            if subscriptions:
                await self._backfill(keys=subscriptions, args=args)
            offset += len(ids)
        await self._redis.set(keys.subscriptions_backfilled(), 1)

    async def resuming_between(self, start: float, end: float) -> list[ResumingGift]:
        """Paused gifts Stripe resumes in [start, end), with a donor to tell."""
        ids = await self._redis.zrangebyscore(
            keys.paused_subscriptions(), int(start), f"({int(end)}"
        )
        found = []
        for raw_id in ids:
            subscription_id = text_of(raw_id)
            user_id, amount, locale, until, status = await self._redis.hmget(
                keys.subscription(subscription_id),
                "user_id", "amount", "locale", "paused_until", "status",
            )
            owner, resumes_at, minor = _number(user_id), _number(until), _number(amount)
            # After /forget the gift stays paused at Stripe, but nobody is left to tell.
            if owner is None or resumes_at is None or minor is None or as_text(status) != "active":
                continue
            found.append(ResumingGift(
                subscription_id, owner, minor, str(as_text(locale) or "en"), resumes_at
            ))
        return found

    async def owner(self, subscription_id: str) -> int | None:
        raw = as_text(await self._redis.hget(keys.subscription(subscription_id), "user_id"))
        return int(raw) if raw is not None else None

    async def donor_of(self, customer: str) -> tuple[int, str] | None:
        """Who gives monthly as this Stripe customer, and in which language; None for nobody.
        Looked up among the active gifts, rather than kept by customer: a card change is rare,
        and /forget then has no second trace to take away."""
        ids = [text_of(raw) for raw in await self._redis.smembers(keys.active_subscriptions())]
        async with self._redis.pipeline(transaction=False) as pipe:
            for subscription_id in ids:
                pipe.hmget(keys.subscription(subscription_id), "customer", "user_id", "locale")
            rows = await pipe.execute()
        for found, user_id, locale in rows:
            owner = _number(user_id)
            if as_text(found) == customer and owner is not None:
                return owner, str(as_text(locale) or "en")
        return None

    async def erased_owner(self, subscription_id: str) -> bool:
        """Whether /forget unlinked this gift's donor: its renewals stay anonymous for good."""
        owner, amount = await self._redis.hmget(
            keys.subscription(subscription_id), "user_id", "amount"
        )
        # Every link writes both; only unlink_owner takes the owner away.
        return owner is None and amount is not None

    async def end(self, subscription_id: str) -> int | None:
        """Mark the gift ended; returns its donor the first time, None if it was already ended."""
        user_id = await self.owner(subscription_id)
        if user_id is None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(keys.subscription(subscription_id), "status", "canceled")
                pipe.srem(keys.active_subscriptions(), subscription_id)
                pipe.zrem(keys.paused_subscriptions(), subscription_id)
                await pipe.execute()
            return None
        removed = await self._end(
            keys=[
                keys.subscription(subscription_id), keys.user_subscriptions(user_id),
                keys.active_subscriptions(), keys.paused_subscriptions(),
            ],
            args=[subscription_id],
        )
        return user_id if removed else None

    async def ended_by_campaign(self, subscription_id: str) -> bool:
        """Whether the bot stopped this gift because the campaign is over."""
        reason = await self._redis.hget(keys.subscription(subscription_id), ENDED_BY)
        return as_text(reason) == CAMPAIGN_OVER

    async def unlink_owner(self, user_id: int) -> None:
        """Forget who gives (for /forget); the gifts themselves stay, and keep counting."""
        owned = await self._redis.smembers(keys.user_subscriptions(user_id))
        async with self._redis.pipeline(transaction=True) as pipe:
            for raw in owned:
                # The Stripe customer is only kept to open the donor's card page for them.
                pipe.hdel(keys.subscription(text_of(raw)), "user_id", "customer")
            pipe.delete(keys.user_subscriptions(user_id))
            await pipe.execute()

    async def totals(self) -> tuple[int, int]:
        """How many monthly gifts are active, and what they bring each month (minor units)."""
        members = await self._redis.smembers(keys.active_subscriptions())
        ids = [str(as_text(raw)) for raw in members]
        async with self._redis.pipeline(transaction=False) as pipe:
            for subscription_id in ids:
                pipe.hget(keys.subscription(subscription_id), "amount")
            amounts = await pipe.execute()
        return len(ids), sum(int(amount) for amount in amounts if amount is not None)


def stripe_time() -> int:
    """Now, as Stripe stamps its events: the wall clock, which Stripe's follows (not the bot's
    Clock, which tests move), so the bot's own change and Stripe's event of it order alike."""
    return int(time.time())


def add_months(epoch: int, months: int) -> int:
    """The same day `months` later, the last of the month where it has fewer days."""
    start = datetime.fromtimestamp(epoch, tz=UTC)
    years, month0 = divmod(start.month - 1 + months, 12)
    year, month = start.year + years, month0 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def _blank(value: int | None) -> int | str:
    return "" if value is None else value

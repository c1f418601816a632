"""What beneficiaries are told: donations in batches, milestones, reversals, a daily summary."""

from __future__ import annotations

import html
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from telegram.error import BadRequest, Forbidden
from telegram.ext import ExtBot

from bot.broadcasts.store import BroadcastStore
from bot.broadcasts.subscribers import Subscribers
from bot.campaign import Campaign, percent_of_goal
from bot.clock import Clock
from bot.donations.ledger import DonationLedger
from bot.i18n import Localizer, money
from bot.storage import keys
from bot.storage.connection import as_text, text_of

log = logging.getLogger(__name__)

FEED_READ = 200
DAILY_SUMMARY_KEPT_SECONDS = 3 * 24 * 3600
# A summary missed while the bot was down is still sent if it starts within this delay.
DAILY_SUMMARY_GRACE = timedelta(hours=6)


class BeneficiaryFeed:
    """Turns the ledger's feed into messages for BENEFICIARY_CHAT_IDS, at the paces they want."""

    def __init__(
        self, redis: Redis, ledger: DonationLedger, subscribers: Subscribers,
        broadcasts: BroadcastStore, l10n: Localizer, campaign: Campaign, chats: frozenset[int],
        clock: Clock, locale: str,
    ) -> None:
        # Redis itself only for the feed the ledger's scripts append to, and its pacing marks.
        self._redis = redis
        self._ledger = ledger
        self._subscribers = subscribers
        self._broadcasts = broadcasts
        self._l10n = l10n
        self._campaign = campaign
        self._chats = sorted(chats)
        self._clock = clock
        self._locale = locale

    def _text(self, message_id: str, **args: Any) -> str:
        return self._l10n.format(self._locale, message_id, **args)

    def _money(self, minor: int) -> Any:
        return money(minor, self._campaign.currency)

    async def flush(self, bot: ExtBot[None]) -> int:
        """Announce what is due: milestones and reversals now, donations once per interval."""
        raw = [text_of(item) for item in await self._redis.lrange(keys.beneficiary_feed(), 0,
                                                                     FEED_READ - 1)]
        if not raw:
            return 0
        if not self._chats:
            # Nobody to tell: the facts stay in the ledger, the feed must not grow forever.
            await self._redis.ltrim(keys.beneficiary_feed(), len(raw), -1)
            return 0
        entries = [json.loads(item) for item in raw]
        totals = await self._ledger.totals()
        messages: list[str] = []
        done: list[str] = []
        donation_entries = [(item, e) for item, e in zip(raw, entries, strict=True)
                            if e["kind"] == "donation"]
        for item, entry in zip(raw, entries, strict=True):
            if entry["kind"] == "milestone":
                messages.append(self._text(
                    "beneficiary-milestone", amount=self._money(int(entry["amount"])),
                    total=self._money(totals.raised),
                    percent=percent_of_goal(totals.raised, self._campaign.goal),
                ))
                done.append(item)
            elif entry["kind"] in ("refund", "dispute"):
                messages.append(self._text(
                    f"beneficiary-{entry['kind']}", amount=self._money(int(entry["amount"])),
                    total=self._money(totals.raised),
                ))
                done.append(item)
        if donation_entries and await self._batch_due():
            messages.insert(0, await self._batch_message([e["id"] for _, e in donation_entries],
                                                         totals.raised))
            done += [item for item, _ in donation_entries]
        for text in messages:
            await self._send_everywhere(bot, text)
        async with self._redis.pipeline(transaction=True) as pipe:
            for item in done:
                pipe.lrem(keys.beneficiary_feed(), 1, item)
            await pipe.execute()
        return len(messages)

    async def _batch_due(self) -> bool:
        now = self._clock.now()
        last = as_text(await self._redis.get(keys.beneficiary_last_batch()))
        if last is not None and now - float(last) < self._campaign.notify_interval_minutes * 60:
            return False
        await self._redis.set(keys.beneficiary_last_batch(), f"{now:.3f}")
        return True

    async def _batch_message(self, donation_ids: list[str], total: int) -> str:
        lines: list[str] = []
        words: list[str] = []
        gift_sum = 0
        anonymous = self._text("beneficiary-anonymous")
        for donation_id in donation_ids:
            record = await self._ledger.donation(donation_id) or {}
            amount = int(record.get("amount", 0))
            gift_sum += amount
            name = html.escape(record["public_name"]) if record.get("public_name") else anonymous
            lines.append(self._text("beneficiary-batch-donor", amount=self._money(amount),
                                    name=name))
            if record.get("public_words"):
                words.append(self._text("beneficiary-batch-words",
                                        words=html.escape(record["public_words"]), name=name))
        header = self._text(
            "beneficiary-batch", count=len(donation_ids), sum=self._money(gift_sum),
            total=self._money(total), goal=self._money(self._campaign.goal),
            percent=percent_of_goal(total, self._campaign.goal),
        )
        return "\n".join([header, "", *lines, *(["", *words] if words else [])])

    async def daily_summary(self, bot: ExtBot[None]) -> bool:
        """Send today's summary once, however many processes or restarts ask for it."""
        zone = self._campaign.timezone
        now = datetime.fromtimestamp(self._clock.now(), zone)
        day = now.date().isoformat()
        if not self._chats:
            return False
        if not await self._redis.set(
            keys.daily_summary_sent(day), 1, nx=True, ex=DAILY_SUMMARY_KEPT_SECONDS
        ):
            return False
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        count = gift_sum = 0
        async for donation in self._ledger.donations(start.timestamp(), now.timestamp()):
            count += 1
            gift_sum += donation.amount
        totals = await self._ledger.totals()
        subscribers = sum((await self._subscribers.counts()).values())
        recent, _ = await self._broadcasts.archive(0, 50)
        sent_today = sum(1 for item in recent if item.started_at >= start.timestamp() * 1000)
        await self._send_everywhere(bot, self._text(
            "beneficiary-daily", date=day, count=count, sum=self._money(gift_sum),
            total=self._money(totals.raised), goal=self._money(self._campaign.goal),
            percent=percent_of_goal(totals.raised, self._campaign.goal),
            subscribers=subscribers, broadcasts=sent_today,
        ))
        return True

    def summary_missed_today(self) -> bool:
        """The bot starts after today's summary time, within the grace period."""
        zone = self._campaign.timezone
        now = datetime.fromtimestamp(self._clock.now(), zone)
        due = datetime.combine(now.date(), self._campaign.daily_summary_at, zone)
        return due <= now < due + DAILY_SUMMARY_GRACE

    async def _send_everywhere(self, bot: ExtBot[None], text: str) -> None:
        for chat_id in self._chats:
            try:
                await bot.send_message(chat_id, text)
            except (Forbidden, BadRequest) as exc:
                # A chat that removed the bot must not hold back the others.
                log.warning("beneficiary chat unreachable chat_id=%s error=%s", chat_id,
                            type(exc).__name__)

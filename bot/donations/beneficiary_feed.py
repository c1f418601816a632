"""What beneficiaries are told: donations in batches, milestones, reversals, a daily summary."""

from __future__ import annotations

import html
import json
import logging
import re
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, NamedTuple

from redis.asyncio import Redis
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.botapi.text_split import TELEGRAM_TEXT_LIMIT, split_message, telegram_length
from bot.broadcasts.store import BroadcastStore
from bot.broadcasts.subscribers import Subscribers
from bot.campaign import Campaign, percent_of_goal
from bot.clock import Clock
from bot.donations.ledger import DonationLedger
from bot.donations.needs import find_need
from bot.donations.spending import SpendingRecord
from bot.i18n import Localizer, money
from bot.reports.closing_summary import closing_summary
from bot.storage import keys
from bot.storage.connection import as_text, text_of
from bot.storage.job_runs import JobRuns

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
        clock: Clock, locale: str, runs: JobRuns, spending: SpendingRecord,
    ) -> None:
        self._spending = spending
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
        self._runs = runs

    def _text(self, message_id: str, **args: Any) -> str:
        return self._l10n.format(self._locale, message_id, **args)

    def _money(self, minor: int) -> Any:
        return money(minor, self._campaign.currency)

    async def flush(self, bot: ExtBot[None]) -> int:
        """Announce what is due: milestones and reversals now, donations once per interval.

        An item leaves the feed once every chat accepted a message holding it (or is gone
        for good); a chat that accepted it is not sent it again while another one retries.
        One process flushes at a time, under a lease, so the delivery marks need no lock: a
        process that finds the feed held skips its tick."""
        return await self._runs.alone("beneficiary-feed", lambda: self._flush(bot)) or 0

    async def _flush(self, bot: ExtBot[None]) -> int:
        raw = [text_of(item) for item in await self._redis.lrange(keys.beneficiary_feed(), 0,
                                                                     FEED_READ - 1)]
        if not raw:
            return 0
        if not self._chats:
            # Nobody to tell: the facts stay in the ledger, the feed must not grow forever.
            await self._redis.ltrim(keys.beneficiary_feed(), len(raw), -1)
            return 0
        totals = await self._ledger.totals()
        batch_due = any(json.loads(item)["kind"] == "donation" for item in raw) and (
            await self._batch_due()
        )
        marks = await self._redis.hmget(keys.beneficiary_delivered(), raw)
        accepted_by = {
            item: set(text_of(mark).split(",")) if mark else set()
            for item, mark in zip(raw, marks, strict=True)
        }
        settled = set(raw)
        sent = 0
        for chat_id in self._chats:
            chat = str(chat_id)
            pending = [item for item in raw if chat not in accepted_by[item]]
            done = set(raw) - set(pending)
            announcements = await self._announcements(pending, totals.raised, batch_due)
            for texts, items in announcements:
                outcome = await self._send_all(bot, chat_id, texts)
                if outcome is _Outcome.GONE:
                    done.update(item for _, held in announcements for item in held)
                    break
                if outcome is _Outcome.ACCEPTED:
                    sent += len(texts)
                    done.update(items)
                    for item in items:
                        accepted_by[item].add(chat)
                    await self._redis.hset(keys.beneficiary_delivered(), mapping={
                        item: ",".join(sorted(accepted_by[item])) for item in items
                    })
            settled &= done
        if settled:
            async with self._redis.pipeline(transaction=True) as pipe:
                for item in settled:
                    # The same reversal twice is two items alike: both were announced.
                    pipe.lrem(keys.beneficiary_feed(), raw.count(item), item)
                pipe.hdel(keys.beneficiary_delivered(), *settled)
                await pipe.execute()
        return sent

    async def _announcements(
        self, items: list[str], total: int, batch_due: bool
    ) -> list[_Announcement]:
        """The messages for these feed items (each as the parts Telegram takes), with the items
        each one announces: donations first, when their interval has passed."""
        announcements: list[_Announcement] = []
        donations = [item for item in items if json.loads(item)["kind"] == "donation"]
        if donations and batch_due:
            announcements += await self._batch_messages(donations, total)
        for item in items:
            entry = json.loads(item)
            if entry["kind"] == "milestone":
                text = self._text(
                    "beneficiary-milestone", amount=self._money(int(entry["amount"])),
                    total=self._money(total), percent=percent_of_goal(total, self._campaign.goal),
                )
            elif entry["kind"] == "closing":
                text = await self._closing_summary()
            elif entry["kind"] in ("refund", "dispute"):
                text = self._text(
                    f"beneficiary-{entry['kind']}", amount=self._money(int(entry["amount"])),
                    total=self._money(total),
                )
            elif entry["kind"] == "need_filled":
                text = self._need_filled(str(entry["need"]))
            else:
                continue
            announcements.append(_Announcement(split_message(text), (item,)))
        return announcements

    def _need_filled(self, need_id: str) -> str:
        """A need reached its target (needs.py); one removed from the campaign file since is
        named by its id, so its entry still leaves the feed."""
        need = find_need(self._campaign.needs, need_id)
        if need is None:
            return self._text("beneficiary-need-filled", need=need_id, target=0, amount="")
        return self._text(
            "beneficiary-need-filled", need=html.escape(need.text(self._locale)),
            target=need.target, amount=self._money(need.goal),
        )
    async def _closing_summary(self) -> str:
        """The final summary (bot/broadcasts/closing.py queued it), read as it goes: by then
        the campaign takes no more gifts."""
        totals = await self._ledger.totals()
        spent = (await self._spending.summary()).spent
        return closing_summary(self._l10n, self._locale, self._campaign.currency, totals, spent)

    async def _batch_due(self) -> bool:
        now = self._clock.now()
        last = as_text(await self._redis.get(keys.beneficiary_last_batch()))
        if last is not None and now - float(last) < self._campaign.notify_interval_minutes * 60:
            return False
        await self._redis.set(keys.beneficiary_last_batch(), f"{now:.3f}")
        return True

    async def _batch_messages(self, items: list[str], total: int) -> list[_Announcement]:
        """As few messages as fit Telegram's limit, each with its own count and sum; a gift's
        line and words always travel in the same message."""
        anonymous = self._text("beneficiary-anonymous")
        gifts: list[_Gift] = []
        for item in items:
            record = await self._ledger.donation(json.loads(item)["id"]) or {}
            amount = int(record.get("amount", 0))
            name = html.escape(record["public_name"]) if record.get("public_name") else anonymous
            line = self._text("beneficiary-batch-donor", amount=self._money(amount), name=name)
            words = self._text(
                "beneficiary-batch-words", words=html.escape(record["public_words"]), name=name
            ) if record.get("public_words") else None
            gifts.append(_Gift(item, amount, line, words))
        messages: list[_Announcement] = []
        group: list[_Gift] = []
        for gift in gifts:
            if group and telegram_length(self._batch_text([*group, gift], total)) > (
                TELEGRAM_TEXT_LIMIT
            ):
                messages.append(self._batch_message(group, total))
                group = []
            group.append(gift)
        if group:
            messages.append(self._batch_message(group, total))
        return messages

    def _batch_message(self, group: list[_Gift], total: int) -> _Announcement:
        # A gift too long for a message of its own is still cut where the splitter can.
        return _Announcement(
            split_message(self._batch_text(group, total)), tuple(gift.item for gift in group)
        )

    def _batch_text(self, group: list[_Gift], total: int) -> str:
        header = self._text(
            "beneficiary-batch", count=len(group),
            sum=self._money(sum(gift.amount for gift in group)), total=self._money(total),
            goal=self._money(self._campaign.goal),
            percent=percent_of_goal(total, self._campaign.goal),
        )
        lines = [gift.line for gift in group]
        words = [gift.words for gift in group if gift.words]
        return "\n".join([header, "", *lines, *(["", *words] if words else [])])

    async def daily_summary(self, bot: ExtBot[None]) -> bool:
        """Send today's summary once, however many processes or restarts ask for it; True in
        the process that completed it.

        The day is the one on the clock of the process asking: each asks at its own summary
        time, so clocks minutes apart still name the same day."""
        now = datetime.fromtimestamp(self._clock.now(), self._campaign.timezone)
        if not self._chats:
            return False
        day = now.date().isoformat()
        if await self._redis.exists(keys.legacy_daily_summary_sent(day)):
            return False
        return await self._runs.once(
            "daily-summary", day, lambda: self._send_summary(bot, now, day),
            DAILY_SUMMARY_KEPT_SECONDS,
        )

    async def _send_summary(self, bot: ExtBot[None], now: datetime, day: str) -> None:
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        count = gift_sum = 0
        async for donation in self._ledger.donations(start.timestamp(), now.timestamp()):
            count += 1
            gift_sum += donation.amount
        totals = await self._ledger.totals()
        subscribers = sum((await self._subscribers.counts()).values())
        recent, _ = await self._broadcasts.archive(0, 50)
        sent_today = sum(1 for item in recent if item.started_at >= start.timestamp() * 1000)
        texts = split_message(self._text(
            "beneficiary-daily", date=day, count=count, sum=self._money(gift_sum),
            total=self._money(totals.raised), goal=self._money(self._campaign.goal),
            percent=percent_of_goal(totals.raised, self._campaign.goal),
            subscribers=subscribers, broadcasts=sent_today,
        ))
        taken_before = 0
        for chat_id in self._chats:
            # Claimed before the send: a holder killed while Telegram has the message leaves
            # that chat without the day's summary rather than give it two.
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.sadd(keys.daily_summary_chats(day), chat_id)
                pipe.expire(keys.daily_summary_chats(day), DAILY_SUMMARY_KEPT_SECONDS)
                claimed, _ = await pipe.execute()
            if claimed:
                await self._send_all(bot, chat_id, texts)
            else:
                taken_before += 1
        if taken_before:
            log.info("daily summary taken over day=%s chats_claimed_before=%s", day, taken_before)

    def summary_missed_today(self) -> bool:
        """Today's summary time has passed, within the grace period (the bot may have been
        down then, or the process sending it may have died)."""
        zone = self._campaign.timezone
        now = datetime.fromtimestamp(self._clock.now(), zone)
        due = datetime.combine(now.date(), self._campaign.daily_summary_at, zone)
        return due <= now < due + DAILY_SUMMARY_GRACE

    async def _send_all(self, bot: ExtBot[None], chat_id: int, texts: list[str]) -> _Outcome:
        """Send the parts of one message in order; the first that is not accepted decides."""
        for text in texts:
            try:
                await bot.send_message(chat_id, text)
            except (Forbidden, ChatMigrated) as exc:
                return _gone(chat_id, exc)
            except BadRequest as exc:
                if _UNREACHABLE.search(exc.message):
                    return _gone(chat_id, exc)
                log.warning("beneficiary message refused chat_id=%s error=%s", chat_id,
                            type(exc).__name__)
                return _Outcome.FAILED
            except TelegramError as exc:
                log.warning("beneficiary message not sent chat_id=%s error=%s", chat_id,
                            type(exc).__name__)
                return _Outcome.FAILED
        return _Outcome.ACCEPTED


class _Gift(NamedTuple):
    """One donation of a batch: its feed item, amount, line and words (if any)."""

    item: str
    amount: int
    line: str
    words: str | None


class _Announcement(NamedTuple):
    """One message for the beneficiaries, as the parts Telegram takes, and the items it holds."""

    texts: list[str]
    items: tuple[str, ...]


class _Outcome(Enum):
    """What became of a message for one beneficiary chat."""

    ACCEPTED = "accepted"
    # Refused or lost on the way: what it announces waits for the next round.
    FAILED = "failed"
    # The chat cannot be reached for good: it must not hold the feed back for the others.
    GONE = "gone"


# Bad Requests about the chat rather than the message: no later round can reach it either.
_UNREACHABLE = re.compile(
    r"chat not found|kicked|not enough rights|have no rights|deactivated|peer_id_invalid"
    r"|chat_write_forbidden|chat_restricted",
    re.IGNORECASE,
)


def _gone(chat_id: int, exc: TelegramError) -> _Outcome:
    log.warning("beneficiary chat unreachable chat_id=%s error=%s", chat_id, type(exc).__name__)
    return _Outcome.GONE

"""What the campaign spent, as the organizers record it, beside the ledger in Redis.

Each change is one Lua script that moves the summary (total spent, count, spent per need) with
the entry, so /progress, the widget, /stats and /needs read one hash and never scan. Recording
and correcting are keyed on the draft's token (bot/donations/spending_drafts.py): a second tap
on Confirm finds what the first one did instead of doing it again.

The entries are the organizers' account of the money, not anyone's personal data: /forget has
nothing to erase here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from bot.storage import keys
from bot.storage.connection import as_text, text_of

# KEYS: the draft, the entry sequence. ARGV: the draft's token.
# Returns the id the draft's entry is to have (drawn once, kept on the draft, so a retried
# Confirm records under the same id), or 0 when the draft is not this token's any more. An id
# is drawn before the entry's key can be named: the record script must be given it in KEYS.
_RESERVE = """
if redis.call('HGET', KEYS[1], 'token') ~= ARGV[1] then return 0 end
local id = redis.call('HGET', KEYS[1], 'new_entry')
if id then return tonumber(id) end
id = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'new_entry', id)
return id
"""

# KEYS: the draft's outcome, the entry, the entries, the summary, the draft.
# ARGV: token, amount, text en, text fr, photo, need, now (ms), outcome TTL (s), entry id.
# Returns {1, id} when this call recorded the entry, {0, outcome} when an earlier one had.
_RECORD = """
local settled = redis.call('GET', KEYS[1])
if settled then return {0, settled} end
local id = ARGV[9]
redis.call('HSET', KEYS[2], 'amount', ARGV[2], 'text:en', ARGV[3], 'text:fr', ARGV[4],
  'photo', ARGV[5], 'need', ARGV[6], 'recorded', ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[7], id)
redis.call('HINCRBY', KEYS[4], 'spent', ARGV[2])
redis.call('HINCRBY', KEYS[4], 'count', 1)
-- What the entry's need has had spent on it, for /needs.
if ARGV[6] ~= '' then redis.call('HINCRBY', KEYS[4], 'need:' .. ARGV[6], ARGV[2]) end
redis.call('SET', KEYS[1], id, 'EX', ARGV[8])
-- The draft goes unless a new /spent replaced it meanwhile.
if redis.call('HGET', KEYS[5], 'token') == ARGV[1] then redis.call('DEL', KEYS[5]) end
return {1, id}
"""

# KEYS: the draft's outcome, the entry, the summary, the draft.
# ARGV: token, amount, text en, text fr, now (ms), outcome TTL (s), entry id, need.
# Returns {1, id} corrected now, {0, outcome} by an earlier call, {-1, ''} the entry is gone.
_CORRECT = """
local settled = redis.call('GET', KEYS[1])
if settled then return {0, settled} end
local old = redis.call('HGET', KEYS[2], 'amount')
if not old then return {-1, ''} end
redis.call('HSET', KEYS[2], 'amount', ARGV[2], 'text:en', ARGV[3], 'text:fr', ARGV[4],
  'corrected', ARGV[5])
redis.call('HINCRBY', KEYS[3], 'spent', tonumber(ARGV[2]) - tonumber(old))
-- The need's spend moves with the entry: its old need gives back the old amount.
local old_need = redis.call('HGET', KEYS[2], 'need') or ''
if old_need ~= '' then redis.call('HINCRBY', KEYS[3], 'need:' .. old_need, -tonumber(old)) end
if ARGV[8] ~= '' then redis.call('HINCRBY', KEYS[3], 'need:' .. ARGV[8], ARGV[2]) end
redis.call('HSET', KEYS[2], 'need', ARGV[8])
redis.call('SET', KEYS[1], ARGV[7], 'EX', ARGV[6])
if redis.call('HGET', KEYS[4], 'token') == ARGV[1] then redis.call('DEL', KEYS[4]) end
return {1, ARGV[7]}
"""

# KEYS: the entry, the entries, the summary. ARGV: entry id.
# Returns 1 when this call removed it, 0 when it was gone already (a second tap).
_REMOVE = """
local amount = redis.call('HGET', KEYS[1], 'amount')
if not amount then return 0 end
-- Its need's spend goes down with it.
local need = redis.call('HGET', KEYS[1], 'need') or ''
if need ~= '' then redis.call('HINCRBY', KEYS[3], 'need:' .. need, -tonumber(amount)) end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'spent', -tonumber(amount))
redis.call('HINCRBY', KEYS[3], 'count', -1)
return 1
"""


@dataclass(frozen=True)
class SpendingSummary:
    """Total spent (minor units), the number of entries, and what was spent per need id."""

    spent: int = 0
    count: int = 0
    by_need: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SpendingEntry:
    """One thing bought or paid, as recorded."""

    entry_id: int
    amount: int
    texts: dict[str, str]
    photo: str | None
    need: str | None
    # When it was recorded (epoch ms).
    recorded: int

    def text_for(self, locale: str) -> str:
        """The text in the reader's language, else the other one."""
        return self.texts.get(locale) or next(iter(self.texts.values()), "")


@dataclass(frozen=True)
class SpentSince:
    """The entries recorded since a moment: their sum, their count, and the newest of them."""

    spent: int
    count: int
    newest: list[SpendingEntry]


@dataclass(frozen=True)
class Outcome:
    """What a Confirm did: the entry it recorded or corrected, and whether this call did it."""

    # None when an earlier tap discarded the draft, or the entry to correct is gone.
    entry_id: int | None
    now: bool
    # The entry to correct was removed meanwhile.
    gone: bool = False


@dataclass(frozen=True)
class EntryChange:
    """An entry as the organizer wrote it (minor units, plain text), with its need's id."""

    amount: int
    text_en: str
    text_fr: str
    photo: str | None = None
    need: str | None = None


class SpendingRecord:
    """Records, corrects and removes spending entries atomically; reads them and the summary."""

    def __init__(self, redis: Redis, *, outcome_ttl: int) -> None:
        self._redis = redis
        self._outcome_ttl = outcome_ttl
        self._reserve = redis.register_script(_RESERVE)
        self._record = redis.register_script(_RECORD)
        self._correct = redis.register_script(_CORRECT)
        self._remove = redis.register_script(_REMOVE)

    async def record(
        self, admin_id: int, token: str, change: EntryChange, now_ms: int
    ) -> Outcome:
        """Record the entry once for this draft token, and drop the draft."""
        entry_id = int(await self._reserve(
            keys=[keys.spending_draft(admin_id), keys.spending_sequence()], args=[token]
        ))
        if not entry_id:
            # Recorded, discarded or replaced since: say what became of it, do nothing.
            settled = await self.outcome(token) or ""
            return Outcome(int(settled) if settled.isdigit() else None, now=False)
        answer = await self._record(
            keys=[
                keys.spending_draft_outcome(token), keys.spending_entry(entry_id),
                keys.spending_entries(), keys.spending_summary(), keys.spending_draft(admin_id),
            ],
            args=[
                token, change.amount, change.text_en, change.text_fr, change.photo or "",
                change.need or "", now_ms, self._outcome_ttl, entry_id,
            ],
        )
        return _outcome(answer)

    async def correct(
        self, admin_id: int, token: str, entry_id: int, change: EntryChange, now_ms: int
    ) -> Outcome:
        """Change an entry's amount, texts and need once for this token, and drop the draft."""
        answer = await self._correct(
            keys=[
                keys.spending_draft_outcome(token), keys.spending_entry(entry_id),
                keys.spending_summary(), keys.spending_draft(admin_id),
            ],
            args=[
                token, change.amount, change.text_en, change.text_fr, now_ms,
                self._outcome_ttl, entry_id, change.need or "",
            ],
        )
        return _outcome(answer)

    async def remove(self, entry_id: int) -> bool:
        """Take an entry out, once; False if it was gone already."""
        removed = await self._remove(
            keys=[
                keys.spending_entry(entry_id), keys.spending_entries(), keys.spending_summary()
            ],
            args=[entry_id],
        )
        return bool(removed)

    async def outcome(self, token: str) -> str | None:
        """What an earlier Confirm or Cancel made of the draft with this token, if anything."""
        return as_text(await self._redis.get(keys.spending_draft_outcome(token)))

    async def summary(self) -> SpendingSummary:
        raw = await self._redis.hgetall(keys.spending_summary())
        fields = {text_of(key): int(value) for key, value in raw.items()}
        by_need = {
            name.removeprefix("need:"): cents
            for name, cents in fields.items() if name.startswith("need:") and cents
        }
        return SpendingSummary(fields.get("spent", 0), fields.get("count", 0), by_need)

    async def entry(self, entry_id: int) -> SpendingEntry | None:
        raw = await self._redis.hgetall(keys.spending_entry(entry_id))
        return _entry(entry_id, raw)

    async def page(self, index: int) -> tuple[SpendingEntry | None, int]:
        """The entry on page `index` (0: the newest), and how many there are."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrevrange(keys.spending_entries(), index, index)
            pipe.zcard(keys.spending_entries())
            ids, total = await pipe.execute()
        if not ids:
            return None, int(total)
        return await self.entry(int(text_of(ids[0]))), int(total)

    async def since(self, since_ms: int, shown: int) -> SpentSince:
        """The entries recorded since `since_ms`, their sum, and the `shown` newest of them."""
        # Ids by score, then the entries in one round trip: entries are few (one a purchase).
        ids = [
            int(text_of(raw))
            for raw in await self._redis.zrangebyscore(keys.spending_entries(), since_ms, "+inf")
        ]
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id in ids:
                pipe.hgetall(keys.spending_entry(entry_id))
            raws = await pipe.execute()
        entries = [
            entry for entry in (_entry(i, raw) for i, raw in zip(ids, raws, strict=True))
            if entry is not None
        ]
        return SpentSince(
            sum(entry.amount for entry in entries), len(entries), entries[::-1][:shown]
        )


def _outcome(answer: list[Any]) -> Outcome:
    state, value = int(answer[0]), str(as_text(answer[1]))
    if state < 0:
        return Outcome(None, now=False, gone=True)
    return Outcome(int(value) if value.isdigit() else None, now=state == 1)


def _entry(entry_id: int, raw: dict[Any, Any]) -> SpendingEntry | None:
    fields = {text_of(key): text_of(value) for key, value in raw.items()}
    if "amount" not in fields:
        return None
    texts = {
        name.removeprefix("text:"): value
        for name, value in fields.items() if name.startswith("text:") and value
    }
    return SpendingEntry(
        entry_id, int(fields["amount"]), texts, fields.get("photo") or None,
        fields.get("need") or None, int(fields.get("recorded", 0)),
    )

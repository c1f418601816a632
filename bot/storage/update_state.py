"""What the handlers of one update read from Redis, read in one script call when the update
arrives, with the writes that go with it: the sender's rate-limit count, a Checkout Session
counted for a tap that asks for one, their locale, whether they had blocked the bot, their
referral code, the question the bot asked them, the campaign totals and the photo's file_id.

In a burst every round trip resumes on a busy event loop: five reads one after another cost
a /start more than its answer. Handlers take these values from the one read (CampaignContext
keeps it for the update); a handler that changes one of them writes it through its own store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.donations.ledger import Totals
from bot.storage.connection import as_text, text_of

# KEYS: the sender's rate-limit counter for this window ('' for organizers: never paused), the
# user hash, the awaited input, the totals, the campaign photo's file_id ('' for a campaign
# without one), this minute's Checkout Session counter ('' for updates asking for no session).
# ARGV: the per-user limit, the counters' TTL (s), the locale guessed from language_code, then
# every supported locale.
# Returns: count and sessions (0 when not counted), locale, blocked, referral, the need chosen
# for the next gift, awaited input, photo file_id, the totals as field/value pairs. The guessed
# locale is stored unless a supported one is; one stored before the store checked values (a
# forged "fr\n") is replaced.
READ = """
local count, sessions = 0, 0
if KEYS[1] ~= '' then
  count = redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
-- A tap refused for going too fast asks for nothing: a flood must not spend everyone's cap.
if KEYS[6] ~= '' and count <= tonumber(ARGV[1]) then
  sessions = redis.call('INCR', KEYS[6])
  redis.call('EXPIRE', KEYS[6], ARGV[2])
end
redis.call('HSETNX', KEYS[2], 'locale', ARGV[3])
local user = redis.call('HMGET', KEYS[2], 'locale', 'blocked', 'referral', 'need')
local supported = false
for i = 4, #ARGV do
  if user[1] == ARGV[i] then supported = true end
end
if not supported then
  redis.call('HSET', KEYS[2], 'locale', ARGV[3])
  user[1] = ARGV[3]
end
local photo = false
if KEYS[5] ~= '' then photo = redis.call('GET', KEYS[5]) end
return {count, sessions, user[1], user[2], user[3], user[4], redis.call('GET', KEYS[3]), photo,
        redis.call('HGETALL', KEYS[4])}
"""


@dataclass(frozen=True)
class Counts:
    """The counters an update adds one to as it is read, by key: the sender's unless an
    organizer sent it, and this minute's Checkout Sessions for a tap that asks for one."""

    user: str | None
    # Past it the update is refused, and counts no session.
    user_limit: int
    sessions: str | None


@dataclass(frozen=True)
class UpdateState:
    """One sender's records as the update found them."""

    user_id: int
    # Updates of this rate-limit window so far, this one included; 0 when not counted.
    count: int
    # Checkout Sessions asked for this minute, this update's included; 0 when it asks for none.
    sessions: int
    locale: str
    # A subscriber who had blocked the bot: the next /start brings them back.
    blocked: bool
    referral: str | None
    # The need chosen on the amount step (bot/donations/needs.py), None for where it helps most.
    need: str | None
    awaiting: str | None
    photo_file_id: str | None
    totals: Totals


def parse(user_id: int, reply: list[Any]) -> UpdateState:
    """The script's reply as a record."""
    count, sessions, locale, blocked, referral, need, awaiting, photo, pairs = reply
    fields = {text_of(pairs[i]): int(pairs[i + 1]) for i in range(0, len(pairs), 2)}
    return UpdateState(
        user_id=user_id,
        count=int(count),
        sessions=int(sessions),
        locale=text_of(locale),
        blocked=as_text(blocked) == "1",
        referral=as_text(referral),
        need=as_text(need),
        awaiting=as_text(awaiting),
        photo_file_id=as_text(photo),
        totals=Totals(**{name: fields.get(name, 0) for name in Totals.__dataclass_fields__}),
    )

"""The closing report: one broadcast to every subscriber and every donor, each once.

It is a broadcast like the others (bot/broadcasts/store.py, queue.py, engine.py) whose job has
`audience` = everyone. Before its subscribers, the feed queues the ledger's Telegram donors,
walked by cursor in the donors set, each once (the job's donors set below), subscriber or not;
a subscriber queued as a donor is then dropped from the subscribers' turn by the step script,
so a donor who unsubscribes meanwhile still gets it and nobody gets it twice. /forget takes a
donor out of the ledger's donors set (bot/donations/ledger.py), so the forgotten are never fed.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bot.broadcasts.drafts import OUTCOME_TTL_SECONDS, Settlement, settlement_of
from bot.broadcasts.store import _CREATE, BroadcastContent, _creation, _creation_keys
from bot.donations.ledger import telegram_donor_key
from bot.i18n import SUPPORTED_LOCALES
from bot.storage import keys
from bot.storage.connection import text_of

AUDIENCE = "audience"
EVERYONE = "everyone"
# One feed call scans at most this many donors-set members per chunk asked for: the set also
# holds anonymous donors, and a script must stay short.
_SCAN_FACTOR = 10

# KEYS: job, stream, the ledger's donors set, the donors this broadcast queued.
# ARGV: chunk, the most members to scan, what a Telegram donor's member has before the id, what
# a user record's key has before the id, then the supported locales (the first the fallback).
# Answers {queued, done}, or {-1, 1} once the broadcast stopped. Nothing to do ({0, 1}) for a
# broadcast to subscribers only, or once the walk is over. The cursor lives in the job, so two
# feeders never queue the same donor, and the set of those queued makes a member the walk
# meets twice (the cursor's promise) queued once. Each donor reads in their own language.
FEED_DONORS = """
local job = redis.call('HMGET', KEYS[1], 'status', 'audience', 'donors-fed', 'donors-cursor')
if job[1] ~= 'sending' then return {-1, 1} end
if job[2] ~= 'everyone' or job[3] == '1' then return {0, 1} end
local chunk, most, prefix = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local supported = {}
for i = 5, #ARGV do supported[ARGV[i]] = true end
local cursor, queued, scanned = job[4] or '0', 0, 0
repeat
  local reply = redis.call('SSCAN', KEYS[3], cursor, 'MATCH', prefix .. '*', 'COUNT', chunk)
  cursor = reply[1]
  for _, member in ipairs(reply[2]) do
    local chat = string.sub(member, #prefix + 1)
    if redis.call('SADD', KEYS[4], chat) == 1 then
      local locale = redis.call('HGET', ARGV[4] .. chat, 'locale')
      if not supported[locale] then locale = ARGV[5] end
      redis.call('XADD', KEYS[2], '*', 'chat', chat, 'locale', locale, 'donor', 1)
      queued = queued + 1
    end
  end
  scanned = scanned + #reply[2]
until cursor == '0' or queued >= chunk or scanned >= most
local done = cursor == '0'
redis.call('HSET', KEYS[1], 'donors-cursor', cursor)
if done then redis.call('HSET', KEYS[1], 'donors-fed', 1) end
if queued > 0 then redis.call('HINCRBY', KEYS[1], 'total', queued) end
return {queued, done and 1 or 0}
"""


def donor_feed_keys(broadcast_id: int) -> list[str]:
    """The donor feed's KEYS for this broadcast."""
    return [
        keys.broadcast(broadcast_id), keys.broadcast_stream(broadcast_id), keys.donors(),
        keys.broadcast_donors_reached(broadcast_id),
    ]


def donor_feed_args(chunk: int) -> list[str | int]:
    """The donor feed's ARGV for a chunk."""
    return [
        chunk, chunk * _SCAN_FACTOR, telegram_donor_key(0)[:-1], keys.user_prefix(),
        *SUPPORTED_LOCALES,
    ]


@dataclass(frozen=True)
class ClosedBefore:
    """Another closing report was confirmed first: the campaign is closed already."""

    broadcast_id: int


class ClosingReports:
    """Turns an organizer's closing draft into the report, once for the whole campaign."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._create = redis.register_script(_CREATE)

    async def create_from_draft(
        self, token: str, content: BroadcastContent, *, created_by: int, admin_locale: str,
        progress_chat: int, progress_message: int,
    ) -> Settlement | ClosedBefore:
        """The report of the draft with this token, queued for everyone; in the same step the
        campaign is closed and the beneficiaries' summary is owed. Once per token (a repeat
        gets the same id back), once per campaign (another draft gets ClosedBefore)."""
        head, fields = _creation(
            content, created_by, admin_locale, progress_chat, progress_message, None
        )
        answer = await self._create(
            keys=[
                *_creation_keys(), keys.broadcast_draft(created_by),
                keys.broadcast_draft_outcome(token), keys.totals(), keys.beneficiary_feed(),
            ],
            args=[*head, token, OUTCOME_TTL_SECONDS, *fields, AUDIENCE, EVERYONE],
        )
        if int(answer[0]) == -2:
            return ClosedBefore(int(text_of(answer[1])))
        return settlement_of(answer)

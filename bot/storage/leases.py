"""Leases: a named role one process holds at a time (polling Telegram, running a job's period).

A lease is a Redis string holding its owner's id with an expiry. The owner renews it well before
it expires; a process that dies stops renewing, and another takes the role once it expires. Taking,
renewing and releasing each compare the owner in one script, so a process whose lease expired
while it stalled can never renew or release the role a successor now holds.
"""

from __future__ import annotations

from redis.asyncio import Redis

from bot.storage import keys
from bot.storage.connection import as_text

# KEYS: the lease. ARGV: owner, ttl in ms. 1 if the caller holds it afterwards.
_TAKE = """
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS: the lease. ARGV: owner, ttl in ms. 1 if it was still the caller's and lasts ttl again.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# KEYS: the lease. ARGV: owner. Deleted only by its holder.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    """One role, held by at most one owner at a time, for `ttl_ms` after its last renewal."""

    def __init__(self, redis: Redis, role: str, owner: str, ttl_ms: int) -> None:
        self._redis = redis
        self._key = keys.lease(role)
        self.owner = owner
        self.ttl_ms = ttl_ms
        self._take = redis.register_script(_TAKE)
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)

    async def take(self) -> bool:
        """Take the role if free, or renew it if ours; False while another owner holds it."""
        return bool(await self._take(keys=[self._key], args=[self.owner, self.ttl_ms]))

    async def renew(self) -> bool:
        """Extend the role only if still ours: one that lapsed meanwhile is lost, even if free
        again (a successor may have done the work and let go)."""
        return bool(await self._renew(keys=[self._key], args=[self.owner, self.ttl_ms]))

    async def release(self) -> bool:
        """Give the role up at once (a clean stop), so a sibling need not wait for the expiry."""
        return bool(await self._release(keys=[self._key], args=[self.owner]))

    async def holder(self) -> str | None:
        """Who holds the role now, if anyone."""
        return as_text(await self._redis.get(self._key))

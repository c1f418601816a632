"""What a crash of the Redis server could lose, read from the server's own persistence settings.

The Stripe webhook answers 2xx once a gift is written, and Stripe never sends an acknowledged
event again: only `appendonly yes` with `appendfsync always` makes "written" mean "on disk" by
the time the answer goes out. The embedded Valkey is started that way; an external server is
whatever its operator set, so it is asked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import ResponseError

log = logging.getLogger(__name__)

SET_BOTH = "set appendonly yes and appendfsync always"


@dataclass(frozen=True)
class Durability:
    """The verdict on a server's persistence: ok only when every acknowledged write is on disk."""

    ok: bool
    summary: str


EMBEDDED = Durability(True, "embedded Valkey, append-only, fsync on every write")
APPEND_ONLY_OFF = Durability(
    False, f"append-only off: a crash loses every gift since the last snapshot; {SET_BOTH}"
)


def judge(appendonly: str, appendfsync: str) -> Durability:
    """The verdict on CONFIG GET's appendonly and appendfsync."""
    if appendonly != "yes":
        return APPEND_ONLY_OFF
    if appendfsync == "always":
        return Durability(True, "append-only, fsync on every write")
    loss = {
        "everysec": "the last second of",
        # The kernel writes dirty pages back about every 30 s (vm.dirty_expire_centisecs).
        "no": "the last 30 seconds or more of",
    }.get(appendfsync, "the latest")
    return Durability(
        False,
        f"appendfsync={appendfsync}: a crash can lose {loss} acknowledged gifts; "
        "set appendfsync always",
    )


async def read_durability(redis: Redis) -> Durability:
    """From CONFIG GET; where CONFIG is disabled (managed Redis), from INFO persistence."""
    try:
        config = await redis.config_get("append*")
    except ResponseError:  # unknown (renamed) command, or refused by an ACL
        config = {}
    if "appendonly" in config and "appendfsync" in config:
        return judge(str(config["appendonly"]), str(config["appendfsync"]))
    try:
        aof_enabled = (await redis.info("persistence")).get("aof_enabled")
    except ResponseError:
        aof_enabled = None
    if aof_enabled is None:
        return Durability(
            False, f"unknown (the server does not report its persistence settings): {SET_BOTH}"
        )
    if int(aof_enabled) == 0:
        return APPEND_ONLY_OFF
    # INFO has no fsync policy.
    return Durability(
        False,
        "unknown (CONFIG disabled; the server reports append-only on): "
        "make sure appendfsync is always",
    )


async def warn_unless_durable(redis: Redis) -> None:
    """One WARNING at start when a crash of this server could lose acknowledged gifts."""
    durability = await read_durability(redis)
    if not durability.ok:
        log.warning("durability: %s", durability.summary)

"""Opening the Redis connection the bot shares, and reading its replies as text."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

# What a caller catches when Redis is down or unreachable, without importing redis-py itself.
StorageUnavailable = (RedisError, OSError)
# At a peak the handlers (64 at once), every webhook delivery and the broadcast senders (64)
# can ask for more connections at once than redis-py's default pool holds (100), and that pool
# refuses the next one at once (MaxConnectionsError): people were told Redis was down. Past
# POOL_SIZE a caller waits for a free connection, and only after POOL_WAIT_SECONDS gives up.
POOL_SIZE = 128
POOL_WAIT_SECONDS = 5.0


def connect(url: str) -> Redis:
    """A pooled client that answers str, checking idle connections before reuse."""
    pool = BlockingConnectionPool.from_url(
        url, max_connections=POOL_SIZE, timeout=POOL_WAIT_SECONDS, decode_responses=True,
        health_check_interval=30,
    )
    return Redis.from_pool(pool)


def as_text(value: bytes | str | None) -> str | None:
    """A reply as str (the client decodes, but redis-py's types still allow bytes)."""
    if isinstance(value, bytes):
        return value.decode()
    return value


def text_of(value: object) -> str:
    """Any reply element (member, field, stream id) as str."""
    if isinstance(value, bytes):
        return value.decode()
    return str(value)

"""Opening the Redis connection the bot shares, and reading its replies as text."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError

# What a caller catches when Redis is down or unreachable, without importing redis-py itself.
StorageUnavailable = (RedisError, OSError)


def connect(url: str) -> Redis:
    """A pooled client that answers str, checking idle connections before reuse."""
    return Redis.from_url(url, decode_responses=True, health_check_interval=30)


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

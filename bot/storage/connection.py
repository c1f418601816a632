"""Opening the Redis connection the bot shares, and reading its replies as text."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

# What a caller catches when Redis is down or unreachable, without importing redis-py itself.
StorageUnavailable = (RedisError, OSError)
# At a peak the handlers (64 at once), every webhook delivery and the broadcast senders (64)
# can ask for more connections at once than redis-py's default pool holds (100), and that pool
# refuses the next one at once (MaxConnectionsError): people were told Redis was down. Past
# POOL_SIZE a caller waits for a free connection, and only after POOL_WAIT_SECONDS gives up.
POOL_SIZE = 128
POOL_WAIT_SECONDS = 5.0


class WaitingPool(ConnectionPool):
    """redis-py's pool, where a caller past `max_connections` waits its turn for a connection.

    redis-py's BlockingConnectionPool does the same under an asyncio.Condition, a lock, a
    timeout and metrics hooks at every checkout: a third of each command's CPU. On one event
    loop taking a free connection is one list pop; only a caller who finds none waits, in line,
    and is handed the next connection given back.
    """

    def __init__(self, wait_seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._wait_seconds = wait_seconds
        self._turns: deque[asyncio.Future[AbstractConnection]] = deque()

    async def get_connection(
        self, command_name: object = None, *keys: object, **options: object
    ) -> AbstractConnection:
        if self._turns or not self.can_get_connection():
            connection = await self._next_given_back()
        else:
            connection = self.get_available_connection()  # type: ignore[no-untyped-call]
        try:
            await self.ensure_connection(connection)
        except BaseException:
            await self.release(connection)
            raise
        return connection

    async def release(self, connection: AbstractConnection) -> None:
        # No re-authentication hook on release: it serves streaming credential providers,
        # and the bot's credentials are the URL's.
        if connection.should_reconnect():  # type: ignore[no-untyped-call]
            await connection.disconnect()
        self._hand_on(connection)

    def _hand_on(self, connection: AbstractConnection) -> None:
        """To the first caller still waiting, else back among the free ones."""
        while self._turns:
            turn = self._turns.popleft()
            if not turn.done():
                turn.set_result(connection)
                return
        self._in_use_connections.discard(connection)
        self._available_connections.append(connection)

    async def _next_given_back(self) -> AbstractConnection:
        turn: asyncio.Future[AbstractConnection] = asyncio.get_running_loop().create_future()
        self._turns.append(turn)
        try:
            async with asyncio.timeout(self._wait_seconds):
                return await turn
        except BaseException as error:
            # A caller who gave up left a cancelled turn, which _hand_on skips; one handed a
            # connection as it gave up passes it to the next in line.
            if not turn.cancelled():
                self._hand_on(turn.result())
            if isinstance(error, TimeoutError):
                raise RedisConnectionError("No connection available.") from error
            raise


def connect(url: str) -> Redis:
    """A pooled client that answers str, checking idle connections before reuse."""
    pool = WaitingPool.from_url(
        url, wait_seconds=POOL_WAIT_SECONDS, max_connections=POOL_SIZE, decode_responses=True,
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

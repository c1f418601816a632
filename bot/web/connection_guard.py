"""Connections to the HTTP server: a cap under the file limit, and a deadline for the headers.

aiohttp holds a connection that never finishes its request for an hour, and takes connections
until accept() fails for want of file descriptors, after which nothing, /healthz or the Stripe
webhook, can connect. The guard sits between asyncio and aiohttp's protocol: it closes a
connection that has sent no complete headers in time, and at the cap it closes the connection
that has been waiting longest (idle, or still sending its request) to make room for a new one.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Kept free for what else the process opens (Redis and Bot API pools, the embedded store, logs)
# and for the backlog asyncio accepts in one go before the guard sees any of it.
FD_HEADROOM = 256
ACCEPT_BACKLOG = 128
WARNING_INTERVAL_SECONDS = 60.0
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


def connection_cap(configured: int, file_limit: int | None = None) -> int:
    """The connection cap that fits under the process's open-file limit (RLIMIT_NOFILE)."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0] if file_limit is None else file_limit
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, max(soft - FD_HEADROOM, soft // 4)))


class Throttled:
    """One WARNING per interval for an event that can repeat thousands of times a second: the
    first at once, then how many more there were, at the end of the interval."""

    def __init__(self, message: str, interval: float = WARNING_INTERVAL_SECONDS) -> None:
        self.message = message
        self.interval = interval
        self._count = 0
        self._next = 0.0
        self._pending: asyncio.TimerHandle | None = None

    def note(self) -> None:
        self._count += 1
        loop = asyncio.get_running_loop()
        if loop.time() >= self._next:
            self._flush()
        elif self._pending is None:
            self._pending = loop.call_at(self._next, self._flush)

    def _flush(self) -> None:
        self._pending = None
        if self._count:
            log.warning("%s count=%d", self.message, self._count)
            self._count = 0
            self._next = asyncio.get_running_loop().time() + self.interval


@dataclass
class _Connection:
    deadline: asyncio.TimerHandle | None
    # Between the request's whole arrival and its response: never closed to make room.
    handling: bool = False


class ConnectionGuard:
    """Counts the server's connections, caps them, and closes those too slow to send a request."""

    def __init__(self, *, max_connections: int, headers_timeout: float) -> None:
        self.limit = max_connections
        self.headers_timeout = headers_timeout
        # Oldest activity first: the front is what gets closed to make room.
        self._open: OrderedDict[asyncio.BaseTransport, _Connection] = OrderedDict()
        self._slow = Throttled(
            "http connections closed: no complete request headers in time"
        )
        self._evicted = Throttled("http connections closed to make room: connection cap reached")
        self._refused = Throttled("http connections refused: every connection is busy")
        self.slow_bodies = Throttled("http requests refused: body not received in time")

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def protocol(self, inner: asyncio.Protocol) -> asyncio.Protocol:
        """aiohttp's protocol for one connection, behind the guard."""
        return _GuardedProtocol(self, inner)

    def admit(self, transport: asyncio.BaseTransport) -> bool:
        """Take a new connection, closing the longest-waiting one when at the cap."""
        if len(self._open) >= self.limit and not self._evict_one():
            self._refused.note()
            return False
        deadline = asyncio.get_running_loop().call_later(
            self.headers_timeout, self._expire, transport
        )
        self._open[transport] = _Connection(deadline)
        return True

    def release(self, transport: asyncio.BaseTransport) -> None:
        connection = self._open.pop(transport, None)
        if connection is not None and connection.deadline is not None:
            connection.deadline.cancel()

    def request_started(self, transport: asyncio.BaseTransport | None) -> None:
        """Headers are in: the body has its own deadline, kept by the request guard."""
        connection = self._seen(transport)
        if connection is not None and connection.deadline is not None:
            connection.deadline.cancel()
            connection.deadline = None

    def request_handling(self, transport: asyncio.BaseTransport | None, busy: bool) -> None:
        connection = self._seen(transport)
        if connection is not None:
            connection.handling = busy

    def _seen(self, transport: asyncio.BaseTransport | None) -> _Connection | None:
        if transport is None or transport not in self._open:
            return None
        self._open.move_to_end(transport)
        return self._open[transport]

    def _expire(self, transport: asyncio.BaseTransport) -> None:
        if transport in self._open:
            self.release(transport)
            self._slow.note()
            transport.close()

    def _evict_one(self) -> bool:
        for transport, connection in self._open.items():
            if not connection.handling:
                self.release(transport)
                self._evicted.note()
                transport.close()
                return True
        return False


class _GuardedProtocol(asyncio.Protocol):
    """aiohttp's RequestHandler for one connection, seen by the guard first."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self._guard = guard
        self._inner = inner
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._guard.admit(transport):
            if isinstance(transport, asyncio.WriteTransport):
                transport.write(_BUSY)
            transport.close()
            return
        self._transport = transport
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._transport is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._transport is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._guard.release(self._transport)
            self._transport = None
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


def quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    """Turn asyncio's accept() out-of-files ERROR, logged with a traceback for each attempt
    (tens of megabytes a minute), into one WARNING a minute; returns the undo."""
    previous = loop.get_exception_handler()
    out_of_files = Throttled("http server out of file descriptors: new connections must wait")

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        if context.get("message") == "socket.accept() out of system resource":
            out_of_files.note()
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    return lambda: loop.set_exception_handler(previous)

"""Script calls that many tasks make at once, sent to Redis together as one pipeline.

At a peak every Stripe delivery records its gift with one script call, and redis-py's own cost
per call (a pooled connection, a timeout task, a send and a read) was the largest part of what
a delivery cost the bot. The calls made during one turn of the event loop go out together at
the next; each caller gets the reply to its own call, which Redis sends only once the batch's
writes are on disk (appendfsync always), so a reply still means durable. Nothing waits to fill
a batch and batches do not wait for each other: a call costs no more time than alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

Call = tuple[AsyncScript, Sequence[str], Sequence[str | int], "asyncio.Future[Any]"]


class ScriptBatch:
    """`await batch(script, keys, args)` answers as `await script(keys, args)` would."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._waiting: list[Call] = []
        # Held until done: the event loop keeps only a weak reference to a running task.
        self._sending: set[asyncio.Task[None]] = set()

    async def __call__(
        self, script: AsyncScript, keys: Sequence[str], args: Sequence[str | int]
    ) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._send_waiting)
        self._waiting.append((script, keys, args, future))
        return await future

    def _send_waiting(self) -> None:
        calls, self._waiting = self._waiting, []
        task = asyncio.create_task(self._send(calls))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, calls: list[Call]) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for script, keys, args, _ in calls:
                    pipe.evalsha(script.sha, len(keys), *keys, *args)
                replies = await pipe.execute(raise_on_error=False)
        except asyncio.CancelledError:
            for *_, future in calls:
                future.cancel()
            raise
        except Exception as exc:
            # Every caller sees the error, as if it had called alone.
            replies = [exc] * len(calls)
        again = []
        for call, reply in zip(calls, replies, strict=True):
            if isinstance(reply, NoScriptError):
                again.append(call)
            else:
                _settle(call[3], reply)
        # Redis restarted and lost its scripts: these calls ran nothing, and run now, each
        # through the script's own call, which loads it again.
        for script, keys, args, future in again:
            try:
                reply = await script(keys=keys, args=args)
            except Exception as exc:
                reply = exc
            _settle(future, reply)


def _settle(future: asyncio.Future[Any], reply: Any) -> None:
    # A caller cancelled meanwhile (its process stopping) has nobody left to answer.
    if future.done():
        return
    if isinstance(reply, Exception):
        future.set_exception(reply)
    else:
        future.set_result(reply)

"""Many small calls to Redis made at once by many tasks, sent as one call.

A broadcast's senders each mark a message in flight before sending it and record its outcome
after. One script call per message cost more CPU (and Redis time) than the message itself; the
same scripts take a list, and the calls that arrive while one is on its way go together in the
next. Nothing waits to fill a batch: an idle batcher sends the first call at once.

Used by the broadcast senders' steps and the webhook's update log (claims, renewals, done marks).
bot/storage/script_batch.py is its sibling for script calls that cannot share one script: each
call keeps its own reply or error, and batches do not wait for each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 256


class CallBatcher(Generic[Item, Result]):
    """`await batcher(item)` returns `call(items)[i]` for the batch the item went out in."""

    def __init__(
        self, call: Callable[[list[Item]], Awaitable[list[Result]]], max_batch: int = MAX_BATCH
    ) -> None:
        self._call = call
        self._max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._runner is None:
            self._runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                try:
                    results = await self._call([item for item, _ in batch])
                except Exception as exc:
                    # Every caller in the batch sees the error, as if it had called alone.
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                except asyncio.CancelledError:
                    self._waiting[:0] = batch
                    raise
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        except asyncio.CancelledError:
            # Nobody is left to send what waits: its callers stop too.
            for _, future in self._waiting:
                future.cancel()
            self._waiting.clear()
            raise
        finally:
            self._runner = None

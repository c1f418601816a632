"""Many small calls to Redis made at once by many tasks, sent as a few calls.

A broadcast's senders each mark a message in flight before sending it and record its outcome
after. One script call per message cost more CPU (and Redis time) than the message itself; the
same scripts take a list, and the calls made in one turn of the event loop go together. Nothing
waits to fill a batch: the first call goes out on the next turn.

Several batches are on their way at once. With one at a time, a sender waited for the batch
ahead of its own (each waits for Redis's fsync) and then for its own, and the senders moved in
waves: the round trip to Redis, not the CPU, set the pace of a broadcast. Each caller still
waits for its own batch, so the calls one task makes one after another reach Redis in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 256
# While a batch is on its way, the next leaves once this many calls wait for it (or when one
# comes back): a batch per turn of the event loop would cost a script call of its own (CPU in
# the bot and in Redis) for every few messages.
MIN_FOLLOWING = 8
MAX_IN_FLIGHT = 8


class CallBatcher(Generic[Item, Result]):
    """`await batcher(item)` returns `call(items)[i]` for the batch the item went out in."""

    def __init__(
        self, call: Callable[[list[Item]], Awaitable[list[Result]]],
        max_batch: int = MAX_BATCH, max_in_flight: int = MAX_IN_FLIGHT,
        min_following: int = MIN_FOLLOWING,
    ) -> None:
        self._call = call
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._min_following = min_following
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._runners: set[asyncio.Task[None]] = set()
        # A runner started but not yet running: it takes every call made until it runs.
        self._gathering: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._gathering is None and self._another_batch_may_leave():
            runner = asyncio.create_task(self._run())
            self._gathering = runner
            self._runners.add(runner)
            runner.add_done_callback(self._ended)
        return await future

    def _another_batch_may_leave(self) -> bool:
        if not self._runners:
            return True
        return (
            len(self._runners) < self._max_in_flight
            and len(self._waiting) >= self._min_following
        )

    async def _run(self) -> None:
        self._gathering = None
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
                    # The call may have reached Redis: never sent again, its callers stop too.
                    for _, future in batch:
                        future.cancel()
                    raise
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            # At once, not in a done callback a turn later: a call made in between would
            # count this runner as busy and wait for nobody.
            runner = asyncio.current_task()
            if runner is not None:
                self._runners.discard(runner)

    def _ended(self, runner: asyncio.Task[None]) -> None:
        self._runners.discard(runner)
        if self._gathering is runner:
            self._gathering = None
        if runner.cancelled() and not self._runners:
            # Nobody is left to send what waits: its callers stop too.
            for _, future in self._waiting:
                future.cancel()
            self._waiting.clear()

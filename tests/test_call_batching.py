"""Calls made together go out together, each caller gets its own answer or the batch's error."""

from __future__ import annotations

import asyncio

import pytest

from bot.storage.call_batching import CallBatcher


class Squares:
    """A batch call that records the batches it was given."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on

    async def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        await asyncio.sleep(0.01)
        if self.fail_on in items:
            raise ValueError(f"refused {self.fail_on}")
        return [item * item for item in items]


async def test_concurrent_callers_share_one_call_and_get_their_own_answer() -> None:
    squares = Squares()
    batcher = CallBatcher(squares)
    answers = await asyncio.gather(*(batcher(n) for n in range(50)))
    assert answers == [n * n for n in range(50)]
    # Calls made in the same turn of the event loop go out in one batch.
    assert squares.batches == [list(range(50))]


async def test_calls_made_while_one_is_on_its_way_go_together_in_the_next() -> None:
    squares = Squares()
    batcher = CallBatcher(squares)
    first = asyncio.create_task(batcher(7))
    await asyncio.sleep(0.001)
    later = [asyncio.create_task(batcher(n)) for n in (8, 9)]
    assert [await first, *[await task for task in later]] == [49, 64, 81]
    assert squares.batches == [[7], [8, 9]]


async def test_batches_stay_under_the_limit() -> None:
    squares = Squares()
    batcher = CallBatcher(squares, max_batch=10)
    answers = await asyncio.gather(*(batcher(n) for n in range(35)))
    assert answers == [n * n for n in range(35)]
    assert [len(batch) for batch in squares.batches] == [10, 10, 10, 5]


async def test_an_error_reaches_every_caller_of_that_batch_only() -> None:
    squares = Squares(fail_on=3)
    batcher = CallBatcher(squares, max_batch=4)
    results = await asyncio.gather(*(batcher(n) for n in range(9)), return_exceptions=True)
    # Batches: [0, 1, 2, 3] (refused), [4, 5, 6, 7], [8].
    assert all(isinstance(r, ValueError) for r in results[:4])
    assert results[4:] == [16, 25, 36, 49, 64]
    assert await batcher(2) == 4


async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    squares = Squares()
    batcher = CallBatcher(squares)
    first = asyncio.create_task(batcher(1))
    others = [asyncio.create_task(batcher(n)) for n in (2, 3)]
    await asyncio.sleep(0)
    others[0].cancel()
    with pytest.raises(asyncio.CancelledError):
        await others[0]
    assert await first == 1
    assert await others[1] == 9

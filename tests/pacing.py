"""Counting paced sends at the fake Bot API's clock, which runs in the test process."""

from __future__ import annotations

# The fake notes a message when its handler runs on the test's event loop; with both cores busy
# (CI runs two workers beside the bot processes) one note came 43 ms late, so a window of sends
# 1,013 ms apart (the schedule's 1 s plus its 13 ms margin) read as holding one more than the
# rate. Windows here are shorter by this much, and the span of a whole run, where a late note
# matters only at its two ends, checks the rate closely. The schedule's own margin at the
# receiver is measured by the bench, against a fake of its own in another process.
RECEIVER_JITTER = 0.15


def busiest_second(times: list[float]) -> int:
    """The most sends noted within one second, less the receiver's jitter."""
    ordered = sorted(times)
    window = 1.0 - RECEIVER_JITTER
    return max(
        (sum(1 for t in ordered[i:] if t < start + window) for i, start in enumerate(ordered)),
        default=0,
    )


def shortest_paced_span(count: int, rate: float) -> float:
    """How long `count` sends at `rate` a second take at least, as the receiver notes them."""
    return (count - 1) / rate - RECEIVER_JITTER

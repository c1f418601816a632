"""The time the bot's schedules read; tests move it forward instead of waiting."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock seconds since the epoch, plus an offset only tests ever change."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

"""What both fake servers share: `async with fake:` starts it and stops it."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Served:
    """A server with start() and stop(), usable as an async context manager."""

    async def start(self) -> None:
        """Start serving."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop serving."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()

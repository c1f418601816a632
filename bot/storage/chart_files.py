"""The file_id Telegram gave each progress chart, so every process sends it by id."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.storage import keys
from bot.storage.connection import as_text

# A chart's key holds its day, so after two days nobody can ask for it again.
CHART_FILE_TTL_SECONDS = 2 * 24 * 3600


class ChartFiles:
    """One Redis string per chart fingerprint; the last upload wins, any of them is valid."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def file_id(self, fingerprint: str) -> str | None:
        return as_text(await self._redis.get(keys.chart_file_id(fingerprint)))

    async def remember(self, fingerprint: str, file_id: str) -> None:
        await self._redis.set(
            keys.chart_file_id(fingerprint), file_id, ex=CHART_FILE_TTL_SECONDS
        )

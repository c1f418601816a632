"""Logging set-up: key=value lines, secrets redacted even from third-party messages."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

# httpx logs every request URL at INFO, and Telegram URLs carry the bot token.
_CHATTY_LOGGERS = ("httpx", "httpcore", "telegram.ext.Updater", "stripe", "aiohttp.access")


class RedactSecrets(logging.Filter):
    """Replaces any configured secret in a formatted record with a placeholder."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            for secret in self._secrets:
                message = message.replace(secret, "[redacted]")
            record.msg, record.args = message, None
        return True


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """Send key=value lines to stderr at `level`, with secrets redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s")
    )
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))

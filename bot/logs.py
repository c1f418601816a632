"""Logging set-up: key=value or JSON lines, secrets redacted from messages and tracebacks."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable

# httpx logs every request URL at INFO, and Telegram URLs carry the bot token.
_CHATTY_LOGGERS = ("httpx", "httpcore", "telegram.ext.Updater", "stripe", "aiohttp.access")
# At DEBUG these libraries log request parameters: message texts, names, amounts. Even with
# LOG_LEVEL=DEBUG they stay at INFO; our own loggers go to DEBUG.
_PARAMETER_LOGGERS = ("telegram", "redis", "aiohttp", "asyncio", "matplotlib")
# Routine at INFO: APScheduler logs two lines per job run (the feed job's every 20 s, about
# 8,600 lines a day). Shown only when LOG_LEVEL=DEBUG, at INFO like the loggers above.
_ROUTINE_LOGGERS = ("apscheduler",)
LOG_FORMATS = ("keyvalue", "json")


class Redactor:
    """Replaces every configured secret in a text with a placeholder."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted((s for s in secrets if s), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "[redacted]")
        return text


class KeyValueFormatter(logging.Formatter):
    """ts=… level=… logger=… msg=… with secrets removed, traceback included."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__("ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s")
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors; secrets removed from every field."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record), "level": record.levelname, "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self._redact(json.dumps(entry, ensure_ascii=False))


def configure_logging(
    level: str, secrets: Iterable[str] = (), log_format: str = "keyvalue"
) -> Redactor:
    """Send lines to stderr at `level`; returns the redactor for output outside logging."""
    redact = Redactor(secrets)
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter(redact) if log_format == "json" else KeyValueFormatter(redact)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in _PARAMETER_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    routine = logging.INFO if root.level <= logging.DEBUG else max(logging.WARNING, root.level)
    for name in _ROUTINE_LOGGERS:
        logging.getLogger(name).setLevel(routine)
    return redact

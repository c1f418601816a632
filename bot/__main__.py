"""`python -m bot`: load settings, refuse bad ones with one line each, run until stopped."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging

EXIT_BAD_CONFIG = 2
EXIT_FAILURE = 1
USAGE = "usage: python -m bot [check]"


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m bot` (run) and `python -m bot check` (preflight)."""
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["check"]):
        print(USAGE, file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    redact = configure_logging(
        settings.logging.level, secrets=secrets_of(settings), log_format=settings.logging.format
    )
    if args == ["check"]:
        from bot.preflight import run_checks

        passed = asyncio.run(run_checks(settings, lambda line: print(redact(line))))
        return 0 if passed else EXIT_FAILURE
    from bot.app import run_until_stopped  # imported late: the bad-config path stays instant
    from bot.service_errors import StartupError, one_line

    try:
        asyncio.run(run_until_stopped(settings))
    except Exception as exc:
        # Before the line, so the line is the last thing written even at LOG_LEVEL=DEBUG.
        logging.getLogger("bot").debug("start-up failure", exc_info=exc)
        reason = str(exc) if isinstance(exc, StartupError) else (
            f"{type(exc).__name__}: {one_line(str(exc))}"
        )
        # Libraries put secrets in messages (PTB quotes a rejected token): redact before print.
        print(f"start-up failed: {redact(reason)}", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """Every secret the settings hold, for the redactor."""
    redis_url = urlsplit(settings.storage.redis_url or "")
    redis_passwords = [value for name, value in parse_qsl(redis_url.query) if name == "password"]
    if redis_url.password:
        redis_passwords += [redis_url.password, unquote(redis_url.password)]
    return (
        settings.telegram.token,
        settings.stripe.secret_key,
        settings.stripe.webhook_secret,
        settings.telegram.webhook_secret or "",
        settings.http.metrics_token or "",
        *redis_passwords,
    )


if __name__ == "__main__":
    sys.exit(main())

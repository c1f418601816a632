"""`python -m bot`: load settings, refuse bad ones with one line each, run until stopped."""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from bot.config import ConfigError, load_settings
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
    if args == ["check"]:
        from bot.preflight import run_checks

        passed = asyncio.run(run_checks(settings, print))
        return 0 if passed else EXIT_FAILURE
    redact = configure_logging(
        settings.logging.level,
        secrets=(
            settings.telegram.token,
            settings.stripe.secret_key,
            settings.stripe.webhook_secret,
            settings.telegram.webhook_secret or "",
        ),
        log_format=settings.logging.format,
    )
    from bot.app import run_until_stopped  # imported late: the bad-config path stays instant

    try:
        asyncio.run(run_until_stopped(settings))
    except Exception as exc:
        # Libraries put secrets in messages (PTB quotes a rejected token): redact before print.
        print(f"start-up failed: {type(exc).__name__}: {redact(str(exc))}", file=sys.stderr)
        logging.getLogger("bot").debug("start-up failure", exc_info=exc)
        return EXIT_FAILURE
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m bot`: load settings, refuse bad ones with one line each, run until stopped."""

from __future__ import annotations

import asyncio
import os
import sys

from bot.config import ConfigError, load_settings
from bot.logs import configure_logging

EXIT_BAD_CONFIG = 2


def main() -> int:
    """Entry point of `python -m bot` and the `campaign-bot` script."""
    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    configure_logging(
        settings.log_level,
        secrets=(
            settings.telegram_token,
            settings.stripe_secret_key,
            settings.stripe_webhook_secret,
            settings.telegram_webhook_secret or "",
        ),
    )
    from bot.app import run_until_stopped  # imported late: the bad-config path stays instant

    asyncio.run(run_until_stopped(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())

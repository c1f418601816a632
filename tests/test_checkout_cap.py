"""A cap on Checkout Sessions for everyone together: past it, a calm answer and no session."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator

import pytest

from bot.context import Services
from tests.conftest import Harness, running_bot
from tests.donation_steps import normalise, open_donate_menu, pledge, wait_for_link
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI

BUSY = {
    "en": "Many people are giving right now. Please try again in a minute.",
    "fr": "Beaucoup de personnes donnent en ce moment. Merci de réessayer dans une minute.",
}
TEN = {"en": "€10", "fr": "10\xa0€"}


@contextlib.asynccontextmanager
async def capped_bot(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe, per_minute: int
) -> AsyncIterator[tuple[Harness, Services]]:
    """The bot with CHECKOUT_SESSIONS_PER_MINUTE=`per_minute`, and its services."""
    env = {**bot_env, "CHECKOUT_SESSIONS_PER_MINUTE": str(per_minute)}
    async with running_bot(env, telegram, stripe_server) as harness:
        assert harness.bot.application is not None
        services = harness.bot.application.bot_data.services
        assert services is not None
        # Half a second into a minute of the bot's clock, so no minute ends during the taps.
        services.clock.offset = -time.time() % 60 + 0.5
        yield harness, services


async def test_past_the_cap_donors_are_asked_to_try_again_in_a_minute_in_their_language(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    async with capped_bot(bot_env, telegram, stripe_server, 3) as (harness, services):
        for user_id, language in ((5101, "en"), (5102, "fr"), (5103, "en")):
            await pledge(harness, harness.user(user_id, language), TEN[language])
        assert len(stripe_server.sessions) == 3

        refused = {}
        for user_id, language in ((5104, "fr"), (5105, "en")):
            user = harness.user(user_id, language)
            menu = await open_donate_menu(harness, user)
            mark = telegram.mark()
            user.tap(menu, TEN[language])
            refused[language] = await telegram.wait_for_message(user_id, after=mark)
            assert refused[language].rendered_text == BUSY[language]
        assert len(stripe_server.sessions) == 3
        # One line for the operator, however many donors were turned away.
        assert [r.getMessage() for r in caplog.records if "cap reached" in r.getMessage()] == [
            "checkout sessions cap reached per_minute=3: donors are asked to try again in a "
            "minute (CHECKOUT_SESSIONS_PER_MINUTE)"
        ]

        services.clock.offset += 60
        user = harness.user(5104, "fr")
        mark = telegram.mark()
        user.tap(refused["fr"], "Faire un don")
        menu = await telegram.wait_for_message(5104, after=mark)
        mark = telegram.mark()
        user.tap(menu, TEN["fr"])
        link, _ = await wait_for_link(harness, user, mark)
        assert "Donner 10" in normalise(link.buttons[0][0].text)
        assert len(stripe_server.sessions) == 4

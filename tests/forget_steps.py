"""Steps of the /forget tests: a gift with a shown first name and words, then /forget."""

from __future__ import annotations

from tests.conftest import Harness
from tests.donation_steps import pay, pledge, wait_for_thanks
from tests.fakes.telegram import ApiCall, FakeUser


async def give_with_name_and_words(harness: Harness, user: FakeUser, words: str) -> None:
    """A €20 gift, then the donor shows their first name and leaves words of support."""
    _, session = await pledge(harness, user, "€20")
    mark = harness.telegram.mark()
    await pay(harness, session)
    thanks = await wait_for_thanks(harness, user, mark)
    mark = harness.telegram.mark()
    user.tap(thanks, "Show my first name")
    await harness.telegram.wait_for(lambda call: call.method == "answerCallbackQuery", after=mark)
    user.tap(thanks, "word of support")
    await harness.telegram.wait_for_message(user.id, after=mark)
    mark = harness.telegram.mark()
    user.send(words)
    await harness.telegram.wait_for_message(user.id, after=mark)


async def forget(harness: Harness, user: FakeUser, yes: str = "Yes") -> ApiCall:
    """/forget, confirmed; returns the bot's answer (the confirmation, edited)."""
    mark = harness.telegram.mark()
    user.send("/forget")
    confirm = await harness.telegram.wait_for_message(user.id, after=mark)
    user.tap(confirm, yes)
    return await harness.telegram.wait_for_edit(user.id, after=mark)

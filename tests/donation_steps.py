"""Steps a donor takes in tests: ask for a link, then let the fake Stripe complete the payment."""

from __future__ import annotations

from typing import Any

from tests.conftest import Harness
from tests.fakes.telegram import ApiCall, FakeUser


def normalise(text: str | None) -> str:
    """French formatting uses narrow and no-break spaces; compare with plain ones."""
    return (text or "").replace("\u202f", " ").replace("\xa0", " ")


async def open_donate_menu(harness: Harness, user: FakeUser) -> ApiCall:
    mark = harness.telegram.mark()
    user.send("/donate")
    return await harness.telegram.wait_for_message(user.id, after=mark)


async def wait_for_link(
    harness: Harness, user: FakeUser, mark: int, timeout: float = 5.0
) -> tuple[ApiCall, str]:
    """The message carrying the Checkout button, and the session id behind its URL."""
    message = await harness.telegram.wait_for(
        lambda call: call.chat_id == user.id and any(
            button.url for row in call.buttons for button in row
        ),
        after=mark, timeout=timeout,
    )
    url = next(button.url for row in message.buttons for button in row if button.url)
    session_id = next(sid for sid, session in harness.stripe.sessions.items()
                      if session["url"] == url)
    return message, session_id


async def pledge(
    harness: Harness, user: FakeUser, label: str, *, monthly: bool = False, timeout: float = 5.0
) -> tuple[ApiCall, str]:
    """Open /donate, maybe switch to monthly, tap a preset amount; returns link and session."""
    menu = await open_donate_menu(harness, user)
    if monthly:
        mark = harness.telegram.mark()
        labels = [button.text for row in menu.buttons for button in row]
        user.tap(menu, "Mensuel" if any("Ponctuel" in label for label in labels) else "Monthly")
        menu = await harness.telegram.wait_for(
            lambda call: call.method == "editMessageText" and call.chat_id == user.id,
            after=mark,
        )
    mark = harness.telegram.mark()
    user.tap(menu, label)
    return await wait_for_link(harness, user, mark, timeout)


async def pay(harness: Harness, session_id: str) -> list[dict[str, Any]]:
    """The donor pays by card; Stripe's events reach the webhook and are acknowledged."""
    events = harness.stripe.complete_session(session_id)
    await harness.deliver(events)
    return events


async def wait_for_thanks(harness: Harness, user: FakeUser, mark: int) -> ApiCall:
    return await harness.telegram.wait_for(
        lambda call: call.ok and call.chat_id == user.id and "💛" in (call.rendered_text or ""),
        after=mark,
    )

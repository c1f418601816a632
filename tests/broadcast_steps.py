"""Helpers for broadcast tests: subscribers in bulk, the organizer's flow, delivery counts."""

from __future__ import annotations

import asyncio
from collections import Counter

from redis.asyncio import Redis

from bot.broadcasts.subscribers import Subscribers
from bot.storage.connection import connect
from tests.conftest import ADMIN_ID, Harness
from tests.fakes.telegram import ApiCall, FakeBotAPI

BROADCAST_METHODS = ("sendMessage", "sendPhoto")


async def add_subscribers(redis_url: str, locales: dict[int, str]) -> None:
    """Subscribe many chats at once, through the same store the bot uses."""
    redis: Redis = connect(redis_url)
    try:
        subscribers = Subscribers(redis)
        chats = list(locales.items())
        # Fifty round trips in flight at a time: one by one, 10,000 took four seconds.
        for start in range(0, len(chats), 50):
            await asyncio.gather(
                *(subscribers.subscribe(chat, locale) for chat, locale in chats[start:start + 50])
            )
    finally:
        await redis.aclose()


def deliveries(telegram: FakeBotAPI, marker: str, after: int = 0) -> Counter[int]:
    """How many successful broadcast messages containing `marker` each chat received."""
    counts: Counter[int] = Counter()
    for call in telegram.calls[after:]:
        if call.method in BROADCAST_METHODS and call.ok and marker in (call.rendered_text or ""):
            counts[call.chat_id or 0] += 1
    return counts


async def compose(
    harness: Harness, english: str, french: str | None = None, *, photo: bool = False
) -> ApiCall:
    """The organizer writes a broadcast; returns the preview summary with its buttons."""
    admin = harness.user(ADMIN_ID, "en")
    telegram = harness.telegram
    mark = telegram.mark()
    admin.send("/broadcast")
    await telegram.wait_for_message(ADMIN_ID, after=mark)
    mark = telegram.mark()
    if photo:
        admin.send_photo(caption=english)
    else:
        admin.send(english)
    ask_french = await telegram.wait_for_message(ADMIN_ID, after=mark)
    mark = telegram.mark()
    if french is None:
        admin.tap(ask_french, "Same text")
    else:
        admin.send(french)
    return await telegram.wait_for(
        lambda call: call.chat_id == ADMIN_ID and "Ready to send" in (call.rendered_text or ""),
        after=mark,
    )


async def send_now(harness: Harness, summary: ApiCall) -> ApiCall:
    """Confirm; returns the final delivery report (the edited progress message)."""
    telegram = harness.telegram
    mark = telegram.mark()
    harness.user(ADMIN_ID, "en").tap(summary, "Send now")
    return await telegram.wait_for(
        lambda call: call.method == "editMessageText" and call.chat_id == ADMIN_ID
        and "is complete" in (call.rendered_text or ""),
        after=mark, timeout=30,
    )

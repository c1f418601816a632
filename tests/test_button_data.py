"""Buttons as a tampered client sends them, and the locale each user has stored."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from telegram.ext import CallbackQueryHandler

from bot.storage import keys
from bot.storage.update_state import Counts
from bot.storage.users import UserStore
from tests.conftest import Harness
from tests.keyspace import keyspace
from tests.test_callback_data import FORMATS


async def locale_stored(harness: Harness, user_id: int) -> str | None:
    stored = (await keyspace(harness.env["REDIS_URL"])).get(keys.user(user_id))
    assert isinstance(stored, list)
    return next((value.decode() for field, value in stored if field == b"locale"), None)


async def test_language_data_with_a_trailing_newline_changes_nothing(harness: Harness) -> None:
    user = harness.user(13_001, "en")
    mark = harness.telegram.mark()
    user.send("/subscribe")
    await harness.telegram.wait_for_message(13_001, after=mark)
    user.send("/language")
    prompt = await harness.telegram.wait_for(
        lambda call: "Choose" in (call.rendered_text or ""), after=mark
    )
    mark = harness.telegram.mark()
    user.tap_data(prompt.message_id or 0, "language:fr\n")
    answer = await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery", after=mark
    )
    assert "no longer valid" in str(answer.params.get("text"))
    assert await locale_stored(harness, 13_001) == "en"
    space = await keyspace(harness.env["REDIS_URL"])
    assert [key for key in space if "\n" in key] == []
    followers = space[keys.subscribers("en")]
    assert isinstance(followers, list)
    assert [member for member, _ in followers] == [b"13001"]


async def test_every_button_handler_matches_whole_data_from_a_declared_format(
    harness: Harness,
) -> None:
    assert harness.bot.application is not None
    declared = {callback.pattern for callback in FORMATS.values()}
    patterns = [
        handler.pattern
        for group in harness.bot.application.handlers.values()
        for handler in group
        if isinstance(handler, CallbackQueryHandler) and handler.pattern is not None
    ]
    assert len(patterns) >= 20
    assert [pattern for pattern in patterns if pattern not in declared] == []


async def test_the_store_refuses_a_locale_the_bot_does_not_speak(harness: Harness) -> None:
    assert harness.bot.application is not None
    services = harness.bot.application.bot_data.services
    assert services is not None
    users: UserStore = services.users
    for forged in ("fr\n", "de", "", "FR"):
        with pytest.raises(ValueError, match="locale"):
            await users.set_locale(13_002, forged, chosen=True)
        with pytest.raises(ValueError, match="locale"):
            await users.read_update_state(13_002, forged, Counts(None, 20, None), None)
        with pytest.raises(ValueError, match="locale"):
            await services.subscribers.subscribe(13_002, forged)
    await users.set_locale(13_002, "fr", chosen=True)
    assert await users.chosen_locale(13_002) == "fr"


async def test_a_locale_stored_before_validation_existed_is_replaced_by_a_supported_one(
    harness: Harness,
) -> None:
    redis = Redis.from_url(harness.env["REDIS_URL"])
    await redis.hset(keys.user(13_003), "locale", "fr\n")
    await redis.aclose()
    user = harness.user(13_003, "fr-FR")
    mark = harness.telegram.mark()
    user.send("/help")
    reply = await harness.telegram.wait_for_message(13_003, after=mark)
    assert "ce que je sais faire" in (reply.rendered_text or "")
    assert await locale_stored(harness, 13_003) == "fr"


@pytest.mark.parametrize("data", [None, ""])
async def test_a_button_without_data_is_answered_and_ignored(
    harness: Harness, data: str | None
) -> None:
    user = harness.user(13_004, "en")
    mark = harness.telegram.mark()
    user.send("/start")
    welcome = await harness.telegram.wait_for_message(13_004, after=mark)
    mark = harness.telegram.mark()
    user.tap_data(welcome.message_id or 0, data)
    answer = await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery", after=mark
    )
    assert answer.ok
    assert not answer.params.get("text")
    user.send("/help")
    reply = await harness.telegram.wait_for_message(13_004, after=mark)
    assert "what I can do" in (reply.rendered_text or ""), harness.telegram.summary(mark)
    assert harness.telegram.sent_to(13_004)[-1].index == reply.index

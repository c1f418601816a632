"""The fake Bot API answers as the Bot API documents: {"ok", "result"} or {"ok": false,
"error_code", "description", "parameters"}, texts limited after entity parsing, Telegram's HTML."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TimedOut

from tests.fakes.telegram import FAKE_JPEG, TEST_TOKEN, FakeBotAPI

CHAT = 7_700


async def call(
    telegram: FakeBotAPI, method: str, token: str = TEST_TOKEN, **params: Any
) -> tuple[int, dict[str, Any]]:
    """POST a method as PTB does (form fields, JSON for anything not a string)."""
    form = {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in params.items()
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{telegram.url}/bot{token}/{method}", data=form) as response,
    ):
        return response.status, await response.json()


@pytest.fixture
async def bot(telegram: FakeBotAPI) -> AsyncIterator[Bot]:
    """PTB's own Bot pointed at the fake."""
    async with Bot(TEST_TOKEN, base_url=telegram.base_url) as client:
        yield client


def failure(code: int, description: str, **parameters: int) -> dict[str, Any]:
    """An error answer as the Bot API documents it."""
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def bad_request(description: str) -> dict[str, Any]:
    return failure(400, f"Bad Request: {description}")


async def test_a_success_is_ok_true_with_the_result(telegram: FakeBotAPI) -> None:
    status, body = await call(telegram, "sendMessage", chat_id=CHAT, text="hello")
    assert status == 200
    assert body["ok"] is True
    message = body["result"]
    assert (message["chat"]["id"], message["text"], message["from"]["is_bot"]) == (
        CHAT, "hello", True,
    )  # fmt: skip


async def test_flood_control_is_429_with_parameters_retry_after(
    telegram: FakeBotAPI, bot: Bot
) -> None:
    telegram.fail_next("sendMessage", status=429, retry_after=3, count=2)
    status, body = await call(telegram, "sendMessage", chat_id=CHAT, text="hi")
    assert (status, body) == (
        429, failure(429, "Too Many Requests: retry after 3", retry_after=3),
    )  # fmt: skip
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(CHAT, "hi")
    assert raised.value.retry_after == timedelta(seconds=3)


async def test_a_blocked_user_is_403_forbidden(telegram: FakeBotAPI, bot: Bot) -> None:
    telegram.user(CHAT).block_bot()
    status, body = await call(telegram, "sendMessage", chat_id=CHAT, text="hi")
    assert (status, body) == (403, failure(403, "Forbidden: bot was blocked by the user"))
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_photo(CHAT, FAKE_JPEG)


async def test_the_4096_limit_counts_the_text_after_entity_parsing(telegram: FakeBotAPI) -> None:
    longest = "<b>" + "x" * 4095 + "</b>&amp;"
    status, body = await call(
        telegram, "sendMessage", chat_id=CHAT, text=longest, parse_mode="HTML"
    )
    assert status == 200
    assert body["result"]["text"] == "x" * 4095 + "&"
    assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 4095}]
    status, body = await call(
        telegram, "sendMessage", chat_id=CHAT, text="<i>" + "x" * 4097 + "</i>", parse_mode="HTML"
    )
    assert (status, body) == (400, bad_request("message is too long"))


async def test_the_1024_caption_limit_counts_after_entity_parsing(
    telegram: FakeBotAPI, bot: Bot
) -> None:
    sent = await bot.send_photo(
        CHAT, FAKE_JPEG, caption="<i>" + "y" * 1024 + "</i>", parse_mode="HTML"
    )
    assert sent.caption == "y" * 1024
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(CHAT, sent.photo[-1].file_id, caption="y" * 1025)
    assert telegram.calls[-1].error == bad_request("message caption is too long")


async def test_html_entities_nesting_and_utf16_offsets(telegram: FakeBotAPI) -> None:
    text = (
        '<b>a &amp; <i>b</i></b> &lt;3 &#128512; <a href="https://x.org/?a=1&amp;b=2">l</a> &copy;'
    )
    status, body = await call(telegram, "sendMessage", chat_id=CHAT, text=text, parse_mode="HTML")
    assert status == 200
    # Named entities beyond &lt; &gt; &amp; &quot; stay literal; the emoji is 2 UTF-16 units.
    assert body["result"]["text"] == "a & b <3 😀 l &copy;"
    assert body["result"]["entities"] == [
        {"type": "bold", "offset": 0, "length": 5},
        {"type": "italic", "offset": 4, "length": 1},
        {"type": "text_link", "offset": 12, "length": 1, "url": "https://x.org/?a=1&b=2"},
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("é <marquee>", 'Unsupported start tag "marquee" at byte offset 3'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b x", "Unclosed start tag at byte offset 0"),
        ("<span>s</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_html_telegram_cannot_parse_is_refused_in_its_words(
    telegram: FakeBotAPI, text: str, error: str
) -> None:
    status, body = await call(telegram, "sendMessage", chat_id=CHAT, text=text, parse_mode="HTML")
    assert (status, body) == (400, bad_request(f"can't parse entities: {error}"))


async def test_without_parse_mode_markup_is_plain_text(telegram: FakeBotAPI) -> None:
    _, body = await call(telegram, "sendMessage", chat_id=CHAT, text="<b>x</b> &amp;")
    assert body["result"]["text"] == "<b>x</b> &amp;"
    assert "entities" not in body["result"]


async def test_parse_modes_other_than_html_are_refused(telegram: FakeBotAPI) -> None:
    status, body = await call(
        telegram, "sendMessage", chat_id=CHAT, text="*x*", parse_mode="MarkdownV2"
    )
    assert status == 400
    assert body["description"].startswith("Bad Request: unsupported parse_mode MarkdownV2")


async def test_unknown_methods_are_404_and_a_wrong_token_401(telegram: FakeBotAPI) -> None:
    assert await call(telegram, "getChat", chat_id=CHAT) == (404, failure(404, "Not Found"))
    assert await call(telegram, "getMe", token="1:wrong") == (401, failure(401, "Unauthorized"))
    status, body = await call(telegram, "GETME")
    assert (status, body["result"]["username"]) == (200, "fake_campaign_bot")


async def test_a_late_answer_still_delivers_the_message(telegram: FakeBotAPI, bot: Bot) -> None:
    telegram.delay_next("sendMessage", seconds=0.5, chat_id=CHAT)
    mark = telegram.mark()
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "slow", read_timeout=0.1)
    delivered = await telegram.wait_for_message(CHAT, after=mark, timeout=2)
    assert delivered.rendered_text == "slow"


async def test_callback_answers_need_an_id_an_update_carried(telegram: FakeBotAPI) -> None:
    user = telegram.user(CHAT)
    _, sent = await call(
        telegram, "sendMessage", chat_id=CHAT, text="pick",
        reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    )  # fmt: skip
    update_id = user.tap(telegram.calls[-1], "A")
    query_id = telegram.pushed[update_id]["callback_query"]["id"]
    assert await call(telegram, "answerCallbackQuery", callback_query_id=query_id) == (
        200, {"ok": True, "result": True},
    )  # fmt: skip
    assert await call(telegram, "answerCallbackQuery", callback_query_id="42") == (
        400, bad_request("query is too old and response timeout expired or query ID is invalid"),
    )  # fmt: skip
    assert sent["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"


async def test_buttons_and_edits_are_refused_as_telegram_refuses_them(
    telegram: FakeBotAPI,
) -> None:
    too_long = {"inline_keyboard": [[{"text": "A", "callback_data": "é" * 33}]]}
    status, body = await call(
        telegram, "sendMessage", chat_id=CHAT, text="x", reply_markup=too_long
    )
    assert (status, body) == (400, bad_request("BUTTON_DATA_INVALID"))
    _, sent = await call(
        telegram, "sendMessage", chat_id=CHAT, text="<b>same</b>", parse_mode="HTML"
    )
    message_id = sent["result"]["message_id"]
    status, body = await call(
        telegram, "editMessageText", chat_id=CHAT, message_id=message_id,
        text="<b>same</b>", parse_mode="HTML",
    )  # fmt: skip
    assert status == 400
    assert body["description"].startswith("Bad Request: message is not modified")
    status, body = await call(
        telegram, "editMessageText", chat_id=CHAT, message_id=message_id, text="new"
    )
    assert (status, body["result"]["text"], "edit_date" in body["result"]) == (200, "new", True)


async def test_get_updates_confirms_by_offset_and_conflicts_with_a_webhook(
    telegram: FakeBotAPI, bot: Bot
) -> None:
    user = telegram.user(CHAT, language_code="fr")
    first, second = user.send("/start"), user.send("bonjour")
    updates = await bot.get_updates(timeout=1)
    assert [update.update_id for update in updates] == [first, second]
    assert updates[0].message is not None and updates[0].message.text == "/start"
    assert [update.update_id for update in await bot.get_updates(offset=second)] == [second]
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()
    await bot.set_webhook("https://example.org/hook", secret_token="s3cret")
    status, body = await call(telegram, "getUpdates")
    assert status == 409
    assert body["description"].startswith("Conflict: can't use getUpdates method while webhook")
    assert (telegram.webhook_url, telegram.webhook_secret) == (
        "https://example.org/hook",
        "s3cret",
    )


async def test_a_new_long_poll_ends_the_previous_one_with_409(telegram: FakeBotAPI) -> None:
    first = asyncio.ensure_future(call(telegram, "getUpdates", timeout=5))
    await telegram.wait_for(lambda c: c.method == "getUpdates")
    second = asyncio.ensure_future(call(telegram, "getUpdates", timeout=0))
    status, body = await first
    assert (status, body["error_code"]) == (409, 409)
    assert body["description"].startswith("Conflict: terminated by other getUpdates request")
    assert await second == (200, {"ok": True, "result": []})


async def test_profile_settings_are_kept_per_language(telegram: FakeBotAPI, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Commencer")], language_code="fr")
    await bot.set_my_description("Une campagne", language_code="fr")
    await bot.set_my_short_description("Courte")
    assert telegram.commands_by_language["fr"] == [
        {"command": "start", "description": "Commencer"}
    ]
    assert (telegram.descriptions["fr"], telegram.short_descriptions[None]) == (
        "Une campagne", "Courte",
    )  # fmt: skip
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Start!", "bad")])

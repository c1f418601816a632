"""Chat promises: Redis outages, hostile input, authorization, and the referral parser."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import CampaignBot
from bot.referrals import parse_referral
from bot.storage.embedded_valkey import EmbeddedValkey
from tests.conftest import ADMIN_ID, Harness, running_bot, settings_from
from tests.donation_steps import pledge
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI
from tests.test_reliability_payments import paid_session_event

BENEFICIARY = 777_002
ANONYMOUS_ADMIN_BOT = 1_087_968_824


async def status_of(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status


async def test_redis_down_at_start_and_mid_run_answers_politely_and_recovers(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe, tmp_path: Path
) -> None:
    redis = EmbeddedValkey(tmp_path / "late-redis")
    bot = CampaignBot(settings_from({**bot_env, "REDIS_URL": redis.url}))
    await bot.start()
    harness = Harness(bot, telegram, stripe_server, bot_env)
    try:
        assert await status_of(f"{harness.http}/readyz") == 503
        assert await status_of(f"{harness.http}/healthz") == 200
        mark = telegram.mark()
        telegram.user(12_001, language_code="fr").send("/help")
        reply = await telegram.wait_for_message(12_001, after=mark)
        assert "Je n'arrive pas à accéder à mes données" in (reply.rendered_text or "")
        event = paid_session_event(stripe_server, 1)
        assert await stripe_server.deliver(event, harness.webhook_url) == 503

        await redis.start()
        assert await status_of(f"{harness.http}/readyz") == 200
        mark = telegram.mark()
        telegram.user(12_001, language_code="fr").send("/help")
        reply = await telegram.wait_for_message(12_001, after=mark)
        assert "ce que je sais faire" in (reply.rendered_text or "")

        await redis.kill()
        mark = telegram.mark()
        telegram.user(12_002, language_code="en").send("/donate")
        reply = await telegram.wait_for_message(12_002, after=mark)
        assert "can't reach my records" in (reply.rendered_text or "")
        assert await status_of(f"{harness.http}/readyz") == 503

        await redis.start()
        _, session_id = await pledge(harness, telegram.user(12_002, language_code="en"), "€5")
        await harness.deliver(stripe_server.complete_session(session_id))
        assert (await harness.totals()).raised == 500
    finally:
        await bot.stop()
        await redis.stop()


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [f"{r.name}: {r.getMessage()}" for r in errors]


GARBAGE_COMMANDS = [
    "/start \x00💥 <b>x</b> " + "A" * 100, "/start " + "a" * 65, "/donate 99999 now",
    "/language xx", "/help me please", "/story now", "/progress x", "/subscribe a b",
    "/unsubscribe x", "/updates -1", "/forget now", "/stats x", "/export all", "/link",
    "/broadcast hello", "/cancel x", "/" + "x" * 40, "/start@someone_else_bot",
]
FORGED_CALLBACKS = [
    "don:a:once:123456789", "don:a:weekly:500", "don:o:yearly", "don:c:sub_nope",
    "don:cy:sub_nope", "upd:999999", "upd:photo:424242", "sup:w:pi_not_mine",
    "sup:n:pi_not_mine", "language:xx", "bc:stop:9", "bc:ok", "forget:maybe",
    "x" * 64, "\u202e\u0000",
]


async def test_hostile_chat_input_gets_polite_answers_and_no_error(
    harness: Harness, no_errors_logged: None
) -> None:
    # One sender per message: this is about content, not about the per-user rate limit.
    for number, text in enumerate([*GARBAGE_COMMANDS, "x" * 4000, "€€€", "\u202e\u0000"]):
        sender = harness.user(12_400 + number, "en")
        mark = harness.telegram.mark()
        sender.send(text)
        await harness.telegram.wait_for_message(sender.id, after=mark, timeout=10)
    user = harness.user(12_100, "en")
    mark = harness.telegram.mark()
    user.send_photo(caption="a photo")
    reply = await harness.telegram.wait_for_message(12_100, after=mark)
    user.send_document(b"%PDF-1.4 not really", file_name="report.pdf")
    await harness.telegram.wait_for_message(12_100, after=reply.index + 1)

    mark = harness.telegram.mark()
    user.send("/donate")
    menu = await harness.telegram.wait_for_message(12_100, after=mark)
    user.tap(menu, "Other amount")
    await harness.telegram.wait_for_message(12_100, after=menu.index + 1)
    mark = harness.telegram.mark()
    user.send("9" * 4000)
    refusal = await harness.telegram.wait_for_message(12_100, after=mark)
    assert "digits only" in (refusal.rendered_text or "")

    for data in FORGED_CALLBACKS:
        mark = harness.telegram.mark()
        user.tap_data(menu.message_id or 0, data)
        await harness.telegram.wait_for(
            lambda call: call.method == "answerCallbackQuery", after=mark, timeout=10
        )
    # Another user pressing buttons on this user's message changes nothing for either.
    intruder = harness.user(12_101, "en")
    mark = harness.telegram.mark()
    intruder.tap_data(menu.message_id or 0, "don:a:once:1000")
    await harness.telegram.wait_for(lambda call: call.method == "answerCallbackQuery", after=mark)


async def test_edited_messages_and_unknown_groups_get_silence(harness: Harness) -> None:
    user = harness.user(12_200, "en")
    mark = harness.telegram.mark()
    update_id = user.send("/help")
    await harness.telegram.wait_for_message(12_200, after=mark)
    original = harness.telegram.pushed[update_id]["message"]
    edited = {**original, "text": "/donate", "edit_date": original["date"] + 5}
    mark = harness.telegram.mark()
    harness.telegram.push_update({"edited_message": edited})
    await harness.telegram.assert_no_message(12_200, after=mark, within=0.7)

    group = -100_777
    mark = harness.telegram.mark()
    user.send("/donate", chat_id=group)
    user.send("hello everyone", chat_id=group)
    await harness.telegram.assert_no_message(group, after=mark, within=0.7)


@pytest.fixture
async def with_beneficiary(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> AsyncIterator[Harness]:
    env = {**bot_env, "BENEFICIARY_CHAT_IDS": f"{BENEFICIARY},-100888"}
    async with running_bot(env, telegram, stripe_server) as running:
        yield running


ORGANIZER_COMMANDS = ["/broadcast", "/cancel", "/export", "/link code", "/close"]
ORGANIZER_CALLBACKS = [
    "bc:same", "bc:ok", "bc:at", "bc:edit", "bc:no", "bc:stop:1", "cl:now", "cl:keep", "cl:edit",
]


@pytest.mark.parametrize("who", ["stranger", "beneficiary", "anonymous group admin"])
async def test_organizer_commands_and_buttons_reveal_nothing_to_others(
    with_beneficiary: Harness, who: str
) -> None:
    harness = with_beneficiary
    admin = harness.user(ADMIN_ID, "en")
    mark = harness.telegram.mark()
    admin.send("/broadcast")
    prompt = await harness.telegram.wait_for_message(ADMIN_ID, after=mark)
    if who == "anonymous group admin":
        # In a group, an anonymous admin writes as GroupAnonymousBot on behalf of the group.
        actor = harness.telegram.user(ANONYMOUS_ADMIN_BOT, language_code="en", first_name="Group")
        chat: int | None = -100888
    else:
        actor = harness.user(BENEFICIARY if who == "beneficiary" else 12_300, "en")
        chat = None
    for command in ORGANIZER_COMMANDS:
        mark = harness.telegram.mark()
        if chat is None:
            actor.send(command)
            reply = await harness.telegram.wait_for_message(actor.id, after=mark)
            assert "I don't know that command" in (reply.rendered_text or "")
        else:
            actor.send(command, chat_id=chat)
            reply = await harness.telegram.wait_for_message(chat, after=mark)
            assert "I don't know that command" in (reply.rendered_text or "")
    for data in ORGANIZER_CALLBACKS:
        mark = harness.telegram.mark()
        actor.tap_data(prompt.message_id or 0, data)
        answer = await harness.telegram.wait_for(
            lambda call: call.method == "answerCallbackQuery", after=mark
        )
        assert "no longer valid" in str(answer.params.get("text"))
    assert not harness.telegram.calls_to("sendDocument")
    assert [c for c in harness.telegram.calls_to("editMessageText")] == []


async def test_a_beneficiary_group_hears_of_refused_commands_but_not_of_missing_ones(
    with_beneficiary: Harness,
) -> None:
    harness = with_beneficiary
    member, group = harness.user(12_310, "en"), -100888
    for command in ORGANIZER_COMMANDS:
        mark = harness.telegram.mark()
        member.send(command, chat_id=group)
        reply = await harness.telegram.wait_for_message(group, after=mark)
        assert "I don't know that command" in (reply.rendered_text or "")
    # A supporter's own link and gifts are theirs: never shown to the group.
    for command in ("/share", "/mygift"):
        mark = harness.telegram.mark()
        member.send(command, chat_id=group)
        reply = await harness.telegram.wait_for_message(group, after=mark)
        assert "I don't know that command" in (reply.rendered_text or "")
    # Commands this bot lacks may be meant for another bot in the group.
    mark = harness.telegram.mark()
    member.send("/weather", chat_id=group)
    await harness.telegram.assert_no_message(group, after=mark, within=0.7)


@given(st.text(max_size=80))
def test_referral_parser_keeps_only_telegrams_payload_alphabet(payload: str) -> None:
    code = parse_referral(payload)
    if code is None:
        return
    assert code == payload
    assert 1 <= len(code) <= 64
    assert all(c.isascii() and (c.isalnum() or c in "_-") for c in code)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [("school-42", "school-42"), ("a" * 64, "a" * 64), ("a" * 65, None), ("thanks", None),
     ("ça", None), ("x y", None), ("", None), ("<script>", None)],
)
def test_referral_parser_examples(payload: str, expected: str | None) -> None:
    assert parse_referral(payload) == expected

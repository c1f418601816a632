"""The progress chart is drawn and uploaded once per change of the totals, then sent by id."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.app import CampaignBot
from tests.conftest import ADMIN_ID, Harness, settings_from
from tests.donation_steps import pay, pledge
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import ApiCall, FakeBotAPI


def is_upload(call: ApiCall) -> bool:
    """A multipart sendPhoto carrying the image itself: the bot drew a chart for it."""
    return bool(call.files) and str(call.params.get("photo", "")).startswith("attach://")


def file_id_of(call: ApiCall) -> str:
    """The file id Telegram gave back for a photo (the largest size, as the bot keeps)."""
    assert call.ok and isinstance(call.result, dict), call.describe()
    return str(call.result["photo"][-1]["file_id"])


async def give(harness: Harness, user_id: int) -> None:
    """A supporter pays €10 through Checkout; the totals change."""
    _, session_id = await pledge(harness, harness.user(user_id), "€10")
    await pay(harness, session_id)


async def charts_sent(
    telegram: FakeBotAPI, user_ids: list[int], *, after: int, command: str = "/progress",
    language_code: str = "en",
) -> list[ApiCall]:
    """Every user sends the command at once; the chart each of them received."""
    for user_id in user_ids:
        telegram.user(user_id, language_code=language_code).send(command)

    def photo_to(chat_id: int) -> Callable[[ApiCall], bool]:
        return lambda call: call.method == "sendPhoto" and call.ok and call.chat_id == chat_id

    return [
        await telegram.wait_for(photo_to(user_id), after=after, timeout=15)
        for user_id in user_ids
    ]


async def test_progress_twice_uploads_the_chart_once_then_sends_it_by_file_id(
    harness: Harness,
) -> None:
    await give(harness, 7001)
    mark = harness.telegram.mark()
    (first,) = await charts_sent(harness.telegram, [7002], after=mark)
    assert is_upload(first)
    assert next(iter(first.files.values())).startswith(b"\x89PNG")

    mark = harness.telegram.mark()
    (second,) = await charts_sent(harness.telegram, [7003], after=mark)
    assert not second.files
    assert second.params["photo"] == file_id_of(first)
    # The organizers' /stats shows the same chart: no drawing of its own.
    mark = harness.telegram.mark()
    (stats,) = await charts_sent(harness.telegram, [ADMIN_ID], after=mark, command="/stats")
    assert not stats.files
    assert stats.params["photo"] == file_id_of(first)


async def test_a_burst_of_progress_draws_once_and_a_new_donation_once_more(
    harness: Harness,
) -> None:
    await give(harness, 7101)
    mark = harness.telegram.mark()
    burst = await charts_sent(harness.telegram, list(range(7110, 7120)), after=mark)
    uploads = [call for call in burst if is_upload(call)]
    assert len(uploads) == 1, [call.describe() for call in burst]
    first_id = file_id_of(uploads[0])
    first_png = next(iter(uploads[0].files.values()))
    assert {call.params["photo"] for call in burst if call is not uploads[0]} == {first_id}

    await give(harness, 7102)
    mark = harness.telegram.mark()
    burst = await charts_sent(harness.telegram, list(range(7120, 7126)), after=mark)
    uploads = [call for call in burst if is_upload(call)]
    assert len(uploads) == 1, [call.describe() for call in burst]
    second_id = file_id_of(uploads[0])
    assert second_id != first_id
    assert next(iter(uploads[0].files.values())) != first_png
    assert {call.params["photo"] for call in burst if call is not uploads[0]} == {second_id}


async def test_each_language_has_its_own_chart(harness: Harness) -> None:
    await give(harness, 7201)
    mark = harness.telegram.mark()
    (english,) = await charts_sent(harness.telegram, [7202], after=mark)
    (french,) = await charts_sent(harness.telegram, [7203], after=mark, language_code="fr")
    assert is_upload(english)
    assert is_upload(french)
    assert english.files != french.files
    mark = harness.telegram.mark()
    (again,) = await charts_sent(harness.telegram, [7204], after=mark, language_code="fr")
    assert again.params["photo"] == file_id_of(french)


async def test_a_file_id_telegram_no_longer_knows_is_replaced_by_an_upload(
    harness: Harness,
) -> None:
    await give(harness, 7301)
    mark = harness.telegram.mark()
    (first,) = await charts_sent(harness.telegram, [7302], after=mark)
    assert is_upload(first)
    # Telegram forgets every file it was sent: the stored id is now refused.
    harness.telegram.media.clear()

    mark = harness.telegram.mark()
    (chart,) = await charts_sent(harness.telegram, [7303], after=mark)
    refused = [c for c in harness.telegram.calls[mark:] if c.method == "sendPhoto" and not c.ok]
    assert [c.params["photo"] for c in refused] == [file_id_of(first)]
    assert is_upload(chart)
    assert next(iter(chart.files.values())) == next(iter(first.files.values()))
    mark = harness.telegram.mark()
    (later,) = await charts_sent(harness.telegram, [7304], after=mark)
    assert later.params["photo"] == file_id_of(chart)


async def test_a_restarted_bot_sends_the_chart_uploaded_before_by_its_file_id(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    first_bot = CampaignBot(settings_from(bot_env))
    await first_bot.start()
    try:
        await give(Harness(first_bot, telegram, stripe_server, bot_env), 7401)
        mark = telegram.mark()
        (uploaded,) = await charts_sent(telegram, [7402], after=mark)
    finally:
        await asyncio.wait_for(first_bot.stop(), 10)
    assert is_upload(uploaded)

    second_bot = CampaignBot(settings_from(bot_env))
    await second_bot.start()
    try:
        mark = telegram.mark()
        (resent,) = await charts_sent(telegram, [7403], after=mark)
    finally:
        await asyncio.wait_for(second_bot.stop(), 10)
    assert not resent.files
    assert resent.params["photo"] == file_id_of(uploaded)

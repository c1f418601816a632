"""/start, /help, the language choice and the fallback hints, as a supporter sees them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import CampaignBot
from bot.i18n import resolve_locale
from tests.conftest import Harness, settings_from
from tests.fakes.telegram import FakeBotAPI


def normalise(text: str | None) -> str:
    """French formatting uses narrow and no-break spaces; compare with plain ones."""
    return (text or "").replace("\u202f", " ").replace("\xa0", " ")


@pytest.mark.parametrize(
    ("language_code", "expected"),
    [("fr", "fr"), ("fr-FR", "fr"), ("fr-ca", "fr"), ("FR_be", "fr"), ("en-GB", "en"),
     ("de", "en"), ("", "en"), (None, "en")],
)
def test_language_code_maps_to_french_or_english(
    language_code: str | None, expected: str
) -> None:
    assert resolve_locale(language_code) == expected


async def test_french_user_gets_french_welcome_with_photo_and_buttons(harness: Harness) -> None:
    user = harness.user(1001, "fr-FR")
    mark = harness.telegram.mark()
    user.send("/start")
    welcome = await harness.telegram.wait_for_message(1001, after=mark)
    assert welcome.method == "sendPhoto"
    caption = normalise(welcome.rendered_text)
    assert "Auberge des Migrants" in caption
    assert "0 € collectés sur 10 000 € (0 %)" in caption
    assert "aucun donateur" in caption
    labels = [button.text for row in welcome.buttons for button in row]
    assert labels == ["💶 Faire un don", "📖 Toute l'histoire", "🔔 Suivre les nouvelles",
                      "🧺 Ce que vos dons achètent", "🌐 Langue"]
    assert len(welcome.rendered_text or "") <= 1024


@pytest.mark.parametrize("language_code", ["de", None])
async def test_unknown_or_missing_language_falls_back_to_english(
    harness: Harness, language_code: str | None
) -> None:
    user = harness.user(1002, language_code)
    mark = harness.telegram.mark()
    user.send("/start")
    welcome = await harness.telegram.wait_for_message(1002, after=mark)
    assert "€0 raised of €10,000 (0%)" in (welcome.rendered_text or "")
    assert welcome.button("Donate").callback_data == "donate"
    assert welcome.button("Full story").callback_data == "story"


async def test_photo_is_uploaded_once_then_sent_by_file_id(harness: Harness) -> None:
    first_user, second_user = harness.user(1003), harness.user(1004)
    mark = harness.telegram.mark()
    first_user.send("/start")
    first = await harness.telegram.wait_for_message(1003, after=mark)
    second_user.send("/start")
    second = await harness.telegram.wait_for_message(1004, after=mark)
    assert first.files, "the first welcome uploads the photo"
    assert not second.files, "later welcomes reuse Telegram's file_id"
    assert isinstance(second.params["photo"], str)


async def test_story_is_split_under_the_limit_with_video_link(harness: Harness) -> None:
    user = harness.user(1005, "fr")
    mark = harness.telegram.mark()
    user.send("/story")
    first = await harness.telegram.wait_for_message(1005, after=mark)
    await harness.telegram.wait_for(
        lambda call: call.chat_id == 1005
        and "laubergedesmigrants.fr" in (call.rendered_text or ""),
        after=mark,
    )
    parts = [call for call in harness.telegram.sent_to(1005) if call.index >= mark]
    assert first.text and first.text.startswith("<b>Aidons les réfugiés de Calais")
    assert all(len(call.rendered_text or "") <= 4096 for call in parts)
    story = "\n".join(call.text or "" for call in parts)
    assert "Léo Heller" in story and "28 et 29 janvier 2018" in story
    assert "Justin Valentine et Sophie Pouget" in story
    assert parts[-1].button("Faire un don").callback_data == "donate"


async def test_full_story_button_sends_the_story(harness: Harness) -> None:
    user = harness.user(1006, "en")
    mark = harness.telegram.mark()
    user.send("/start")
    welcome = await harness.telegram.wait_for_message(1006, after=mark)
    user.tap(welcome, "Full story")
    story = await harness.telegram.wait_for(
        lambda call: call.chat_id == 1006 and "Special Rapporteur" in (call.rendered_text or ""),
        after=mark,
    )
    assert "Sophie Pouget and Justin Valentine" in (story.rendered_text or "")


async def test_language_switch_changes_every_later_message(harness: Harness) -> None:
    user = harness.user(1007, "en")
    mark = harness.telegram.mark()
    user.send("/language")
    prompt = await harness.telegram.wait_for_message(1007, after=mark)
    user.tap(prompt, "Français")
    confirmation = await harness.telegram.wait_for(
        lambda call: call.method == "editMessageText" and call.chat_id == 1007, after=mark
    )
    assert "français" in (confirmation.rendered_text or "")
    mark = harness.telegram.mark()
    user.send("/help")
    help_text = await harness.telegram.wait_for_message(1007, after=mark)
    assert "ce que je sais faire" in (help_text.rendered_text or "")


async def test_language_choice_survives_a_restart_with_the_embedded_store(
    bot_env: dict[str, str], telegram: FakeBotAPI, tmp_path: Path
) -> None:
    env = {key: value for key, value in bot_env.items() if key != "REDIS_URL"}
    env["DATA_DIR"] = str(tmp_path / "embedded")
    bot = CampaignBot(settings_from(env))
    await bot.start()
    try:
        user = telegram.user(1008, language_code="en")
        mark = telegram.mark()
        user.send("/language")
        prompt = await telegram.wait_for_message(1008, after=mark)
        user.tap(prompt, "Français")
        await telegram.wait_for(lambda call: call.method == "editMessageText", after=mark)
    finally:
        await bot.stop()
    assert any((tmp_path / "embedded" / "appendonlydir").glob("*.aof"))

    bot = CampaignBot(settings_from(env))
    await bot.start()
    try:
        mark = telegram.mark()
        telegram.user(1008, language_code="en").send("/help")
        help_text = await telegram.wait_for_message(1008, after=mark)
        assert "ce que je sais faire" in (help_text.rendered_text or "")
    finally:
        await bot.stop()


async def test_help_lists_the_commands_in_the_users_language(harness: Harness) -> None:
    user = harness.user(1009, "en")
    mark = harness.telegram.mark()
    user.send("/help")
    reply = await harness.telegram.wait_for_message(1009, after=mark)
    for command in ("/start", "/story", "/donate", "/progress", "/language", "/forget"):
        assert command in (reply.rendered_text or "")


@pytest.mark.parametrize(
    ("sent", "expected"),
    [("/nonsense", "I don't know that command"), ("hello there", "I answer commands")],
)
async def test_unknown_command_and_free_text_get_a_hint(
    harness: Harness, sent: str, expected: str
) -> None:
    user = harness.user(1010, "en")
    mark = harness.telegram.mark()
    user.send(sent)
    reply = await harness.telegram.wait_for_message(1010, after=mark)
    assert expected in (reply.rendered_text or "")


async def test_a_photo_from_a_user_gets_the_hint_in_french(harness: Harness) -> None:
    user = harness.user(1011, "fr")
    mark = harness.telegram.mark()
    user.send_photo(caption="regardez")
    reply = await harness.telegram.wait_for_message(1011, after=mark)
    assert "Je réponds aux commandes" in (reply.rendered_text or "")


async def test_forged_button_data_gets_a_polite_alert(harness: Harness) -> None:
    user = harness.user(1012, "en")
    mark = harness.telegram.mark()
    user.send("/start")
    welcome = await harness.telegram.wait_for_message(1012, after=mark)
    assert welcome.message_id is not None
    user.tap_data(welcome.message_id, "language:de")
    answer = await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery", after=mark
    )
    assert "no longer valid" in str(answer.params.get("text"))


async def test_command_menu_and_descriptions_are_registered_per_language(
    harness: Harness,
) -> None:
    commands = harness.telegram.commands_by_language
    assert set(commands) >= {None, "en", "fr"}
    french = {item["command"]: item["description"] for item in commands["fr"]}
    assert french["donate"] == "Donner une fois ou chaque mois"
    english = {item["command"]: item["description"] for item in commands[None]}
    assert english["story"] == "Our full story and video"
    assert "réfugiés" in harness.telegram.descriptions["fr"]
    assert len(harness.telegram.short_descriptions["fr"]) <= 120

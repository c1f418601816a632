"""How often and when subscribers hear from the campaign: the row under every broadcast, the
cadence choice, /settings and its quiet hours, digest subscribers skipped by broadcasts."""

from __future__ import annotations

from bot.broadcasts.preferences import DEFAULT_QUIET_HOURS, Cadence, SubscriberPreferences
from bot.broadcasts.queue import Claim, RecipientQueue, Step
from bot.broadcasts.store import BroadcastStore, now_ms
from bot.storage.connection import connect
from tests.broadcast_steps import compose, deliveries, send_now
from tests.conftest import ADMIN_ID, ROOT, Harness, running_bot
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import ApiCall, FakeBotAPI, FakeUser
from tests.test_broadcast_store import LATER, create, feed_all, subscribe

ENGLISH, FRENCH, EVERYTHING = 7001, 7002, 7003


async def _say(harness: Harness, user: FakeUser, text: str) -> ApiCall:
    """What the bot answers `user` sending `text`."""
    mark = harness.telegram.mark()
    user.send(text)
    return await harness.telegram.wait_for_message(user.id, after=mark)


async def _tap(harness: Harness, user: FakeUser, message: ApiCall, label: str) -> ApiCall:
    """The message or edit the bot answers a tap with."""
    mark = harness.telegram.mark()
    user.tap(message, label)
    return await harness.telegram.wait_for(
        lambda call: call.chat_id == user.id and call.ok
        and call.method in ("sendMessage", "editMessageText"), after=mark,
    )


async def _tap_answer(harness: Harness, user: FakeUser, message_id: int, data: str) -> str:
    """The alert a tap with this (perhaps forged) data gets."""
    mark = harness.telegram.mark()
    user.tap_data(message_id, data)
    answer = await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery", after=mark
    )
    return str(answer.params.get("text"))


def _received(harness: Harness, chat_id: int, marker: str, after: int) -> ApiCall:
    return next(
        call for call in harness.telegram.calls[after:]
        if call.chat_id == chat_id and call.method == "sendMessage" and call.ok
        and marker in (call.rendered_text or "")
    )


def _labels(call: ApiCall) -> list[str]:
    return [button.text for row in call.buttons for button in row]


async def test_fewer_messages_from_a_broadcast_takes_effect_for_the_next_one(
    harness: Harness,
) -> None:
    english, french = harness.user(ENGLISH, "en"), harness.user(FRENCH, "fr")
    everything = harness.user(EVERYTHING, "en")
    for user in (english, french, everything):
        answer = await _say(harness, user, "/subscribe")
    assert _labels(answer) == ["⚙️ Settings"]

    # The organizer's preview shows each language's message with its row.
    mark = harness.telegram.mark()
    summary = await compose(harness, "Tents for the camp", "Des tentes pour le camp")
    previews = [call for call in harness.telegram.calls[mark:]
                if call.chat_id == ADMIN_ID
                and call.rendered_text in ("Tents for the camp", "Des tentes pour le camp")]
    assert [_labels(call) for call in previews] == [
        ["🔕 Fewer messages", "✋ Stop"], ["🔕 Moins de messages", "✋ Arrêter"]
    ]
    start = harness.telegram.mark()
    await send_now(harness, summary)
    news = _received(harness, ENGLISH, "Tents for the camp", start)
    nouvelle = _received(harness, FRENCH, "Des tentes pour le camp", start)
    assert _labels(news) == ["🔕 Fewer messages", "✋ Stop"]
    assert _labels(nouvelle) == ["🔕 Moins de messages", "✋ Arrêter"]

    choice = await _tap(harness, english, news, "Fewer messages")
    assert choice.rendered_text == "How often would you like news from Calais?"
    assert _labels(choice) == [
        "✓ Every update", "A daily digest", "A weekly digest", "Stop", "⚙️ Settings"
    ]
    confirmed = await _tap(harness, english, choice, "A weekly digest")
    assert confirmed.method == "editMessageText"
    assert confirmed.rendered_text == (
        "You'll get one message a week, on Sundays at 19:00, with the week's news."
    )
    choix = await _tap(harness, french, nouvelle, "Moins de messages")
    confirmed = await _tap(harness, french, choix, "Un résumé par jour")
    assert confirmed.rendered_text == (
        "Vous recevrez un seul message par jour, à 19 h 00, avec les nouvelles du jour."
    )

    # Forged: a cadence outside the set, or a choice from someone who never subscribed.
    assert "no longer valid" in await _tap_answer(
        harness, everything, news.message_id or 0, "pref:cad:hourly"
    )
    stranger = harness.user(7009, "en")
    assert await _tap_answer(harness, stranger, 1, "pref:cad:weekly") == (
        "You were not subscribed. Send /subscribe to follow the news."
    )

    summary = await compose(harness, "Blankets arrived")
    mark = harness.telegram.mark()
    report = await send_now(harness, summary)
    assert deliveries(harness.telegram, "Blankets arrived", mark) == {EVERYTHING: 1}
    text = report.rendered_text or ""
    assert "Sent: 1" in text and "In digests (not sent now): 2" in text
    assert "Not sent: 0 of 1" in text

    shown = await _say(harness, english, "/settings")
    assert (shown.rendered_text or "").splitlines()[1:3] == [
        "News: a weekly digest, on Sundays at 19:00",
        "Quiet hours: none (the campaign's default)",
    ]
    assert "✓ A weekly digest" in _labels(shown)
    stats = await _say(harness, harness.user(ADMIN_ID, "en"), "/stats")
    assert "By cadence: 1 every update, 1 daily digest, 1 weekly digest" in (
        stats.rendered_text or ""
    )

    # Stop under the last broadcast: unsubscribed, with a way back.
    last = _received(harness, EVERYTHING, "Blankets arrived", mark)
    stopped = await _tap(harness, everything, last, "Stop")
    assert stopped.rendered_text == (
        "You will no longer receive news. Send /subscribe to follow again."
    )
    assert await _tap_answer(harness, everything, last.message_id or 0, "pref:stop") == (
        "You were not subscribed. Send /subscribe to follow the news."
    )
    back = await _tap(harness, everything, stopped, "Follow again")
    assert "You are subscribed" in (back.rendered_text or "")


async def test_settings_sets_quiet_hours_and_refuses_a_bad_window(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    # The repository's campaign file, whose default window (22:00-08:00) is what /settings shows;
    # this test sends no broadcast, so the hour it runs at changes nothing.
    env = {**bot_env, "CAMPAIGN_FILE": str(ROOT / "campaign.toml")}
    async with running_bot(env, telegram, stripe_server) as harness:
        await _quiet_hours_settings(harness)


async def _quiet_hours_settings(harness: Harness) -> None:
    lea = harness.user(7101, "fr")
    refused = await _say(harness, lea, "/settings")
    assert refused.rendered_text == (
        "Vous n'êtes pas abonné·e. Envoyez /subscribe pour suivre les nouvelles, "
        "puis /settings pour choisir leur rythme."
    )
    await _say(harness, lea, "/subscribe")
    shown = await _say(harness, lea, "/settings")
    assert (shown.rendered_text or "").splitlines()[1:3] == [
        "Nouvelles : chacune, dès qu'elle part",
        "Heures calmes : 22 h 00–8 h 00 (celles de la campagne)",
    ]
    assert "✓ Heures par défaut" in _labels(shown)
    asked = await _tap(harness, lea, shown, "Choisir mes heures")
    assert "par exemple 22:30-07:00" in (asked.rendered_text or "")
    bad = await _say(harness, lea, "22h-8h")
    assert bad.rendered_text == (
        "Je n'ai pas compris. Envoyez deux heures sous la forme début-fin, "
        "par exemple 22:30-07:00."
    )
    unchanged = await _say(harness, lea, "/settings")
    assert "Heures calmes : 22 h 00–8 h 00 (celles de la campagne)" in (
        unchanged.rendered_text or ""
    )
    await _tap(harness, lea, unchanged, "Choisir mes heures")
    done = await _say(harness, lea, "22:30–07:00")
    assert (done.rendered_text or "").startswith("Heures calmes : 22 h 30–7 h 00.")
    shown = await _say(harness, lea, "/settings")
    assert "Heures calmes : 22 h 30–7 h 00" in (shown.rendered_text or "").splitlines()
    assert "✓ Choisir mes heures…" in _labels(shown)

    off = await _tap(harness, lea, shown, "Pas d'heures calmes")
    assert off.rendered_text == (
        "Pas d'heures calmes : les nouvelles peuvent arriver à toute heure."
    )
    shown = await _say(harness, lea, "/settings")
    assert "Heures calmes : désactivées" in (shown.rendered_text or "")
    default = await _tap(harness, lea, shown, "Heures par défaut")
    assert default.rendered_text == "Heures calmes : 22 h 00–8 h 00, celles de la campagne."

    # The answer once no longer subscribed: nothing changes.
    await _say(harness, lea, "/unsubscribe")
    assert await _tap_answer(harness, lea, shown.message_id or 0, "pref:quiet:off") == (
        "Vous n'étiez pas abonné·e. Envoyez /subscribe pour suivre les nouvelles."
    )


async def test_a_cadence_chosen_while_a_broadcast_goes_out_counts_from_the_next(
    redis_url: str,
) -> None:
    redis = connect(redis_url)
    try:
        store, queue = BroadcastStore(redis), RecipientQueue(redis)
        preferences = SubscriberPreferences(redis, DEFAULT_QUIET_HOURS)
        await subscribe(redis, {1: "en", 2: "fr", 3: "en"})
        await preferences.set_cadence(1, Cadence.DAILY, now_ms() - 1)
        broadcast_id = await create(store)
        assert await store.start_due() == broadcast_id
        # Chosen once the broadcast started: this one still reaches them.
        await preferences.set_cadence(2, Cadence.WEEKLY, now_ms() + 1)
        await feed_all(queue, broadcast_id)
        recipients = await queue.read(broadcast_id, "test", 10, 0) or []
        answers = await queue.step(
            broadcast_id, [Step(None, recipient.entry_id) for recipient in recipients], LATER
        )
        claims = {r.chat_id: a.claim for r, a in zip(recipients, answers, strict=True)}
        assert claims == {1: Claim.DROPPED, 2: Claim.SEND, 3: Claim.SEND}
        stored = await store.get(broadcast_id)
        assert stored is not None and (stored.in_digests, stored.total) == (1, 2)
        assert await preferences.subscribed_digest_counts() == {
            Cadence.DAILY: 1, Cadence.WEEKLY: 1
        }
    finally:
        await redis.aclose()

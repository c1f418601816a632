"""/spent, /spending and "what did my gift pay for?": a spend previewed (flagged when it spends
more than is left), recorded once, corrected and removed, and shown on /progress, the widget
and /stats, in both languages."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from bot.donations.spending import EntryChange, Outcome, SpendingRecord, SpendingSummary
from bot.donations.spending_drafts import SpendingDrafts
from bot.storage.connection import connect
from tests.conftest import ADMIN_ID, Harness
from tests.donation_steps import normalise, pay, pledge, wait_for_thanks
from tests.fakes.telegram import ApiCall, FakeUser
from tests.forget_steps import forget
from tests.script_keys import undeclared_keys
from tests.test_needs import campaign_file

FRENCH_ADMIN = 900_002


@pytest.fixture
def bot_env(bot_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Two organizers: one reads English, the other French; a campaign file without needs, so
    /spent asks for none (tests/test_spending_needs.py has them)."""
    return {
        **bot_env, "ADMIN_IDS": f"{ADMIN_ID},{FRENCH_ADMIN}",
        "CAMPAIGN_FILE": str(campaign_file(tmp_path, "")),
    }


def spending(harness: Harness) -> SpendingRecord:
    assert harness.bot.application is not None
    services = harness.bot.application.bot_data.services
    assert services is not None
    return services.spending


async def spend(harness: Harness, change: EntryChange, at_ms: int) -> None:
    """An entry recorded as an organizer's Confirm records it: from a draft of theirs."""
    assert harness.bot.application is not None
    services = harness.bot.application.bot_data.services
    assert services is not None
    token = await services.spending_drafts.start(ADMIN_ID)
    assert (await spending(harness).record(ADMIN_ID, token, change, at_ms)).now


async def answer(harness: Harness, user: FakeUser, text: str) -> str:
    """Send a message; the text of the bot's next message back."""
    mark = harness.telegram.mark()
    user.send(text)
    return normalise((await harness.telegram.wait_for_message(user.id, after=mark)).rendered_text)


async def with_chart(harness: Harness, user: FakeUser, command: str) -> str:
    """/progress or /stats: the text, once the chart that follows it has come too."""
    mark = harness.telegram.mark()
    user.send(command)
    text = await harness.telegram.wait_for_message(user.id, after=mark)
    await harness.telegram.wait_for(
        lambda call: call.chat_id == user.id and call.method == "sendPhoto", after=mark
    )
    return normalise(text.rendered_text)


async def reply_to(harness: Harness, user: FakeUser, send: Callable[[], object]) -> ApiCall:
    """Do something (send, tap); the bot's next message back."""
    mark = harness.telegram.mark()
    send()
    return await harness.telegram.wait_for_message(user.id, after=mark)


async def alert(harness: Harness, user: FakeUser, message: ApiCall, data: str) -> str:
    """Tap a button's data (a button edited away, or forged); the alert the bot answers with."""
    mark = harness.telegram.mark()
    user.tap_data(message.message_id or 0, data)
    answered = await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery" and "text" in call.params, after=mark
    )
    return str(answered.params["text"])


async def preview_of(
    harness: Harness, admin: FakeUser, amount: str, english: str, french: str,
    *, photo: bool,
) -> tuple[list[ApiCall], ApiCall]:
    """An organizer writes an entry; the two pages of its preview and the summary."""
    await answer(harness, admin, "/spent")
    await answer(harness, admin, amount)
    await answer(harness, admin, english)
    ask_photo = await reply_to(harness, admin, lambda: admin.send(french))
    mark = harness.telegram.mark()
    if photo:
        admin.send_photo()
    else:
        admin.tap(ask_photo, "photo")
    summary = await harness.telegram.wait_for(
        lambda call: call.chat_id == admin.id and bool(call.buttons)
        and call.method == "sendMessage", after=mark,
    )
    pages = [
        call for call in harness.telegram.calls[mark:summary.index]
        if call.method in ("sendPhoto", "sendMessage") and call.chat_id == admin.id
    ][1:]
    return pages, summary


async def confirmed(harness: Harness, admin: FakeUser, summary: ApiCall, label: str) -> str:
    mark = harness.telegram.mark()
    admin.tap(summary, label)
    return normalise((await harness.telegram.wait_for_edit(admin.id, after=mark)).rendered_text)


async def widget(harness: Harness, lang: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(
        f"{harness.http}/widget?lang={lang}"
    ) as page:
        return normalise(await page.text())


async def test_a_spend_is_refused_when_bad_flagged_over_budget_recorded_once_and_shown(
    harness: Harness,
) -> None:
    donor = harness.user(7101, "en")
    _, session = await pledge(harness, donor, "€50")
    mark = harness.telegram.mark()
    await pay(harness, session)
    await wait_for_thanks(harness, donor, mark)
    admin = harness.user(ADMIN_ID, "en")
    stranger = harness.user(7102, "fr")

    # Not an organizer: /spent is an unknown command, in their language.
    assert "Je ne connais pas cette commande" in await answer(harness, stranger, "/spent")
    assert "How much was spent?" in await answer(harness, admin, "/spent")
    assert await answer(harness, admin, "-5") == "The amount must be more than zero."
    assert await answer(harness, admin, "0") == "The amount must be more than zero."
    # A cent is a spend: Stripe's minimum is for charges only. Begun again for the real one.
    assert "in English?" in await answer(harness, admin, "0.30")
    assert "How much was spent?" in await answer(harness, admin, "/spent")
    assert "€100,000 is the most one entry can be" in await answer(harness, admin, "200000")
    assert "I couldn't read an amount" in await answer(harness, admin, "lots")
    assert "in English?" in await answer(harness, admin, "120")
    assert "French?" in await answer(harness, admin, "40 blankets <b>& tents</b>")
    assert "at most" in await answer(harness, admin, "x" * 201)
    assert "Send a photo" in await answer(harness, admin, "40 couvertures <b>& tentes</b>")
    assert await answer(harness, admin, "here it is") == (
        "That is not a photo: send a photo, or tap No photo above."
    )
    not_photo = await reply_to(harness, admin, lambda: admin.send_document(b"%PDF-1.4"))
    assert "That is not a photo" in (not_photo.rendered_text or "")
    assert await spending(harness).summary() == SpendingSummary()

    mark = harness.telegram.mark()
    admin.send_photo()
    summary = await harness.telegram.wait_for(
        lambda call: call.chat_id == ADMIN_ID and "Record it" in str(call.buttons), after=mark
    )
    pages = [
        call for call in harness.telegram.calls[mark:summary.index]
        if call.method == "sendPhoto" and call.ok
    ]
    # Each language's page, as /spending shows it: the typed markup shown, never parsed.
    assert [normalise(page.rendered_text).split("\n\n")[1] for page in pages] == [
        "40 blankets <b>& tents</b>", "40 couvertures <b>& tentes</b>",
    ]
    shown = normalise(summary.rendered_text)
    assert "€120 spent. Raised so far: €50 · already spent: €0." in shown
    assert "more than is left to spend (€50)" in shown and "€70 more was spent" in shown

    # A double tap on Confirm records once; the second tap says which entry it became.
    mark = harness.telegram.mark()
    admin.tap(summary, "Record it")
    admin.tap(summary, "Record it")
    done = await harness.telegram.wait_for_edit(ADMIN_ID, after=mark)
    assert "Recorded as entry #1" in (done.rendered_text or "")
    repeat = await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery" and "text" in call.params, after=mark
    )
    assert "recorded already, as entry #1" in str(repeat.params["text"])
    assert (await spending(harness).summary()).spent == 12000
    assert (await spending(harness).summary()).count == 1

    progress = await with_chart(harness, donor, "/progress")
    assert "€50 raised" in progress and "Spent: €120 · €70 more than raised so far" in progress
    french = await with_chart(harness, stranger, "/progress")
    assert "Dépensé : 120 € · 70 € de plus que la collecte à ce jour" in french
    assert "Dépensé : 120 € · 70 € de plus que la collecte" in await widget(harness, "fr")
    assert "Spent: €120 · €70 more than raised so far" in await widget(harness, "en")
    stats = await with_chart(harness, admin, "/stats")
    assert "Spending: 1 entry, €120 · €70 more than raised" in stats

    mark = harness.telegram.mark()
    stranger.send("/spending")
    page = await harness.telegram.wait_for_message(stranger.id, after=mark)
    assert page.method == "sendPhoto"
    assert "120 €" in normalise(page.rendered_text)
    assert "40 couvertures <b>& tentes</b>" in normalise(page.rendered_text)
    assert "(1 sur 1)" in normalise(page.rendered_text)
    assert not page.buttons


async def test_entries_page_newest_first_and_are_corrected_and_removed_everywhere(
    harness: Harness,
) -> None:
    reader = harness.user(7201, "en")
    admin = harness.user(FRENCH_ADMIN, "fr")
    assert "Rien n'a encore été dépensé" in await answer(harness, admin, "/spending")
    _, summary = await preview_of(
        harness, admin, "30", "Water cans", "Bidons d'eau", photo=True
    )
    assert "Enregistré comme entrée n° 1" in await confirmed(
        harness, admin, summary, "L'enregistrer"
    )
    pages, summary = await preview_of(
        harness, admin, "20,50", "Tent pegs", "Sardines de tente", photo=False
    )
    assert [page.method for page in pages] == ["sendMessage", "sendMessage"]
    assert "n° 2" in await confirmed(harness, admin, summary, "L'enregistrer")
    assert "Spent: €50.50 · €50.50 more than raised" in await widget(harness, "en")

    # Newest first, one entry a page, the photo with its caption; readers get no Correct.
    newest = await reply_to(harness, reader, lambda: reader.send("/spending"))
    assert newest.method == "sendMessage" and "Tent pegs" in (newest.rendered_text or "")
    assert "(1 of 2)" in (newest.rendered_text or "")
    assert [b.text for row in newest.buttons for b in row] == ["← Older"]
    older = await reply_to(harness, reader, lambda: reader.tap(newest, "Older"))
    assert older.method == "sendPhoto" and "Water cans" in (older.rendered_text or "")
    assert "€30" in (older.rendered_text or "")
    assert [b.text for row in older.buttons for b in row] == ["Newer →"]

    # The organizer's pages carry Correct and Remove; a correction may keep the English text.
    view = await reply_to(harness, admin, lambda: admin.send("/spending"))
    assert "n° 2" in (view.rendered_text or "")
    ask = await reply_to(harness, admin, lambda: admin.tap(view, "Corriger"))
    assert "L'entrée n° 2 est de 20,50" in normalise(ask.rendered_text)
    keep = await reply_to(harness, admin, lambda: admin.send("25"))
    assert "Tent pegs" in (keep.rendered_text or "")
    await reply_to(harness, admin, lambda: admin.tap(keep, "Le garder"))
    _, summary = await preview_of_correction(harness, admin, "Sardines et maillets")
    assert "Entrée n° 2 corrigée" in await confirmed(harness, admin, summary, "Le corriger")
    assert "Spent: €55 · €55 more than raised" in await widget(harness, "en")
    assert "Spent: €55" in await answer(harness, reader, "/progress")
    assert "Dépenses : 2 entrées, 55 €" in await with_chart(harness, admin, "/stats")
    french = await reply_to(harness, admin, lambda: admin.send("/spending"))
    assert "Sardines et maillets" in (french.rendered_text or "")
    english = await reply_to(harness, reader, lambda: reader.send("/spending"))
    assert "Tent pegs" in (english.rendered_text or "")

    # Removal asks first, happens once, and leaves the totals.
    question = await reply_to(harness, admin, lambda: admin.send("/spent remove 1"))
    assert "Retirer l'entrée n° 1 (30 €" in normalise(question.rendered_text)
    assert "Entrée n° 1 retirée" in await confirmed(harness, admin, question, "Oui")
    assert "déjà été retirée" in await alert(harness, admin, question, "spt:rm:1")
    assert "Spent: €25 · €25 more than raised" in await widget(harness, "en")
    assert "Spent: €25 · €25 more than raised" in await answer(harness, reader, "/progress")
    assert "Dépenses : 1 entrée, 25 €" in await with_chart(harness, admin, "/stats")
    assert "n° 7" in await answer(harness, admin, "/spent edit 7")
    # Forged removal by a supporter: the unknown-button answer, nothing removed.
    mark = harness.telegram.mark()
    reader.tap_data(newest.message_id or 0, "spt:rm:2")
    await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery", after=mark
    )
    assert (await spending(harness).summary()).count == 1

    # /cancel mid-way records nothing; /forget takes an organizer's half-written entry, while
    # the recorded ones, the campaign's, stay.
    await answer(harness, admin, "/spent")
    assert "rien n'a été enregistré" in await answer(harness, admin, "/cancel")
    await answer(harness, admin, "/spent")
    ask_english = await reply_to(harness, admin, lambda: admin.send("12"))
    await forget(harness, admin, "Oui")
    cancel = ask_english.button("Annuler").callback_data or ""
    assert "plus valable" in await alert(harness, admin, ask_english, cancel)
    assert (await spending(harness).summary()).count == 1


async def preview_of_correction(
    harness: Harness, admin: FakeUser, french: str
) -> tuple[list[ApiCall], ApiCall]:
    """The French text of a correction typed; its preview summary."""
    mark = harness.telegram.mark()
    admin.send(french)
    summary = await harness.telegram.wait_for(
        lambda call: call.chat_id == admin.id and "Le corriger" in str(call.buttons), after=mark
    )
    return [], summary


async def test_what_did_my_gift_pay_for_lists_what_was_spent_since_the_first_gift(
    harness: Harness,
) -> None:
    now_ms = int(time.time() * 1000)
    await spend(harness, EntryChange(9900, "Before", "Avant le don"), now_ms - 3_600_000)
    donor = harness.user(7301, "fr")
    _, session = await pledge(harness, donor, "20\xa0€")
    mark = harness.telegram.mark()
    await pay(harness, session)
    await wait_for_thanks(harness, donor, mark)

    listing = await reply_to(harness, donor, lambda: donor.send("/mygift"))
    none_yet = await reply_to(harness, donor, lambda: donor.tap(listing, "Qu'a payé mon don"))
    assert "impossible de dire quel euro a payé quoi" in (none_yet.rendered_text or "")
    assert "rien n'a encore été dépensé" in (none_yet.rendered_text or "")

    later = int(time.time() * 1000) + 1000
    await spend(harness, EntryChange(4000, "Blankets", "Couvertures"), later)
    await spend(harness, EntryChange(1550, "Soup", "Soupe <chaude>"), later + 1)
    paid = await reply_to(harness, donor, lambda: donor.tap(listing, "Qu'a payé mon don"))
    text = normalise(paid.rendered_text)
    assert "la collecte a dépensé 55,50 € pour :" in text
    assert text.index("Soupe <chaude>") < text.index("Couvertures")
    assert "Avant le don" not in text


async def test_the_spending_scripts_touch_only_the_keys_they_are_given(redis_url: str) -> None:
    """Each script names its keys in KEYS; a retried Confirm records under the id it drew."""
    async with connect(redis_url) as redis:
        record, drafts = SpendingRecord(redis, outcome_ttl=60), SpendingDrafts(redis)
        token = await drafts.start(ADMIN_ID)
        change = EntryChange(3000, "tents", "tentes", need="tents")
        outcomes: list[Outcome] = []

        async def record_twice() -> None:
            for _ in range(2):
                outcomes.append(await record.record(ADMIN_ID, token, change, 1_000))

        async def correct() -> None:
            fix = await drafts.start(ADMIN_ID, entry=1)
            await record.correct(ADMIN_ID, fix, 1, EntryChange(2500, "tent", "tente"), 2_000)

        async def since() -> None:
            spent = await record.since(500, 5)
            assert (spent.spent, spent.count, [e.entry_id for e in spent.newest]) == (2500, 1, [1])

        async def remove() -> None:
            assert await record.remove(1)

        for action in (record_twice, correct, since, remove):
            assert await undeclared_keys(redis, action) == set(), action.__name__
        assert outcomes == [Outcome(1, now=True), Outcome(1, now=False)]
        assert await record.summary() == SpendingSummary()

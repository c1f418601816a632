"""/forget erases every trace of the user id; the per-user rate limit stops floods politely."""

from __future__ import annotations

import asyncio
import csv
import io
import time

import pytest

from bot.storage import keys
from tests.conftest import ADMIN_ID, Harness
from tests.donation_steps import normalise, pay, pledge, wait_for_thanks
from tests.forget_steps import forget, give_with_name_and_words
from tests.keyspace import traces_of

USER = 987_654_321
SHOWN_NAME = "Ysolde"
WORDS = "Courage to everyone sleeping out tonight"


async def progress_text(harness: Harness) -> str:
    reader = harness.user(4242, "en")
    mark = harness.telegram.mark()
    reader.send("/progress")
    return normalise((await harness.telegram.wait_for_message(4242, after=mark)).rendered_text)


async def export_rows(harness: Harness) -> list[dict[str, str]]:
    mark = harness.telegram.mark()
    harness.user(ADMIN_ID, "en").send("/export")
    document = await harness.telegram.wait_for(
        lambda call: call.method == "sendDocument", after=mark, timeout=10
    )
    content = next(iter(document.files.values())).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(content)))


async def test_forget_leaves_no_trace_of_the_user_id_and_keeps_the_accounts(
    harness: Harness,
) -> None:
    user = harness.user(USER, "fr")
    mark = harness.telegram.mark()
    user.send("/start ecole-7")
    await harness.telegram.wait_for_message(USER, after=mark)
    mark = harness.telegram.mark()
    user.send("/subscribe")
    await harness.telegram.wait_for_message(USER, after=mark)
    _, once = await pledge(harness, user, "20\xa0€")
    mark = harness.telegram.mark()
    await pay(harness, once)
    thanks = await wait_for_thanks(harness, user, mark)
    user.tap(thanks, "Afficher mon prénom")
    _, monthly = await pledge(harness, user, "10\xa0€ / mois", monthly=True)
    mark = harness.telegram.mark()
    await pay(harness, monthly)
    await wait_for_thanks(harness, user, mark)
    # /mygift's index of their one-off gifts is among what must go.
    assert keys.user_gifts(USER) in await traces_of(harness.env["REDIS_URL"], str(USER))
    before = await harness.totals()

    mark = harness.telegram.mark()
    user.send("/forget")
    confirm = await harness.telegram.wait_for_message(USER, after=mark)
    assert "Votre don mensuel continue" in (confirm.rendered_text or "")
    user.tap(confirm, "Oui")
    done = await harness.telegram.wait_for_edit(USER, after=mark)
    assert "je ne sais plus qui vous êtes" in (done.rendered_text or "")
    assert await traces_of(harness.env["REDIS_URL"], str(USER)) == []
    after = await harness.totals()
    assert (after.raised, after.donors, after.donations) == (before.raised, before.donors, 2)

    # Stripe still carries the old id in the subscription's metadata: a renewal must not relink.
    subscription = harness.stripe.sessions[monthly]["subscription"]
    mark = harness.telegram.mark()
    await harness.deliver(harness.stripe.renew_subscription(subscription))
    await harness.telegram.assert_no_message(USER, after=mark, within=0.5)
    assert (await harness.totals()).donations == 3
    assert await traces_of(harness.env["REDIS_URL"], str(USER)) == []


async def test_forget_takes_the_shown_name_and_words_off_progress_export_and_redis(
    harness: Harness,
) -> None:
    user = harness.telegram.user(USER, language_code="en", first_name=SHOWN_NAME)
    await give_with_name_and_words(harness, user, WORDS)
    assert f"“{WORDS}” — {SHOWN_NAME}" in await progress_text(harness)
    assert [row["public_name"] for row in await export_rows(harness)] == [SHOWN_NAME]
    before = await harness.totals()

    await forget(harness, user)

    for needle in (str(USER), WORDS, SHOWN_NAME):
        assert await traces_of(harness.env["REDIS_URL"], needle) == [], needle
    shown = await progress_text(harness)
    assert WORDS not in shown and SHOWN_NAME not in shown
    assert "€20 raised" in shown and "1 donor" in shown
    rows = await export_rows(harness)
    assert [(row["amount"], row["public_name"]) for row in rows] == [("20.00", "")]
    after = await harness.totals()
    assert (after.raised, after.donors, after.donations) == (before.raised, before.donors, 1)


async def test_a_donor_who_used_forget_is_thanked_and_linked_again_when_giving_later(
    harness: Harness,
) -> None:
    user = harness.user(USER, "fr")
    # Begun before /forget, reaching the bot after it: Stripe still names the old id.
    _, pledged = await pledge(harness, user, "20\xa0€")
    _, paid_monthly = await pledge(harness, user, "10\xa0€ / mois", monthly=True)
    held_back = harness.stripe.complete_session(paid_monthly)
    await forget(harness, user, "Oui")
    forgotten = time.time()
    mark = harness.telegram.mark()
    await pay(harness, pledged)
    await harness.deliver(held_back)
    await harness.telegram.assert_no_message(USER, after=mark, within=0.5)
    assert (await harness.totals()).donations == 2
    assert await traces_of(harness.env["REDIS_URL"], str(USER)) == []

    # Stripe dates objects to the second: one begun in the forget's own second stays anonymous.
    await asyncio.sleep(int(forgotten) + 1 - time.time())
    _, again = await pledge(harness, user, "10\xa0€")
    mark = harness.telegram.mark()
    await pay(harness, again)
    thanks = await wait_for_thanks(harness, user, mark)
    assert "Merci ! Votre don de 10 €" in normalise(thanks.rendered_text)
    user.tap(thanks, "Afficher mon prénom")
    answer = await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery", after=mark
    )
    assert "Votre prénom apparaît" in str(answer.params.get("text"))

    _, monthly = await pledge(harness, user, "5\xa0€ / mois", monthly=True)
    mark = harness.telegram.mark()
    await pay(harness, monthly)
    await wait_for_thanks(harness, user, mark)
    mark = harness.telegram.mark()
    user.send("/donate")
    menu = await harness.telegram.wait_for_message(USER, after=mark)
    user.tap(menu, "Mes dons")
    listing = await harness.telegram.wait_for(
        lambda call: call.chat_id == USER and "Vos dons mensuels" in (call.rendered_text or ""),
        after=mark,
    )
    stops = [button for row in listing.buttons for button in row if "Arrêter" in button.text]
    assert len(stops) == 1 and "5 €" in normalise(stops[0].text)


async def test_forget_can_be_declined(harness: Harness) -> None:
    user = harness.user(USER, "en")
    mark = harness.telegram.mark()
    user.send("/subscribe")
    await harness.telegram.wait_for_message(USER, after=mark)
    user.send("/forget")
    confirm = await harness.telegram.wait_for(
        lambda call: "Erase your data?" in (call.rendered_text or ""), after=mark
    )
    user.tap(confirm, "No, keep it")
    await harness.telegram.wait_for_edit(USER, after=mark)
    assert await traces_of(harness.env["REDIS_URL"], str(USER))


# The twenty answers go at Telegram's pace for one chat: five at once, then one a second.
@pytest.mark.slow
async def test_more_than_twenty_messages_a_minute_get_one_polite_answer(
    harness: Harness,
) -> None:
    user = harness.user(9300, "en")
    mark = harness.telegram.mark()
    for _ in range(26):
        user.send("/help")
    last = mark
    for _ in range(21):
        last = (await harness.telegram.wait_for_message(9300, after=last)).index + 1
    await harness.telegram.assert_no_message(9300, after=last, within=0.5)
    replies = [c for c in harness.telegram.sent_to(9300) if c.index >= mark]
    assert sum("what I can do" in (c.rendered_text or "") for c in replies) == 20
    assert sum("a bit fast" in (c.rendered_text or "") for c in replies) == 1

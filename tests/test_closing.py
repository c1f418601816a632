"""The campaign's end: /close drafts the report with the totals, it reaches every subscriber and
every donor once in their language (never a forgotten one), giving stops, the widget says so,
and the beneficiaries get the final summary once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bot.broadcasts.closing import ClosedBefore, ClosingReports
from bot.broadcasts.drafts import BroadcastDrafts, Settlement
from bot.broadcasts.queue import Claim, RecipientQueue, Step
from bot.broadcasts.store import BroadcastContent, BroadcastStore, now_ms
from bot.broadcasts.subscribers import Subscribers
from bot.campaign import CampaignFileError, load_campaign
from bot.donations.spending import EntryChange
from bot.storage import keys
from bot.storage.connection import connect
from handlers.donate import PRESET
from tests.broadcast_steps import add_subscribers, deliveries
from tests.campaign_files import campaign_text
from tests.conftest import ADMIN_ID, Harness
from tests.donation_steps import normalise
from tests.fakes.telegram import ApiCall, FakeUser
from tests.forget_steps import forget
from tests.test_insight import BENEFICIARY_GROUP, give, insight, run_job
from tests.test_spending import spend

__all__ = ["insight"]

POINTER_EN = "L'Auberge des Migrants carries on: help them directly."
POINTER_FR = "L'Auberge des Migrants continue : aidez-la directement."
AFTER_END = f"""
[after_end]
url = "https://www.laubergedesmigrants.fr/"
en = "{POINTER_EN}"
fr = "{POINTER_FR}"
"""


def campaign_file(folder: Path, top: str, tables: str = AFTER_END) -> Path:
    """The repository's campaign file with `top` before its first table and `tables` after."""
    path = folder / "campaign.toml"
    path.write_text(top + "\n" + campaign_text() + tables)
    return path


@pytest.fixture
def end_date() -> str:
    return "2099-12-31"


@pytest.fixture
def bot_env(bot_env: dict[str, str], tmp_path: Path, end_date: str) -> dict[str, str]:
    """The usual environment, with an end date and an after-end pointer in the campaign file."""
    path = campaign_file(tmp_path, f'end_date = "{end_date}"')
    return {**bot_env, "CAMPAIGN_FILE": str(path)}


async def widget(harness: Harness, lang: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(
        f"{harness.http}/widget", params={"lang": lang}
    ) as page:
        assert page.status == 200
        return await page.text()


def summaries(harness: Harness) -> list[str]:
    return [
        normalise(call.rendered_text) for call in harness.telegram.sent_to(BENEFICIARY_GROUP)
        if "récapitulatif final" in (call.rendered_text or "")
    ]


async def write_report(harness: Harness, english: str, french: str) -> ApiCall:
    """/close before the end date, confirmed; the organizer writes both texts; returns the
    preview's summary, after checking the question and the prefilled totals."""
    admin, telegram = harness.user(ADMIN_ID, "en"), harness.telegram
    mark = telegram.mark()
    admin.send("/close")
    question = await telegram.wait_for_message(ADMIN_ID, after=mark)
    assert "The campaign runs until December 31, 2099; close it now?" in (
        question.rendered_text or ""
    )
    mark = telegram.mark()
    admin.tap(question, "Close it now")
    ask = await telegram.wait_for_message(ADMIN_ID, after=mark)
    assert "Together we raised €75 (goal: €10,000), from 4 donors in 4 gifts." in (
        ask.rendered_text or ""
    )
    assert "Spent: €30 · still to spend: €45" in (ask.rendered_text or "")
    mark = telegram.mark()
    admin.send(english)
    await telegram.wait_for_message(ADMIN_ID, after=mark)
    mark = telegram.mark()
    admin.send(french)
    return await telegram.wait_for(
        lambda call: call.chat_id == ADMIN_ID
        and "Ready to send the closing report" in (call.rendered_text or ""),
        after=mark,
    )


async def told_over(harness: Harness, user: FakeUser, mark: int, text: str) -> ApiCall:
    message = await harness.telegram.wait_for_message(user.id, after=mark)
    assert text in normalise(message.rendered_text)
    assert message.button("").url == "https://www.laubergedesmigrants.fr/"
    return message


async def test_the_closing_report_reaches_everyone_once_and_giving_stops(
    insight: Harness,
) -> None:
    harness, telegram = insight, insight.telegram
    subscriber_en, subscriber_fr, both, donor_en, donor_fr, forgotten = range(7101, 7107)
    await add_subscribers(harness.env["REDIS_URL"], {
        subscriber_en: "en", subscriber_fr: "fr", both: "fr",
    })
    await give(harness, both, "10", "fr")
    await give(harness, donor_en, "20")
    await give(harness, donor_fr, "15", "fr")
    await give(harness, forgotten, "30")
    await forget(harness, harness.user(forgotten))

    # Before the report: a menu opened, and an amount asked for, by donors about to click.
    old_menu = harness.user(both, "fr")
    mark = telegram.mark()
    old_menu.send("/donate")
    menu = await telegram.wait_for_message(both, after=mark)
    typing = harness.user(donor_fr, "fr")
    mark = telegram.mark()
    typing.send("/donate")
    typing.tap(await telegram.wait_for_message(donor_fr, after=mark), "Autre montant")
    await telegram.wait_for(lambda call: "montant" in (call.rendered_text or ""), after=mark + 1)

    stranger = harness.user(7107)
    mark = telegram.mark()
    stranger.send("/close")
    refusal = await telegram.wait_for_message(7107, after=mark)
    assert refusal.rendered_text == "I don't know that command. Send /help to see what I can do."

    # Spent before closing: the report's facts and the beneficiaries' summary both say so.
    await spend(harness, EntryChange(3000, "Tents", "Tentes"), now_ms())
    summary = await write_report(harness, "CLOSE-EN: the tents went up.", "CLOSE-FR : les tentes.")
    start = telegram.mark()
    admin = harness.user(ADMIN_ID, "en")
    admin.tap(summary, "Close and send")
    report = await telegram.wait_for(
        lambda call: call.method == "editMessageText" and call.chat_id == ADMIN_ID
        and "is complete" in (call.rendered_text or ""),
        after=start, timeout=30,
    )
    assert "Sent: 5" in (report.rendered_text or "")
    english = deliveries(telegram, "CLOSE-EN", start)
    french = deliveries(telegram, "CLOSE-FR", start)
    assert english == {subscriber_en: 1, donor_en: 1}
    assert french == {subscriber_fr: 1, both: 1, donor_fr: 1}
    (to_both,) = [c for c in telegram.sent_to(both) if "CLOSE-FR" in (c.rendered_text or "")]
    assert "Ensemble, nous avons collecté 75 €" in normalise(to_both.rendered_text)

    # A second tap, and a second /close, send nothing more.
    mark = telegram.mark()
    assert summary.message_id is not None and menu.message_id is not None
    admin.tap_data(summary.message_id, summary.button("Close and send").callback_data)
    tapped = await telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery", after=mark
    )
    assert "Nothing was sent twice" in str(tapped.params.get("text"))
    admin.send("/close")
    again = await telegram.wait_for_message(ADMIN_ID, after=mark)
    assert "already closed: its closing report is broadcast #1" in (again.rendered_text or "")

    sessions = len(harness.stripe.sessions)
    mark = telegram.mark()
    harness.user(donor_en).send("/donate")
    over = await told_over(harness, harness.user(donor_en), mark, "The campaign is over")
    assert POINTER_EN in (over.rendered_text or "")
    mark = telegram.mark()
    old_menu.tap_data(menu.message_id, PRESET.data(frequency="once", amount=1000))
    await told_over(harness, old_menu, mark, "La campagne est terminée")
    mark = telegram.mark()
    typing.send("25")
    assert POINTER_FR in normalise(
        (await told_over(harness, typing, mark, "La campagne est terminée")).rendered_text
    )
    assert len(harness.stripe.sessions) == sessions, "no Checkout Session after the end"

    page = await widget(harness, "fr")
    assert "La campagne est terminée" in page and "Donner sur Telegram" not in page
    assert 'href="https://www.laubergedesmigrants.fr/"' in page
    assert "The campaign is over" in await widget(harness, "en")

    await run_job(harness, "beneficiary-feed")
    await run_job(harness, "beneficiary-feed")
    (final,) = summaries(harness)
    assert "Collecté (net) : 75 €" in final
    # Stripe's own fees are not known to the bot: the amount is labelled as before them.
    assert "À virer, avant les frais de carte de Stripe sur les dons dont le donateur ne les a " \
        "pas couverts : 45 €" in final
    assert "Remboursés : 0 €" in final and "Dépensé : 30 €" in final


@pytest.mark.parametrize("end_date", ["2020-01-31"])
async def test_after_the_end_date_donate_and_the_widget_say_it_is_over(
    insight: Harness,
) -> None:
    harness, telegram = insight, insight.telegram
    donor = harness.user(7201, "fr")
    mark = telegram.mark()
    donor.send("/donate")
    await told_over(harness, donor, mark, "La campagne est terminée")
    assert "The campaign is over" in await widget(harness, "en")
    organizer = harness.user(ADMIN_ID, "fr")
    mark = telegram.mark()
    organizer.send("/close")
    ask = await telegram.wait_for_message(ADMIN_ID, after=mark)
    assert "Bilan de clôture" in (ask.rendered_text or ""), "no question after the end date"
    assert "Ensemble, nous avons collecté 0 €" in normalise(ask.rendered_text)


def test_the_campaign_file_end_date_and_pointer_are_checked(tmp_path: Path) -> None:
    good = load_campaign(campaign_file(tmp_path, 'end_date = "2027-03-31"'))
    assert str(good.end.last_day) == "2027-03-31"
    assert good.end.texts == {"en": POINTER_EN, "fr": POINTER_FR}
    # The welcome and the offers are cached by campaign: it must stay hashable with a pointer.
    assert hash(good) == hash(load_campaign(campaign_file(tmp_path, 'end_date = "2027-03-31"')))
    bad = "\n[after_end]\nurl = \"http://example.org\"\nen = \"Only English\"\n"
    with pytest.raises(CampaignFileError) as refused:
        load_campaign(campaign_file(tmp_path, 'end_date = "31/03/2027"', bad))
    problems = " ".join(refused.value.problems)
    assert "end_date '31/03/2027' is not a date such as 2027-03-31" in problems
    assert "after_end url must start with https://" in problems


async def confirm_report(
    drafts: BroadcastDrafts, reports: ClosingReports, text: str
) -> Settlement | ClosedBefore:
    """A new closing draft, confirmed at once."""
    await drafts.start(ADMIN_ID, {"en": "Thanks", "fr": "Merci"})
    draft = await drafts.get(ADMIN_ID)
    assert draft is not None
    return await reports.create_from_draft(
        draft.token, BroadcastContent({"en": text, "fr": text}), created_by=ADMIN_ID,
        admin_locale="en", progress_chat=ADMIN_ID, progress_message=1,
    )


async def test_many_feeders_queue_each_donor_once_and_a_forget_leaves_no_trace(
    redis_url: str,
) -> None:
    redis = connect(redis_url)
    store, queue, reports = BroadcastStore(redis), RecipientQueue(redis), ClosingReports(redis)
    drafts = BroadcastDrafts(redis)
    try:
        # Enough donors for a hashed set, walked by a real cursor; some anonymous, some in French.
        donors = range(5000, 5300)
        await redis.sadd(keys.donors(), *(f"tg:{d}" for d in donors), "customer:cus_1")
        for donor in donors[::3]:
            await redis.hset(keys.user(donor), "locale", "fr")
        await Subscribers(redis).subscribe(5001, "en")
        await Subscribers(redis).subscribe(4000, "fr")
        made = await confirm_report(drafts, reports, "Report")
        assert isinstance(made, Settlement) and made.now
        assert await store.start_due() == made.broadcast_id == 1

        async def feed_all() -> None:
            while await queue.feed(1, 7):
                pass

        await asyncio.gather(*(feed_all() for _ in range(3)))
        fed = await queue.read(1, "a", 1000, 10) or []
        chats = [recipient.chat_id for recipient in fed]
        assert sorted(chats) == sorted([*donors, 5001, 4000]), "each donor once, then subscribers"
        assert {r.locale for r in fed if r.chat_id == 5003} == {"fr"}
        # The subscriber who is also a donor: their subscriber's entry is dropped, never sent.
        second = [r for r in fed if r.chat_id == 5001][1]
        (answer,) = await queue.step(1, [Step(None, second.entry_id)], now_ms() + 60_000)
        assert answer.claim is Claim.DROPPED

        await redis.srem(keys.donors(), "tg:5002")
        assert await queue.remove(1, 5002) == 1
        assert not await redis.sismember(keys.broadcast_donors_reached(1), "5002")
        assert 5002 not in [r.chat_id for r in await queue.reclaim(1, "b", 0)]

        assert await confirm_report(drafts, reports, "Again") == ClosedBefore(1)
        assert await redis.lrange(keys.beneficiary_feed(), 0, -1) == [
            '{"kind":"closing","broadcast":1}'
        ]
    finally:
        await redis.aclose()

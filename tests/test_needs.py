"""The needs board: bars on /needs, gifts chosen for a need, the general pool shared out by
/allocate, and the one announcement of a need filled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.campaign import CampaignFileError, load_campaign
from tests.broadcast_steps import add_subscribers, deliveries
from tests.campaign_files import QUIET_OFF, campaign_text
from tests.conftest import ADMIN_ID, ROOT, Harness, running_bot
from tests.donation_steps import (
    normalise,
    open_donate_menu,
    pay,
    wait_for_link,
    wait_for_thanks,
)
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import ApiCall, FakeBotAPI, FakeUser
from tests.forget_steps import forget
from tests.test_insight import run_job
from tests.test_monthly_manage import alert_for, tap_and_see

BENEFICIARY_GROUP = -100_700
# Small targets, so a few gifts fill a need: 4 blankets at 15 €, 2 tents at 90 €.
NEEDS = """
[[needs]]
id = "blankets"
en = "Blankets"
fr = "Couvertures"
unit_price = 15
target = 4

[[needs]]
id = "tents"
en = "Tents"
fr = "Tentes"
unit_price = 90
target = 2
photo = "PHOTO"
""".replace("PHOTO", str(ROOT / "assets/campaign-photo.png"))


def campaign_file(tmp_path: Path, needs: str) -> Path:
    """The repository's campaign file with these needs in place of its own."""
    text = campaign_text().split("# The needs board")[0]
    path = tmp_path / "campaign.toml"
    path.write_text(f"{text}{needs}\n[quiet_hours]\n{QUIET_OFF}\n", encoding="utf-8")
    return path


def board_env(bot_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {
        **bot_env, "CAMPAIGN_FILE": str(campaign_file(tmp_path, NEEDS)),
        "BENEFICIARY_CHAT_IDS": str(BENEFICIARY_GROUP),
    }


def without_jobs(harness: Harness) -> None:
    """The test runs the announcer and the feed itself, at the moments it chooses."""
    assert harness.bot.application is not None
    assert harness.bot.application.job_queue is not None
    for job in harness.bot.application.job_queue.jobs():
        job.enabled = False


@pytest.fixture
async def board(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe, tmp_path: Path
) -> AsyncIterator[Harness]:
    async with running_bot(board_env(bot_env, tmp_path), telegram, stripe_server) as harness:
        without_jobs(harness)
        yield harness


async def open_board(harness: Harness, user: FakeUser) -> ApiCall:
    """/needs: the board, known by its bars (a thank-you still on its way may come first)."""
    mark = harness.telegram.mark()
    user.send("/needs")
    return await harness.telegram.wait_for(
        lambda call: call.chat_id == user.id and call.method == "sendMessage"
        and any(bar in (call.rendered_text or "") for bar in "▰▱"),
        after=mark,
    )


async def needs_board(harness: Harness, user: FakeUser) -> str:
    return normalise((await open_board(harness, user)).rendered_text)


async def choose_need(harness: Harness, user: FakeUser, pick: str, choice: str) -> ApiCall:
    """/donate, the "For:" button, then a need: returns the amount menu drawn again."""
    menu = await open_donate_menu(harness, user)
    picker = await tap_and_see(harness, user, menu, pick)
    return await tap_and_see(harness, user, picker, choice)


async def give_for(
    harness: Harness, user: FakeUser, pick: str, choice: str, amount: str
) -> tuple[str, list[dict[str, object]]]:
    """A one-off gift of a preset amount for a need; returns its session and paid events."""
    menu = await choose_need(harness, user, pick, choice)
    mark = harness.telegram.mark()
    user.tap(menu, amount)
    _, session_id = await wait_for_link(harness, user, mark)
    return session_id, harness.stripe.complete_session(session_id)


async def test_gifts_move_their_need_once_and_the_rest_waits_in_the_general_pool(
    board: Harness,
) -> None:
    english, french = board.user(7001, "en"), board.user(7002, "fr")
    opened = await open_board(board, english)
    assert "Blankets ▱▱▱▱▱ 0 of 4\nTents ▱▱▱▱▱ 0 of 2" in (opened.rendered_text or "")
    photo = await tap_and_see(board, english, opened, "📷 Tents")
    assert photo.method == "sendPhoto"
    assert photo.rendered_text == "Tents ▱▱▱▱▱ 0 of 2"
    mark = board.telegram.mark()
    english.send("/start")
    welcome = await board.telegram.wait_for_message(english.id, after=mark)
    assert "What your gifts buy" in [b.text for row in welcome.buttons for b in row][3]

    menu = await open_donate_menu(board, english)
    assert menu.button("For: where it helps most ▾")
    picker = await tap_and_see(board, english, menu, "For:")
    assert [row[0].text for row in picker.buttons] == [
        "✅ where it helps most", "Blankets (0 of 4)", "Tents (0 of 2)"
    ]
    # A forged need is refused, and nothing is remembered: the menu still says the default.
    alert = await alert_for(board, english, picker.message_id or 0, "nd:c:once:socks")
    assert alert == "That need is not on the list any more. Open /donate again to choose."
    session_id, events = await give_for(board, english, "For:", "Blankets", "€20")
    assert board.stripe.sessions[session_id]["metadata"]["need"] == "blankets"
    mark = board.telegram.mark()
    await board.deliver(events)
    await board.deliver(events)
    # Its thank-you first, so it is not taken for the menu opened below.
    await wait_for_thanks(board, english, mark)

    # Monthly, where it helps most (the default): each payment adds to the general pool.
    menu = await open_donate_menu(board, french)
    assert menu.button("Pour : là où c'est le plus utile ▾")
    mark = board.telegram.mark()
    french.tap(menu, "Mensuel")
    monthly = await board.telegram.wait_for_edit(french.id, after=mark)
    mark = board.telegram.mark()
    french.tap(monthly, "10\xa0€ / mois")
    _, monthly_id = await wait_for_link(board, french, mark)
    assert "need" not in board.stripe.sessions[monthly_id]["metadata"]
    await pay(board, monthly_id)
    await board.deliver(
        board.stripe.renew_subscription(str(board.stripe.sessions[monthly_id]["subscription"]))
    )
    shown = await needs_board(board, french)
    assert "Couvertures ▰▱▱▱▱ 1 sur 4\nTentes ▱▱▱▱▱ 0 sur 2" in shown
    assert "encore à répartir : 20 €" in shown

    # A refund takes its money back off the need it went to: 10 € of 20 € leaves no blanket.
    payment_intent = str(board.stripe.sessions[session_id]["payment_intent"])
    await board.deliver(board.stripe.refund(payment_intent, 1000))
    assert "Blankets ▱▱▱▱▱ 0 of 4" in await needs_board(board, english)
    # The donor's choice stays theirs for the next gift, shown on the menu; the same amount
    # tapped on the same menu for another need is another pledge, with its own session.
    menu = await open_donate_menu(board, english)
    assert menu.button("For: Blankets ▾")
    chosen = []
    for need in ("Blankets", "Tents"):
        picker = await tap_and_see(board, english, menu, "For:")
        menu = await tap_and_see(board, english, picker, need)
        mark = board.telegram.mark()
        english.tap(menu, "€5")
        chosen.append((await wait_for_link(board, english, mark))[1])
    assert [board.stripe.sessions[sid]["metadata"]["need"] for sid in chosen] == [
        "blankets", "tents"
    ]
    # The choice is personal data like the rest: /forget takes it away.
    await forget(board, english)
    menu = await open_donate_menu(board, english)
    assert menu.button("For: where it helps most ▾")


async def test_a_need_filled_by_gifts_at_once_is_announced_once_even_after_a_crash(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe, tmp_path: Path
) -> None:
    env = board_env(bot_env, tmp_path)
    async with running_bot(env, telegram, stripe_server) as first:
        without_jobs(first)
        await add_subscribers(env["REDIS_URL"], {7101: "en", 7102: "fr"})
        paid = []
        for user_id in (7201, 7202, 7203):
            user = first.user(user_id, "fr")
            paid.append((await give_for(first, user, "Pour :", "Couvertures", "50\xa0€"))[1])
        # Together they fill it (60 €), each delivered five times at once: the two counted first
        # fill it, the third goes to the general pool, as the announcement says.
        statuses = await asyncio.gather(*(
            stripe_server.deliver(event, first.webhook_url)
            for events in paid for event in events for _ in range(5)
        ))
        assert set(statuses) == {200}
        shown = await needs_board(first, first.user(7301))
        assert "Blankets ▰▰▰▰▰ 6 of 4 ✅ filled" in shown
        assert "still to be shared out: €50" in shown
        mark = telegram.mark()
    # The process stopped before announcing it: the next one does, from its start-up on.
    async with running_bot(env, telegram, stripe_server) as board:
        await telegram.wait_for(
            lambda call: call.chat_id == ADMIN_ID and "is complete" in (call.rendered_text or ""),
            after=mark, timeout=10,
        )
        await run_job(board, "needs-announcer")
        assert deliveries(telegram, "Blankets: the target is reached!", mark) == {7101: 1}
        assert deliveries(telegram, "Couvertures : l'objectif est atteint", mark) == {7102: 1}
        french = next(c for c in telegram.sent_to(7102) if c.index >= mark)
        assert "Grâce à vous, le compte y est : 4 sur 4 (60 €)" in normalise(french.rendered_text)
        assert "les dons choisis pour ce besoin, mensuels compris, vont là où ils sont le plus " \
            "utiles" in normalise(french.rendered_text)

        for _ in range(2):
            await run_job(board, "beneficiary-feed")
        told = [c for c in telegram.sent_to(BENEFICIARY_GROUP) if "Besoin couvert" in (
            c.rendered_text or ""
        )]
        assert [normalise(c.rendered_text) for c in told] == [
            "🎉 Besoin couvert : Couvertures, 4 sur 4 (60 €)."
        ]
        # A choice remembered for the filled need falls back to the general pool; the picker
        # still shows it, done, and a tap on it says where the gift goes instead.
        chooser = board.user(7201, "fr")
        menu = await open_donate_menu(board, chooser)
        assert menu.button("Pour : là où c'est le plus utile ▾")
        picker = await tap_and_see(board, chooser, menu, "Pour :")
        assert [row[0].text for row in picker.buttons][1] == "Couvertures (6 sur 4) ✅"
        assert await alert_for(board, chooser, picker.message_id or 0, "nd:c:once:blankets") == (
            "Objectif déjà atteint pour Couvertures : votre don ira là où il est le plus utile."
        )
        menu = await open_donate_menu(board, chooser)
        mark = telegram.mark()
        chooser.tap(menu, "20\xa0€")
        _, session_id = await wait_for_link(board, chooser, mark)
        assert "need" not in board.stripe.sessions[session_id]["metadata"]


async def test_organizers_share_the_general_pool_out_once(board: Harness) -> None:
    donor = board.user(7401, "en")
    _, session_id = await wait_for_link(board, donor, await _tap_amount(board, donor, "€100"))
    await pay(board, session_id)
    admin = board.user(ADMIN_ID, "fr")

    async def answer(text: str, user: FakeUser = admin) -> ApiCall:
        mark = board.telegram.mark()
        user.send(text)
        return await board.telegram.wait_for_message(user.id, after=mark)

    refusals = [
        normalise((await answer(text)).rendered_text)
        for text in (
            "/allocate", "/allocate socks 10", "/allocate tents -5", "/allocate tents 500"
        )
    ]
    assert refusals == [
        "Envoyez /allocate suivi d'un besoin et d'un montant, par exemple : /allocate blankets "
        "150. Besoins : blankets, tents",
        "Aucun besoin ne s'appelle « socks ». Besoins : blankets, tents",
        "Le montant doit être supérieur à zéro.",
        "500 €, c'est plus que les 100 € de dons « là où c'est le plus utile » qui restent à "
        "répartir. Rien n'a été attribué.",
    ]
    stranger = await answer("/allocate tents 90", board.user(7402, "en"))
    assert "I don't know that command" in (stranger.rendered_text or "")

    # Nothing is charged, so a few cents can be shared out: Stripe's minimum is not asked.
    small = await answer("/allocate blankets 0,20")
    assert normalise(small.rendered_text).startswith(
        "Attribuer 0,20 € des dons « là où c'est le plus utile » à Couvertures : le compteur "
        "n'avance pas encore."
    )
    preview = await answer("/allocate tents 90")
    assert normalise(preview.rendered_text) == (
        "Attribuer 90 € des dons « là où c'est le plus utile » à Tentes : le compteur avance de "
        "1. "
        "Reste à répartir : 100 €."
    )
    mark = board.telegram.mark()
    admin.tap(preview, "Attribuer")
    admin.tap(preview, "Attribuer")
    await board.telegram.wait_for_edit(ADMIN_ID, after=mark)
    alert = await board.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery" and "text" in call.params, after=mark
    )
    assert "déjà été faite" in str(alert.params["text"])
    # Cancel after Confirm (tapped on a copy of the preview, as two devices would): the
    # allocation stands, and the organizer is told so.
    late = await alert_for(board, admin, preview.message_id or 0, str(
        preview.button("Annuler").callback_data
    ))
    assert late == "Cette attribution a déjà été faite : rien n'a été annulé."
    shown = await needs_board(board, admin)
    assert "Tentes ▰▰▱▱▱ 1 sur 2" in shown
    assert "encore à répartir : 10 €" in shown


async def _tap_amount(harness: Harness, user: FakeUser, label: str) -> int:
    menu = await open_donate_menu(harness, user)
    mark = harness.telegram.mark()
    user.tap(menu, label)
    return mark


async def test_without_needs_the_board_stays_out_of_sight(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe, tmp_path: Path
) -> None:
    env = {**bot_env, "CAMPAIGN_FILE": str(campaign_file(tmp_path, ""))}
    async with running_bot(env, telegram, stripe_server) as harness:
        user = harness.user(7501, "fr")
        mark = telegram.mark()
        user.send("/needs")
        empty = await telegram.wait_for_message(user.id, after=mark)
        assert normalise(empty.rendered_text) == (
            "La collecte ne liste pas de besoins précis : chaque don va là où il est le plus "
            "utile."
        )
        menu = await open_donate_menu(harness, user)
        labels = [b.text for row in menu.buttons for b in row]
        assert not any("Pour :" in label for label in labels)
        mark = telegram.mark()
        user.send("/progress")
        progress = await telegram.wait_for_message(user.id, after=mark)
        assert [b.text for row in progress.buttons for b in row] == ["💶 Faire un don"]


@pytest.mark.parametrize(("entry", "problem"), [
    ('id = "Blankets"', "needs entry 1 id must be 1 to 16 lowercase letters"),
    ('id = "a"\nen = "A"\nfr = "A"\nunit_price = 1.5\ntarget = 3', "unit_price"),
    ('id = "a"\nen = "A"\nfr = "A"\nunit_price = 0\ntarget = 3', "greater than zero"),
    ('id = "a"\nen = "A"\nfr = "A"\nunit_price = 5\ntarget = 0', "target must be a whole"),
    ('id = "a"\nen = "A"\nunit_price = 5\ntarget = 3', "needs entry 1 fr must be a text"),
    ('id = "a"\nen = "A"\nfr = "A"\nunit_price = 5\ntarget = 3\nphoto = "none.png"',
     "photo points to"),
])
def test_bad_needs_are_refused_at_start_up(tmp_path: Path, entry: str, problem: str) -> None:
    path = campaign_file(tmp_path, f"\n[[needs]]\n{entry}\n")
    with pytest.raises(CampaignFileError) as refused:
        load_campaign(path)
    (line,) = refused.value.problems
    assert problem in line, line

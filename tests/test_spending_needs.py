"""/spent asks which need a spend served when the campaign file lists needs: the need is shown
in the preview and in /spending, counted on /needs, changed or kept by a correction, and
forgotten by a removal, in both languages. Without needs there is no such step
(tests/test_spending.py runs its flows on a campaign file without needs)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest

from bot.donations.spending_drafts import SpendingDrafts
from tests.conftest import ADMIN_ID, Harness
from tests.donation_steps import normalise
from tests.fakes.telegram import ApiCall, FakeUser
from tests.test_spending import FRENCH_ADMIN, alert, answer, confirmed, reply_to, spending

NEEDS_EN = ["Blankets", "Sleeping bags", "Tents", "Drinking water (a day for one person)"]


@pytest.fixture
def bot_env(bot_env: dict[str, str]) -> dict[str, str]:
    """Two organizers, one reading English, the other French; the repository's campaign file,
    which lists needs."""
    return {**bot_env, "ADMIN_IDS": f"{ADMIN_ID},{FRENCH_ADMIN}"}


def drafts(harness: Harness) -> SpendingDrafts:
    assert harness.bot.application is not None
    services = harness.bot.application.bot_data.services
    assert services is not None
    return services.spending_drafts


def labels(call: ApiCall) -> list[str]:
    return [button.text for row in call.buttons for button in row]


async def preview(
    harness: Harness, admin: FakeUser, act: Callable[[], object], confirm: str
) -> tuple[list[str], ApiCall]:
    """Do the step that ends the questions; each language's preview page, and the summary."""
    mark = harness.telegram.mark()
    act()
    summary = await harness.telegram.wait_for(
        lambda call: call.chat_id == admin.id and confirm in str(call.buttons), after=mark
    )
    pages = [
        normalise(call.rendered_text) for call in harness.telegram.calls[mark:summary.index]
        if call.method in ("sendPhoto", "sendMessage") and call.chat_id == admin.id
    ][1:]
    return pages, summary


async def ask_need(harness: Harness, admin: FakeUser, amount: str, no_photo: str) -> ApiCall:
    """/spent up to the need step, without a photo."""
    await answer(harness, admin, "/spent")
    await answer(harness, admin, amount)
    await answer(harness, admin, f"Bought {amount}")
    ask_photo = await reply_to(harness, admin, lambda: admin.send(f"Acheté {amount}"))
    return await reply_to(harness, admin, lambda: admin.tap(ask_photo, no_photo))


async def keep_to_need(harness: Harness, admin: FakeUser, entry: int, keep: str) -> ApiCall:
    """`/spent edit <entry>`, keeping amount and both texts: the need step."""
    step = await reply_to(harness, admin, lambda: admin.send(f"/spent edit {entry}"))
    for _ in range(3):
        step = await reply_to(harness, admin, partial(admin.tap, step, keep))
    return step


async def board(harness: Harness, user: FakeUser) -> str:
    return normalise((await reply_to(harness, user, lambda: user.send("/needs"))).rendered_text)


async def test_a_spend_names_its_need_everywhere_and_a_correction_changes_or_keeps_it(
    harness: Harness,
) -> None:
    admin = harness.user(ADMIN_ID, "en")
    french_admin = harness.user(FRENCH_ADMIN, "fr")
    reader = harness.user(7401, "fr")
    english = harness.user(7402, "en")

    question = await ask_need(harness, admin, "300", "No photo")
    assert "Which need did this serve?" in (question.rendered_text or "")
    assert labels(question) == [*NEEDS_EN, "None / general", "Cancel"]
    assert "tap one of the buttons" in await answer(harness, admin, "Blankets")
    # Forged: a need the campaign file does not list is refused and nothing is chosen.
    assert "not on the campaign's list" in await alert(harness, admin, question, "spt:need:boat")
    draft = await drafts(harness).get(ADMIN_ID)
    assert draft is not None and draft.need is None
    pages, summary = await preview(
        harness, admin, lambda: admin.tap(question, "Blankets"), "Record it"
    )
    assert pages[0].endswith("Bought 300\nFor: Blankets")
    assert pages[1].endswith("Acheté 300\nPour : Couvertures")
    assert "entry #1" in await confirmed(harness, admin, summary, "Record it")

    question = await ask_need(harness, french_admin, "20", "Pas de photo")
    assert "À quel besoin cette dépense a-t-elle servi ?" in (question.rendered_text or "")
    assert labels(question)[-2:] == ["Aucun / général", "Annuler"]
    pages, summary = await preview(
        harness, french_admin, lambda: french_admin.tap(question, "Aucun"), "L'enregistrer"
    )
    assert pages[1].endswith("Acheté 20")
    assert "n° 2" in await confirmed(harness, french_admin, summary, "L'enregistrer")

    newest = await reply_to(harness, reader, lambda: reader.send("/spending"))
    assert "Pour :" not in (newest.rendered_text or "")
    older = await reply_to(harness, reader, lambda: reader.tap(newest, "Plus ancien"))
    assert normalise(older.rendered_text).endswith("Acheté 300\nPour : Couvertures")
    assert "🧾 €300 spent on Blankets" in await board(harness, english)
    assert "🧾 Couvertures : 300 € déjà dépensés" in await board(harness, reader)

    # A correction shows the need it has now, and moves the spend to the one chosen instead.
    question = await keep_to_need(harness, french_admin, 1, "Le garder")
    assert "Pour l'instant : Couvertures" in (question.rendered_text or "")
    assert labels(question)[:3] == ["Couvertures", "Sacs de couchage", "Tentes"]
    assert "Le garder" in labels(question)
    pages, summary = await preview(
        harness, french_admin, lambda: french_admin.tap(question, "Tentes"), "Le corriger"
    )
    assert pages[1].endswith("Pour : Tentes")
    assert "n° 1 corrigée" in await confirmed(harness, french_admin, summary, "Le corriger")
    shown = await board(harness, english)
    assert "🧾 €300 spent on Tents" in shown and "on Blankets" not in shown

    # Keep leaves the need as it is, while the amount changes under it.
    await answer(harness, admin, "/spent edit 1")
    step = await reply_to(harness, admin, lambda: admin.send("250"))
    for _ in range(2):
        step = await reply_to(harness, admin, partial(admin.tap, step, "Keep it"))
    assert "It is for Tents now" in (step.rendered_text or "")
    pages, summary = await preview(
        harness, admin, lambda: admin.tap(step, "Keep it"), "Correct it"
    )
    assert pages[0].endswith("For: Tents")
    assert "corrected" in await confirmed(harness, admin, summary, "Correct it")
    assert "🧾 Tentes : 250 € déjà dépensés" in await board(harness, reader)
    assert (await spending(harness).summary()).by_need == {"tents": 25000}

    removal = await reply_to(harness, admin, lambda: admin.send("/spent remove 1"))
    assert "removed" in await confirmed(harness, admin, removal, "Yes")
    assert "🧾" not in await board(harness, english)
    assert (await spending(harness).summary()).by_need == {}

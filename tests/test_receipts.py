"""Honest tax receipts: no issuer, no tax reduction said plainly; with an association as issuer,
Checkout asks for the address, /export receipts lists each gift kept once with its number, the
donor's yearly statement gives those numbers, and /forget keeps only receipts already issued."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.campaign import load_campaign
from bot.config import ConfigError, load_settings
from bot.donations.ledger import Donation, DonationLedger
from bot.reports.french_amounts import euros_in_words
from bot.storage.connection import connect
from tests.conftest import ADMIN_ID, ROOT, Harness, running_bot
from tests.donation_steps import normalise, open_donate_menu, pay, pledge, wait_for_thanks
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import FakeBotAPI, FakeUser
from tests.forget_steps import forget
from tests.keyspace import traces_of
from tests.test_config import VALID
from tests.test_mygift import alert_after, my_gifts

ISSUER = """[receipts.issuer]
name = "L'Auberge des Migrants"
address = "1 rue de l'Exemple, 62100 Calais"
object = "Aide aux personnes exilées à Calais"
article = "article 200 du CGI"
identifier = "W622000000"
"""
FRENCH_ORGANIZER = ADMIN_ID + 1
# The beneficiaries' group, the one group the bot answers in: no export may land there.
ORGANIZERS_GROUP = -100_730
ANA = {"line1": "12 quai de la Colonne", "postal_code": "62100", "city": "Calais"}


def year_now() -> str:
    return str(datetime.now(load_campaign(ROOT / "campaign.toml").timezone).year)


def campaign_with(tmp_path: Path, receipts: str) -> Path:
    """The repository's campaign file with its [receipts] table replaced."""
    base = (ROOT / "campaign.toml").read_text(encoding="utf-8")
    path = tmp_path / "campaign.toml"
    # The campaign photo is found beside the file.
    (tmp_path / "assets").symlink_to(ROOT / "assets")
    path.write_text(base.replace('issuer = "none"', "").replace("[receipts]\n", receipts))
    return path


@pytest.fixture
async def with_issuer(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe, tmp_path: Path
) -> AsyncIterator[Harness]:
    env = {
        **bot_env, "CAMPAIGN_FILE": str(campaign_with(tmp_path, ISSUER)),
        "ADMIN_IDS": f"{ADMIN_ID},{FRENCH_ORGANIZER}",
        "BENEFICIARY_CHAT_IDS": str(ORGANIZERS_GROUP),
    }
    async with running_bot(env, telegram, stripe_server) as running:
        yield running


async def statement(harness: Harness, user: FakeUser, label: str, needle: str) -> str:
    """/mygift, then its statement button; the statement as the donor reads it."""
    listing = await my_gifts(harness, user, "")
    mark = harness.telegram.mark()
    user.tap(listing, label)
    shown = await harness.telegram.wait_for(
        lambda call: call.chat_id == user.id and needle in (call.rendered_text or ""), after=mark
    )
    return normalise(shown.rendered_text)


async def give(
    harness: Harness, user: FakeUser, label: str, *, monthly: bool = False,
    name: str = "Ana Lima",
) -> str:
    """A gift paid with the donor's name (and the test address); returns its PaymentIntent."""
    _, session_id = await pledge(harness, user, label, monthly=monthly)
    mark = harness.telegram.mark()
    await harness.deliver(harness.stripe.complete_session(session_id, name=name, address=ANA))
    await wait_for_thanks(harness, user, mark)
    session = harness.stripe.sessions[session_id]
    assert session["billing_address_collection"] == "required"
    if monthly:
        return str(harness.stripe.invoices[session["invoice"]]["payment_intent"])
    return str(session["payment_intent"])


async def in_group(harness: Harness, mark: int, text: str) -> None:
    """The group is told this (among the feed's own posts)."""
    await harness.telegram.wait_for(
        lambda call: call.chat_id == ORGANIZERS_GROUP and normalise(call.rendered_text) == text,
        after=mark,
    )


async def export_rows(
    harness: Harness, organizer: int = ADMIN_ID, chat_id: int | None = None
) -> list[dict[str, str]]:
    """/export receipts (typed in the group `chat_id`, if given): the rows of the CSV that the
    organizer gets in their private chat."""
    locale = "fr" if organizer == FRENCH_ORGANIZER else "en"
    mark = harness.telegram.mark()
    harness.user(organizer, locale).send("/export receipts", chat_id=chat_id)
    document = await harness.telegram.wait_for(
        lambda call: call.method == "sendDocument", after=mark, timeout=10
    )
    assert document.chat_id == organizer
    caption = {"en": "Tax receipts list: ", "fr": "Liste des reçus fiscaux : "}[locale]
    assert caption in normalise(document.text)
    content = next(iter(document.files.values())).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(content)))


async def test_with_no_issuer_donate_help_and_the_statement_say_there_is_no_tax_receipt(
    harness: Harness,
) -> None:
    donor = harness.user(7301, "fr")
    menu = await open_donate_menu(harness, donor)
    assert "ne donnent ni reçu fiscal ni réduction d'impôt" in (menu.rendered_text or "")
    helped = await my_gifts(harness, harness.user(7302, "en"), "what I can do", "/help")
    assert "gifts give no tax receipt or tax reduction" in (helped.rendered_text or "")

    _, session_id = await pledge(harness, donor, "20\xa0€")
    # No receipt, so no address asked for, and no name kept.
    assert harness.stripe.sessions[session_id]["billing_address_collection"] is None
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    await wait_for_thanks(harness, donor, mark)
    assert await traces_of(harness.env["REDIS_URL"], "Test Donor") == []
    shown = await statement(harness, donor, f"Mon récapitulatif {year_now()}", "Vos dons en")
    assert "Ceci n'est pas un reçu fiscal" in shown and "reçu n°" not in shown
    assert f"Total en {year_now()} : 20 €" in shown
    # A forged year beyond this one: a polite alert, no statement.
    mark = harness.telegram.mark()
    assert "n'est plus valable" in await alert_after(harness, donor, 1, "rc:y:2999")
    await harness.telegram.assert_no_message(donor.id, after=mark)

    refused = await my_gifts(harness, harness.user(ADMIN_ID, "fr"), "reçu", "/export receipts")
    assert "Aucun reçu fiscal ne peut être émis" in (refused.rendered_text or "")


async def test_with_an_issuer_each_gift_kept_is_listed_once_numbered_and_forget_keeps_issued_ones(
    with_issuer: Harness,
) -> None:
    harness = with_issuer
    ana, ben = harness.user(7311, "fr"), harness.user(7312, "en")
    menu = await open_donate_menu(harness, ana)
    assert "Les reçus fiscaux sont émis par L'Auberge des Migrants" in (menu.rendered_text or "")
    helped = await my_gifts(harness, ben, "what I can do", "/help")
    assert "Tax receipts are issued by L'Auberge des Migrants" in (helped.rendered_text or "")

    # Recorded by a release that did not ask for addresses: nothing known of its donor.
    async with connect(harness.env["REDIS_URL"]) as redis:
        await DonationLedger(redis).record(Donation(
            donation_id="pi_before_addresses", amount=1500, currency="EUR", kind="once",
            created=int(time.time()) - 60, locale="fr", stripe_ids={"payment_intent": "x"},
        ), None)
    fifty = await give(harness, ana, "50\xa0€")
    refunded = await give(harness, ben, "€20", name="Ben Ward")
    hundred = await give(harness, ana, "100\xa0€")
    await harness.deliver(harness.stripe.refund(refunded))
    await harness.deliver(harness.stripe.refund(hundred, 3000))
    await give(harness, ben, "€10 / month", monthly=True, name="Ben Ward")

    # Asked for in a group: the list goes to the organizer alone, the group hears only that.
    mark = harness.telegram.mark()
    rows = await export_rows(harness, chat_id=ORGANIZERS_GROUP)
    await in_group(harness, mark, "I've sent it to you in a private message: it holds donors' "
                   "details, so it never goes to a group.")
    assert [call.chat_id for call in harness.telegram.calls[mark:]
            if call.method == "sendDocument"] == [ADMIN_ID]
    assert [row["receipt number"] for row in rows] == ["1", "2", "3", "4"]
    # The first is the earliest; Stripe dates the others to the same second as each other.
    assert sorted((row["donor"], row["amount"], row["payment method"]) for row in rows) == [
        ("Ana Lima", "50.00", "card"), ("Ana Lima", "70.00", "card"),
        # The invoice of a monthly gift does not say how it was paid.
        ("Ben Ward", "10.00", "unknown"), ("unknown", "15.00", "unknown"),
    ]  # fmt: skip
    number = {row["amount"]: row["receipt number"] for row in rows}
    first, kept = rows[0], next(row for row in rows if row["amount"] == "70.00")
    assert (first["address"], first["postal code"], first["city"]) == ("unknown",) * 3
    assert (kept["address"], kept["postal code"], kept["city"], kept["country"]) == (
        "12 quai de la Colonne", "62100", "Calais", "France",
    )  # fmt: skip
    assert kept["amount in words (French)"] == "soixante-dix euros"
    assert (kept["legal article"], kept["issuer"], kept["SIREN or RNA number"]) == (
        "article 200 du CGI", "L'Auberge des Migrants", "W622000000",
    )  # fmt: skip

    assert {row["status"] for row in rows} == {"issued"}

    # Refunded in part once its receipt is issued: the receipt stays as issued, marked.
    await harness.deliver(harness.stripe.refund(fifty, 2000))
    later = await give(harness, ana, "5\xa0€")
    shown = await statement(harness, ana, f"Mon récapitulatif {year_now()}", "Vos dons en")
    assert "émis par L'Auberge des Migrants" in shown
    assert f"50 € — reçu n° {number['50.00']} (remboursé en partie après émission : montant " \
        "conservé 30 €)" in shown
    assert f"70 € — reçu n° {number['70.00']}\n" in shown
    assert "5 € — reçu pas encore émis" in shown
    assert f"Total en {year_now()} : 105 €" in shown

    # Numbers stay; the new gift takes the next one, in the organizer's other language.
    again = await export_rows(harness, FRENCH_ORGANIZER)
    assert [(row["numéro d'ordre du reçu"], row["montant"]) for row in again] == [
        (row["receipt number"], row["amount"]) for row in rows
    ] + [("5", "5.00")]
    assert again[0]["donateur"] == "inconnu" and again[-1]["mode de versement"] == "carte bancaire"
    assert next(row["statut"] for row in again if row["montant"] == "50.00") == (
        "remboursé en partie après émission : montant conservé 30\xa0€"
    )

    # Issued receipts stay with the association, tied to nobody on Telegram; the rest goes.
    await harness.deliver(harness.stripe.refund(later))
    unissued = await give(harness, ana, "10\xa0€")
    # Paid before /forget, reaching the bot after: counted anonymous, so with no name either.
    _, held = await pledge(harness, ana, "20\xa0€")
    held_back = harness.stripe.complete_session(held, name="Ana Lima", address=ANA)
    mark = harness.telegram.mark()
    await forget(harness, ana, "Oui")
    confirm = await harness.telegram.wait_for_message(ana.id, after=mark)
    assert "reçus fiscaux déjà émis pour vos dons restent chez L'Auberge des Migrants" in (
        confirm.rendered_text or ""
    )
    await harness.deliver(held_back)
    redis_url = harness.env["REDIS_URL"]
    assert await traces_of(redis_url, str(ana.id)) == []
    assert sorted(await traces_of(redis_url, "Ana Lima")) == sorted(
        f"calais:donation:{gift}" for gift in (fifty, hundred, later)
    )
    final = await export_rows(harness)
    # The fifth, refunded once issued, stays for the association to cancel; its number is not
    # given again.
    assert [(row["receipt number"], row["donor"]) for row in final] == [
        *((row["receipt number"], row["donor"]) for row in rows), ("5", "Ana Lima"),
        ("6", "unknown"), ("7", "unknown"),
    ]
    assert (final[4]["amount"], final[4]["status"]) == (
        "5.00", "refunded after issue: cancel this receipt"
    )
    assert final[-1]["city"] == "unknown"
    assert unissued not in await traces_of(redis_url, "Ana Lima")

    # The plain export (Stripe ids, public names) asked for in the group by an organizer the bot
    # cannot write to privately (never started, or blocked): the group hears how to get it.
    harness.telegram.blocked.add(FRENCH_ORGANIZER)
    mark = harness.telegram.mark()
    harness.user(FRENCH_ORGANIZER, "fr").send("/export", chat_id=ORGANIZERS_GROUP)
    await in_group(harness, mark, "Il contient des données des donateurs, je ne l'envoie donc "
                   "qu'en message privé : ouvrez une conversation avec moi, touchez Démarrer, "
                   "puis redemandez-le.")
    assert not [call for call in harness.telegram.calls[mark:]
                if call.method == "sendDocument" and call.ok]


@pytest.mark.parametrize(
    ("receipts", "expected"),
    [
        ('[receipts]\nissuer = "yes"\n', 'receipts.issuer must be "none" or a table'),
        (
            '[receipts.issuer]\nname = "Asso"\n',
            "receipts.issuer is missing address, object and article: a receipt needs",
        ),
        (
            ISSUER.replace('"W622000000"', '"12345"'),
            "receipts.issuer identifier must be a SIREN number (9 digits) or an RNA number",
        ),
        (ISSUER + 'sirne = "x"\n', "receipts.issuer has an unknown key 'sirne'"),
        (ISSUER.replace('name = "L', "name = 1\n#"), "receipts.issuer name must be a text"),
    ],
)
def test_bad_receipts_values_are_refused_at_start_up_with_one_line_each(
    tmp_path: Path, receipts: str, expected: str
) -> None:
    campaign = tmp_path / "campaign.toml"
    campaign.write_text(f'photo = ""\n{receipts}', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings({**VALID, "CAMPAIGN_FILE": str(campaign)}, dotenv_path=None)
    assert len(caught.value.problems) == 1, caught.value.problems
    assert caught.value.problems[0].startswith("CAMPAIGN_FILE")
    assert expected in caught.value.problems[0]


def test_amounts_are_written_in_french_words_as_a_receipt_states_them() -> None:
    amounts = (100, 2100, 8000, 20050, 8_000_000, 200_000_000)
    assert [euros_in_words(cents) for cents in amounts] == [
        "un euro", "vingt et un euros", "quatre-vingts euros",
        "deux cents euros et cinquante centimes", "quatre-vingt mille euros",
        "deux millions d'euros",
    ]  # fmt: skip
    assert euros_in_words(9_171) == "quatre-vingt-onze euros et soixante et onze centimes"

"""Covering the card fees (gross-up, Checkout fee line, ledger kept apart) and impact units."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import aiohttp
import pytest

from bot.config import ConfigError, load_settings
from bot.donations.fees import FeeRule
from bot.donations.impact import impact_lines, impact_sentence
from bot.donations.ledger import Donation, DonationLedger
from bot.i18n import Localizer
from bot.reports.export import COLUMNS
from bot.storage.connection import connect
from tests.conftest import ADMIN_ID, Harness
from tests.donation_steps import normalise, open_donate_menu, pay, pledge, wait_for_thanks
from tests.fakes.telegram import ApiCall, FakeUser
from tests.test_config import VALID
from tests.test_monthly_manage import open_view, tap_and_see


async def _link_edited(harness: Harness, user: FakeUser, mark: int) -> tuple[ApiCall, str]:
    """The link message as a fee toggle redrew it, and the session behind its new button."""
    edit = await harness.telegram.wait_for(
        lambda call: call.ok and call.method == "editMessageText" and call.chat_id == user.id,
        after=mark,
    )
    url = edit.buttons[0][0].url
    return edit, next(sid for sid, s in harness.stripe.sessions.items() if s["url"] == url)


def _lines(harness: Harness, session_id: str) -> list[tuple[str, int, bool]]:
    """The Checkout Session's line items: name, amount, recurring."""
    return [
        (item.name, item.amount, item.price["recurring"] is not None)
        for item in harness.stripe.plans[session_id].items
    ]


async def _admin_reads(
    harness: Harness, locale: str
) -> tuple[str, list[tuple[str, str, str, str]]]:
    """What an organizer sees in /stats, and per /export row its amount, fee, kind, refund."""
    admin = harness.user(ADMIN_ID, locale)
    mark = harness.telegram.mark()
    admin.send("/stats")
    stats = await harness.telegram.wait_for_message(ADMIN_ID, after=mark)
    mark = harness.telegram.mark()
    admin.send("/export")
    document = await harness.telegram.wait_for(
        lambda c: c.method == "sendDocument", after=mark, timeout=10
    )
    rows = list(csv.reader(io.StringIO(next(iter(document.files.values())).decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    found = [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]
    return normalise(stats.rendered_text), sorted(
        (row["amount"], row["covered_fee"], row["kind"], row["refund_status"]) for row in found
    )


async def test_one_off_gift_with_the_fee_covered_counts_the_gift_and_keeps_the_fee_apart(
    harness: Harness,
) -> None:
    assert FeeRule(rate_bp=150, fixed=25).cover(1000) == 41
    user = harness.user(6101, "en")
    menu = await open_donate_menu(harness, user)
    assert "€15 = a blanket for a night" in (menu.rendered_text or "")
    assert "€90 = a tent against the rain" in (menu.rendered_text or "")

    link, first_id = await pledge(harness, user, "€10")
    assert [row[0].text for row in link.buttons] == [
        "🔒 Give €10 with Stripe", "➕ Add €0.41 so all of your €10 reaches l'Auberge des Migrants"
    ]
    mark = harness.telegram.mark()
    user.tap(link, "Add €0.41")
    covered, covered_id = await _link_edited(harness, user, mark)
    session = harness.stripe.sessions[covered_id]
    assert session["amount_total"] == 1041
    assert _lines(harness, covered_id) == [
        ("Donation to l'Auberge des Migrants (Calais)", 1000, False),
        ("Card fees covered", 41, False),
    ]
    assert session["metadata"]["gift_amount"] == "1000"
    assert session["metadata"]["covered_fee"] == "41"
    assert covered.buttons[0][0].text == "🔒 Give €10.41 with Stripe"
    assert "€0.41 of it covers the card fees" in (covered.rendered_text or "")

    # Off again: the gift alone; on again: the same fee-covered session, not a second one.
    mark = harness.telegram.mark()
    user.tap(link, "Fees covered")
    plain, plain_id = await _link_edited(harness, user, mark)
    assert harness.stripe.sessions[plain_id]["amount_total"] == 1000
    assert _lines(harness, plain_id) == [
        ("Donation to l'Auberge des Migrants (Calais)", 1000, False)
    ]
    assert plain.buttons[1][0].text.startswith("➕ Add €0.41")
    mark = harness.telegram.mark()
    user.tap(link, "Add €0.41")
    _, again_id = await _link_edited(harness, user, mark)
    assert again_id == covered_id
    assert len(harness.stripe.sessions) == 3
    assert first_id not in (covered_id, plain_id)

    # A forged toggle for an amount the bot never offers reaches no Stripe call.
    mark = harness.telegram.mark()
    user.tap_data(link.message_id or 0, "don:c:once:999999999:1")
    answer = await harness.telegram.wait_for(
        lambda c: c.method == "answerCallbackQuery", after=mark
    )
    assert "no longer valid" in str(answer.params.get("text"))
    assert len(harness.stripe.sessions) == 3

    mark = harness.telegram.mark()
    await pay(harness, covered_id)
    thanks = await wait_for_thanks(harness, user, mark)
    assert "Your gift of €10 has arrived" in (thanks.rendered_text or "")
    # Below the smallest impact unit (€15): the thank-you names none.
    assert "Your €10:" not in (thanks.rendered_text or "")
    totals = await harness.totals()
    assert (totals.raised, totals.gross, totals.fees_covered) == (1000, 1000, 41)
    # The public progress page (the numbers /progress shows too, without drawing a chart).
    async with aiohttp.ClientSession() as http, http.get(f"{harness.http}/widget?lang=en") as page:
        assert "€10 raised of €10,000" in await page.text()

    stats, rows = await _admin_reads(harness, "fr")
    assert "Collecté : 10 € sur 10 000 €" in stats
    assert "Frais de carte couverts par les donateurs : 0,41 €" in stats
    assert rows == [("10.00", "0.41", "one-off", "none")]

    # Refunding the whole charge takes the gift off raised, and only the gift; the fee leaves
    # the covered fees.
    payment_intent = harness.stripe.sessions[covered_id]["payment_intent"]
    await harness.deliver(harness.stripe.refund(payment_intent))
    totals = await harness.totals()
    assert (totals.raised, totals.refunded, totals.fees_covered) == (0, 1000, 0)


async def test_monthly_gift_with_the_fee_covered_splits_every_payment_and_says_what_gifts_do(
    harness: Harness,
) -> None:
    user = harness.user(6201, "fr")
    menu = await open_donate_menu(harness, user)
    text = normalise(menu.rendered_text)
    assert "15 € = une couverture pour la nuit" in text
    assert "40 € = un sac de couchage pour l'hiver" in text

    link, _ = await pledge(harness, user, "10\xa0€ / mois", monthly=True)
    mark = harness.telegram.mark()
    user.tap(link, "Ajouter 0,41")
    covered, session_id = await _link_edited(harness, user, mark)
    assert normalise(covered.buttons[0][0].text) == "🔒 Donner 10,41 € / mois avec Stripe"
    assert harness.stripe.sessions[session_id]["mode"] == "subscription"
    assert _lines(harness, session_id) == [
        ("Don mensuel à l'Auberge des Migrants (Calais)", 1000, True),
        ("Frais de carte couverts", 41, True),
    ]
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    await wait_for_thanks(harness, user, mark)
    subscription_id = harness.stripe.sessions[session_id]["subscription"]
    assert harness.stripe.subscriptions[subscription_id]["metadata"]["covered_fee"] == "41"
    # The fee's product carries its mark: the fee item is known whatever the items' order.
    fee_product = harness.stripe.plans[session_id].items[1].price["product"]
    assert harness.stripe.products[fee_product]["metadata"] == {"line": "covered_fee"}

    mark = harness.telegram.mark()
    await harness.deliver(harness.stripe.renew_subscription(subscription_id))
    renewal = await wait_for_thanks(harness, user, mark)
    assert "10 € est de nouveau arrivé" in normalise(renewal.rendered_text)
    totals = await harness.totals()
    assert (totals.raised, totals.donations, totals.fees_covered) == (2000, 2, 82)

    # A new amount keeps the fees covered: the fee line moves with it (€20 + €0.56), and the
    # view and the confirmation say what the card pays.
    view = await open_view(harness, user, "Mes dons", "Vos dons mensuels")
    assert "10 € / mois + 0,41 € de frais de carte que vous couvrez" in normalise(
        view.rendered_text
    )
    prompt = await tap_and_see(harness, user, view, "Changer le montant")
    confirm = await tap_and_see(harness, user, prompt, "20\xa0€ / mois")
    assert "sera de 20 € + 0,56 € de frais de carte au lieu de 10 € + 0,41 €" in normalise(
        confirm.rendered_text
    )
    changed = await tap_and_see(harness, user, confirm, "Oui, le changer")
    assert "vous couvrez toujours les frais de carte : 0,56 €" in normalise(changed.rendered_text)
    items = harness.stripe.subscriptions[subscription_id]["items"]["data"]
    assert [item["price"]["unit_amount"] for item in items] == [2000, 56]
    # Stripe's word of the change listing the fee first: the gift is still the €20.
    (event,) = harness.stripe.events_of_type("customer.subscription.updated")
    event["data"]["object"]["items"]["data"].reverse()
    await harness.deliver([event])
    view = await open_view(harness, user, "Mes dons", "Vos dons mensuels")
    assert "20 € / mois + 0,56 € de frais de carte" in normalise(view.rendered_text)
    assert harness.stripe.subscriptions[subscription_id]["metadata"]["covered_fee"] == "56"
    mark = harness.telegram.mark()
    await harness.deliver(harness.stripe.renew_subscription(subscription_id))
    await wait_for_thanks(harness, user, mark)
    totals = await harness.totals()
    assert (totals.raised, totals.donations, totals.fees_covered) == (4000, 3, 138)

    # A typed one-off €30, fee not covered: the thank-you says what it is.
    menu = await open_donate_menu(harness, user)
    mark = harness.telegram.mark()
    user.tap(menu, "Autre montant")
    await harness.telegram.wait_for_message(user.id, after=mark)
    mark = harness.telegram.mark()
    user.send("30")
    typed = await harness.telegram.wait_for(
        lambda c: c.chat_id == user.id and any(b.url for row in c.buttons for b in row),
        after=mark,
    )
    assert "Ajouter 0,72" in normalise(typed.buttons[1][0].text)
    url = typed.buttons[0][0].url
    typed_id = next(sid for sid, s in harness.stripe.sessions.items() if s["url"] == url)
    mark = harness.telegram.mark()
    await pay(harness, typed_id)
    thanks = await wait_for_thanks(harness, user, mark)
    assert "Vos 30 € : 2 couvertures pour la nuit." in normalise(thanks.rendered_text)

    stats, rows = await _admin_reads(harness, "en")
    assert "Raised: €70 of €10,000" in stats
    assert "Card fees covered by donors: €1.38" in stats
    assert rows == [
        ("10.00", "0.41", "monthly", "none"),
        ("10.00", "0.41", "monthly", "none"),
        ("20.00", "0.56", "monthly", "none"),
        ("30.00", "0.00", "one-off", "none"),
    ]


async def test_refunds_take_the_gift_first_whichever_event_comes_first(redis_url: str) -> None:
    redis = connect(redis_url)
    ledger = DonationLedger(redis)

    def covered(donation_id: str) -> Donation:
        return Donation(
            donation_id=donation_id, amount=1000, currency="EUR", kind="once",
            created=1_700_000_000, locale="en", covered_fee=41,
        )

    try:
        # Part of the charge back: off the gift, the fee still covered.
        await ledger.record(covered("pi_partial"), None)
        assert await ledger.refund("pi_partial", 500) == 500
        # The whole charge back before the payment's own event: the gift, then the fee.
        assert await ledger.refund("pi_early", 1041) == 0
        await ledger.record(covered("pi_early"), None)
        totals = await ledger.totals()
        assert (totals.raised, totals.gross, totals.refunded) == (500, 2000, 1500)
        assert totals.fees_covered == 41
        # The rest of the first charge, replayed: no more than the gift, the fee once.
        for _ in range(2):
            await ledger.refund("pi_partial", 1041)
        totals = await ledger.totals()
        assert (totals.raised, totals.refunded, totals.fees_covered) == (0, 2000, 0)
    finally:
        await redis.aclose()


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[fees]\nrate = 1.5\n", "fees.rate must be a whole percentage or a quoted decimal"),
        ('[fees]\nrate = "15"\n', "fees.rate must be at most 10 percent"),
        ('[fees]\nfixed = "0.2x"\n', "fees.fixed '0.2x' is not an amount"),
        ('[fees]\nfixed = "5"\n', "fees.fixed must be below custom_min"),
        (
            '[[impact]]\namount = 15\nen = { one = "a blanket", several = "{count} blankets" }\n',
            "impact entry 1 needs fr = ",
        ),
        (
            '[[impact]]\namount = 0\nen = { one = "a", several = "{count} b" }\n'
            'fr = { one = "a", several = "{count} b" }\n',
            "impact entry 1 amount must be greater than zero",
        ),
        (
            '[[impact]]\namount = 15\nen = { one = "a blanket", several = "blankets" }\n'
            'fr = { one = "une couverture", several = "{count} couvertures" }\n',
            "impact entry 1 en.several must contain {count}",
        ),
    ],
)
def test_bad_fee_and_impact_values_are_refused_at_start_up_with_one_line_each(
    tmp_path: Path, toml: str, expected: str
) -> None:
    campaign = tmp_path / "campaign.toml"
    campaign.write_text(f"photo = \"\"\n{toml}")
    with pytest.raises(ConfigError) as caught:
        load_settings({**VALID, "CAMPAIGN_FILE": str(campaign)}, dotenv_path=None)
    assert len(caught.value.problems) == 1, caught.value.problems
    assert expected in caught.value.problems[0]
    assert caught.value.problems[0].startswith("CAMPAIGN_FILE")


def test_the_campaign_files_units_load_and_no_units_show_nothing() -> None:
    campaign = load_settings({**VALID}, dotenv_path=None).campaign
    assert [unit.amount for unit in campaign.impact] == [1500, 4000, 9000]
    assert campaign.fees == FeeRule(rate_bp=150, fixed=25)
    l10n = Localizer()
    assert impact_lines(l10n, (), "EUR", "en") == ""
    assert impact_sentence(l10n, (), "EUR", "en", 3000) is None

"""/mygift: a donor's gifts with Stripe's receipts and Give again, the monthly view for monthly
donors, the donate menu for everyone else, and the monthly suggestion after a first gift."""

from __future__ import annotations

import asyncio
import json
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.campaign import CampaignFileError, load_campaign
from bot.donations.donor_gifts import DonorGifts
from bot.donations.ledger import Donation, DonationLedger
from bot.donations.outbox import Notice, NoticeData, NoticeKind
from bot.i18n import long_date
from bot.storage import keys
from bot.storage.connection import connect
from tests.conftest import ROOT, Harness
from tests.donation_steps import (
    normalise,
    open_donate_menu,
    pay,
    pledge,
    wait_for_link,
    wait_for_thanks,
)
from tests.fakes.telegram import ApiCall, FakeUser
from tests.forget_steps import forget

ZONE = load_campaign(ROOT / "campaign.toml").timezone


def gift_with_thanks(
    donation_id: str, user: int, *, kind: str = "once", created: int = 1_700_000_000
) -> tuple[Donation, Notice]:
    """A gift as stripe_events records it, with its thank-you."""
    donation = Donation(
        donation_id=donation_id, amount=3000, currency="EUR", kind=kind, created=created,
        locale="en", telegram_user_id=user, stripe_ids={"payment_intent": donation_id},
    )
    data = NoticeData(donation_id=donation_id, amount=3000, kind=kind)
    return donation, Notice(f"thanks:{donation_id}", NoticeKind.THANKS, user, "en", data)


def links(call: ApiCall) -> list[str]:
    """The addresses of the links in a message, as the user's client shows them."""
    entities: list[dict[str, Any]] = call.result.get("entities", [])
    return [entity["url"] for entity in entities if entity["type"] == "text_link"]


def day_of(harness: Harness, payment_intent: str, locale: str) -> str:
    """The day a payment was made, as a donor reading `locale` reads it."""
    created = harness.stripe.payment_intents[payment_intent]["created"]
    return long_date(datetime.fromtimestamp(created, ZONE).date(), locale)


def receipt_of(harness: Harness, payment_intent: str) -> str:
    charge = harness.stripe.payment_intents[payment_intent]["latest_charge"]
    return str(harness.stripe.charges[charge]["receipt_url"])


async def my_gifts(
    harness: Harness, user: FakeUser, header: str, command: str = "/mygift"
) -> ApiCall:
    """Send /mygift (or `command`); returns the answer whose text has `header`."""
    mark = harness.telegram.mark()
    user.send(command)
    return await harness.telegram.wait_for(
        lambda call: call.ok and call.chat_id == user.id and header in (call.text or ""),
        after=mark,
    )


async def alert_after(harness: Harness, user: FakeUser, message_id: int, data: str) -> str:
    """Tap a button's data (maybe forged) and return the alert the bot answers with."""
    mark = harness.telegram.mark()
    user.tap_data(message_id, data)
    answer = await harness.telegram.wait_for(
        lambda call: call.method == "answerCallbackQuery" and "text" in call.params, after=mark
    )
    return str(answer.params["text"])


async def test_a_one_off_donor_sees_receipts_refunds_gives_again_and_is_offered_monthly_once(
    harness: Harness,
) -> None:
    donor = harness.user(7001, "en")
    _, first_session = await pledge(harness, donor, "€50")
    mark = harness.telegram.mark()
    await pay(harness, first_session)
    thanks = await wait_for_thanks(harness, donor, mark)
    first = str(harness.stripe.sessions[first_session]["payment_intent"])
    # A third of €50 is nearest the €20 preset.
    suggestion = thanks.button("Make it monthly: €20 / month")

    donor.tap(thanks, "My gifts")
    listing = await harness.telegram.wait_for(
        lambda call: "Your gifts" in (call.text or ""), after=mark
    )
    assert f"• {day_of(harness, first, 'en')}: €50" in (listing.rendered_text or "")
    assert links(listing) == [receipt_of(harness, first)]

    await harness.deliver(harness.stripe.refund(first, 1000))
    (await open_donate_menu(harness, donor)).button("My gifts")
    listing = await my_gifts(harness, donor, "Your gifts")
    assert "€50, €10 refunded" in (listing.rendered_text or "")

    # Give again, tapped twice: one Checkout of the same amount, once, for this donor.
    sessions = len(harness.stripe.sessions)
    mark = harness.telegram.mark()
    donor.tap(listing, "Give €50 again")
    donor.tap(listing, "Give €50 again")
    link, again_session = await wait_for_link(harness, donor, mark)
    _, same_session = await wait_for_link(harness, donor, link.index + 1)
    assert same_session == again_session and len(harness.stripe.sessions) == sessions + 1
    again = harness.stripe.sessions[again_session]
    assert (again["mode"], again["amount_total"]) == ("payment", 5000)
    assert again["metadata"]["telegram_user_id"] == "7001"

    mark = harness.telegram.mark()
    await pay(harness, again_session)
    second_thanks = await wait_for_thanks(harness, donor, mark)
    assert "monthly" not in str(second_thanks.buttons)
    second = str(harness.stripe.sessions[again_session]["payment_intent"])
    # The same button once that gift is paid: a new Checkout, not the paid one returned.
    mark = harness.telegram.mark()
    donor.tap(listing, "Give €50 again")
    _, third_session = await wait_for_link(harness, donor, mark)
    assert third_session != again_session and len(harness.stripe.sessions) == sessions + 2
    assert harness.stripe.sessions[third_session]["status"] == "open"
    await harness.deliver(harness.stripe.refund(first))
    # Stripe down for the receipts: the list still comes, newest first, without links.
    harness.stripe.fail_next(2, path_prefix="/v1/payment_intents", should_retry=False)
    listing = await my_gifts(harness, donor, "Your gifts")
    shown = listing.rendered_text or ""
    assert shown.index("€50\n") < shown.index("€50, refunded") and links(listing) == []
    assert "couldn't fetch the receipts" in shown

    # Forged suggestions: someone else's, or another amount: an alert, and no Checkout.
    data = suggestion.callback_data
    assert data is not None and data.endswith(":2000")
    intruder = harness.user(7002, "en")
    assert "someone else's gift" in await alert_after(harness, intruder, 1, data)
    forged = data.removesuffix("2000") + "100"
    assert "no longer valid" in await alert_after(harness, donor, thanks.message_id or 0, forged)
    assert len(harness.stripe.sessions) == sessions + 2

    mark = harness.telegram.mark()
    donor.tap(thanks, "Make it monthly")
    _, monthly_session = await wait_for_link(harness, donor, mark)
    monthly = harness.stripe.sessions[monthly_session]
    assert (monthly["mode"], monthly["amount_total"]) == ("subscription", 2000)
    mark = harness.telegram.mark()
    await pay(harness, monthly_session)
    await wait_for_thanks(harness, donor, mark)
    refusal = await alert_after(harness, donor, thanks.message_id or 0, data)
    assert "already give every month" in refusal
    assert len(harness.stripe.sessions) == sessions + 3

    monthly_view = await my_gifts(harness, donor, "Your monthly gifts")
    assert "€20 / month" in (monthly_view.rendered_text or "")
    listing = await my_gifts(harness, donor, "Your gifts")
    assert links(listing) == [receipt_of(harness, second), receipt_of(harness, first)]


async def test_never_gave_sees_the_donate_menu_a_monthly_donor_the_monthly_view_until_forget(
    harness: Harness,
) -> None:
    donor = harness.user(7011, "fr")
    menu = await my_gifts(harness, donor, "Donner à")
    assert "Mes dons" not in str(menu.buttons)
    help_text = await my_gifts(harness, donor, "ce que je sais faire", "/help")
    assert "/mygift — vos dons, leurs reçus et votre don mensuel" in (help_text.text or "")
    french = {item["command"]: item["description"]
              for item in harness.telegram.commands_by_language["fr"]}
    assert french["mygift"] == "Vos dons et leurs reçus"

    _, session_id = await pledge(harness, donor, "10\xa0€ / mois", monthly=True)
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    await wait_for_thanks(harness, donor, mark)
    menu = await open_donate_menu(harness, donor)
    mark = harness.telegram.mark()
    donor.tap(menu, "Mes dons")
    monthly_view = await harness.telegram.wait_for_message(donor.id, after=mark)
    assert "Vos dons mensuels" in (monthly_view.text or "")
    assert "10 € / mois" in normalise(monthly_view.rendered_text)
    # No one-off gift yet: nothing under the monthly view.
    await harness.telegram.assert_no_message(donor.id, after=monthly_view.index + 1)

    # A first one-off gift, from someone who already gives monthly: no suggestion.
    _, session_id = await pledge(harness, donor, "50\xa0€")
    mark = harness.telegram.mark()
    await pay(harness, session_id)
    thanks = await wait_for_thanks(harness, donor, mark)
    assert "mensuel" not in str(thanks.buttons) and "Mes dons" in str(thanks.buttons)
    once = str(harness.stripe.sessions[session_id]["payment_intent"])
    mark = harness.telegram.mark()
    donor.send("/mygift")
    monthly_view = await harness.telegram.wait_for(
        lambda call: "Vos dons mensuels" in (call.text or ""), after=mark
    )
    listing = await harness.telegram.wait_for(
        lambda call: "Vos dons</b>" in (call.text or ""), after=mark
    )
    assert monthly_view.index < listing.index
    assert f"• {day_of(harness, once, 'fr')} : 50 €" in normalise(listing.rendered_text)
    assert links(listing) == [receipt_of(harness, once)]
    listing.button("Redonner 50\xa0€")

    await forget(harness, donor, "Oui")
    menu = await my_gifts(harness, donor, "Donner à")
    assert "Mes dons" not in str(menu.buttons)


def test_the_suggestion_rule_and_its_switch_come_from_the_campaign_file(tmp_path: Path) -> None:
    campaign = load_campaign(ROOT / "campaign.toml")
    assert [campaign.monthly_suggestion(amount) for amount in (500, 3000, 5000, 10000)] == [
        500, 1000, 2000, 2000,
    ]  # fmt: skip
    base = (ROOT / "campaign.toml").read_text(encoding="utf-8")
    assert tomllib.loads(base)["monthly_suggestion"] == {"enabled": True, "divisor": 3}
    path = tmp_path / "campaign.toml"
    # The campaign photo is found beside the file.
    (tmp_path / "assets").symlink_to(ROOT / "assets")
    path.write_text(base.replace("enabled = true", "enabled = false"), encoding="utf-8")
    assert load_campaign(path).monthly_suggestion(5000) is None
    path.write_text(
        base.replace("enabled = true", 'enabled = "yes"').replace("divisor = 3", "divisor = 0"),
        encoding="utf-8",
    )
    with pytest.raises(CampaignFileError) as refused:
        load_campaign(path)
    assert [problem.split(": ", 1)[1] for problem in refused.value.problems] == [
        "monthly_suggestion.enabled must be true or false",
        "monthly_suggestion.divisor must be a whole number from 1 to 12",
    ]


async def test_of_two_first_gifts_at_once_only_one_is_thanked_with_the_suggestion(
    redis_url: str,
) -> None:
    async with connect(redis_url) as redis:
        ledger = DonationLedger(redis)
        recorded = []
        for donation_id in ("pi_first_a", "pi_first_b"):
            donation, thanks = gift_with_thanks(donation_id, 81_001)
            suggesting = Notice(
                thanks.notice_id, thanks.kind, thanks.chat_id, thanks.locale,
                NoticeData(**thanks.data, suggest_monthly=1000),
            )
            recorded.append(ledger.record(donation, thanks, None, suggesting=suggesting))
        await asyncio.gather(*recorded)
        owed = [json.loads(raw)["data"] for raw in (await redis.hgetall(keys.outbox())).values()]
        assert sorted("suggest_monthly" in data for data in owed) == [False, True]


async def test_gifts_recorded_before_the_index_are_indexed_once_and_forgotten_donors_never(
    redis_url: str,
) -> None:
    async with connect(redis_url) as redis:
        ledger, gifts = DonationLedger(redis), DonorGifts(redis)
        for donation_id, user, kind, created in (
            ("pi_old", 81_002, "once", 100), ("pi_newer", 81_002, "once", 200),
            ("pi_monthly", 81_002, "monthly", 300), ("pi_forgotten", 81_003, "once", 400),
        ):
            donation, _ = gift_with_thanks(donation_id, user, kind=kind, created=created)
            await ledger.record(donation, None)
        await ledger.anonymise_donor(81_003)
        # As the release before this one left them: gifts, and no index.
        await redis.delete(keys.user_gifts(81_002), keys.user_gifts(81_003))

        await gifts.index_earlier_gifts()
        shown, total = await gifts.newest(81_002, 10)
        assert ([gift.donation_id for gift in shown], total) == (["pi_newer", "pi_old"], 2)
        assert not await redis.exists(keys.user_gifts(81_003))
        await redis.delete(keys.user_gifts(81_002))
        await gifts.index_earlier_gifts()
        assert not await redis.exists(keys.user_gifts(81_002)), "indexed once for all processes"

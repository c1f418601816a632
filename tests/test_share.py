"""/share: a supporter's own link, its tally, the word on its first gift, and /forget of it."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.donations.ledger import Donation, DonationLedger
from bot.donations.outbox import Outbox
from bot.donations.sharing import SharedLinks, Tally
from bot.referrals import is_referral_code
from bot.storage.connection import connect
from bot.storage.users import UserStore
from tests.conftest import ADMIN_ID, Harness
from tests.donation_steps import normalise, pay, pledge, wait_for_thanks
from tests.fakes.telegram import ApiCall, FakeUser
from tests.forget_steps import forget
from tests.keyspace import keyspace, traces_of

LINK = re.compile(r"https://t\.me/fake_campaign_bot\?start=(by-[A-Za-z0-9_-]{16})")
FIRST_GIFT = ("gave through your link — thank you", "donner grâce à votre lien — merci")


async def show_share(harness: Harness, user: FakeUser) -> tuple[ApiCall, str]:
    """/share; returns the answer (text normalised) and the code of the link it shows."""
    mark = harness.telegram.mark()
    user.send("/share")
    answer = await harness.telegram.wait_for_message(user.id, after=mark)
    found = LINK.search(answer.rendered_text or "")
    assert found is not None, answer.rendered_text
    return answer, found.group(1)


def tally_of(answer: ApiCall) -> str:
    return normalise(answer.rendered_text).rsplit("\n", 1)[-1]


async def start_with(harness: Harness, user: FakeUser, code: str) -> None:
    mark = harness.telegram.mark()
    user.send(f"/start {code}")
    await harness.telegram.wait_for_message(user.id, after=mark)


async def give(harness: Harness, user: FakeUser, label: str) -> tuple[str, list[dict[str, Any]]]:
    """A gift of the preset `label`, thanked; returns its session and Stripe's events."""
    _, session = await pledge(harness, user, label)
    mark = harness.telegram.mark()
    events = await pay(harness, session)
    await wait_for_thanks(harness, user, mark)
    return session, events


def first_gift_words(harness: Harness, user: FakeUser) -> list[str]:
    return [
        call.rendered_text or "" for call in harness.telegram.sent_to(user.id)
        if any(words in (call.rendered_text or "") for words in FIRST_GIFT)
    ]


async def stats_text(harness: Harness) -> str:
    mark = harness.telegram.mark()
    harness.user(ADMIN_ID, "en").send("/stats")
    answer = await harness.telegram.wait_for(
        lambda call: "Campaign statistics" in (call.rendered_text or ""), after=mark
    )
    return normalise(answer.rendered_text)


async def test_a_supporters_link_counts_each_person_once_and_tells_them_of_the_first_gift(
    harness: Harness,
) -> None:
    sharer = harness.user(5101, "en")
    answer, code = await show_share(harness, sharer)
    assert is_referral_code(code)
    assert "Your own link to the campaign" in (answer.rendered_text or "")
    assert tally_of(answer).startswith("Nobody has given through it yet")
    (button,) = [button for row in answer.buttons for button in row]
    assert button.text == "📤 Share the link" and button.url is not None
    shared = urlsplit(button.url)
    query = parse_qs(shared.query)
    assert (shared.netloc, shared.path) == ("t.me", "/share/url")
    assert query["url"] == [f"https://t.me/fake_campaign_bot?start={code}"]
    assert "Calais" in query["text"][0]
    assert (await show_share(harness, sharer))[1] == code, "made once, the same ever after"

    # Their own link opened by themselves brings nobody.
    await start_with(harness, sharer, code)
    session, _ = await give(harness, sharer, "€5")
    assert "referral" not in harness.stripe.sessions[session]["metadata"]
    assert tally_of((await show_share(harness, sharer))[0]).startswith("Nobody")

    first = harness.user(5102, "fr")
    await start_with(harness, first, code)
    mark = harness.telegram.mark()
    session, events = await give(harness, first, "20\xa0€")
    assert harness.stripe.sessions[session]["metadata"]["referral"] == code
    word = await harness.telegram.wait_for(
        lambda call: call.chat_id == sharer.id and FIRST_GIFT[0] in (call.rendered_text or ""),
        after=mark,
    )
    # Stripe delivers the same events again: counted once, told once.
    await harness.deliver(events)
    await harness.telegram.assert_no_message(sharer.id, after=word.index + 1, within=0.5)
    assert tally_of((await show_share(harness, sharer))[0]) == (
        "1 person gave €20 through your link. Thank you for sharing!"
    )

    # Two more gifts at once, from a new donor and from the first one again.
    second = harness.user(5103, "en")
    await start_with(harness, second, code)
    _, again = await pledge(harness, first, "10\xa0€")
    _, other = await pledge(harness, second, "€10")
    mark = harness.telegram.mark()
    both = [harness.stripe.complete_session(again), harness.stripe.complete_session(other)]
    await asyncio.gather(*(harness.deliver(events) for events in both))
    await wait_for_thanks(harness, second, mark)
    await wait_for_thanks(harness, first, mark)
    assert tally_of((await show_share(harness, sharer))[0]) == (
        "2 people gave €40 through your link. Thank you for sharing!"
    )
    assert len(first_gift_words(harness, sharer)) == 1
    assert (await harness.totals()).raised == 4500
    # Money given back leaves the tally, as it leaves what was raised.
    await harness.deliver(harness.stripe.refund(harness.stripe.sessions[other]["payment_intent"]))
    assert tally_of((await show_share(harness, sharer))[0]) == (
        "2 people gave €30 through your link. Thank you for sharing!"
    )


async def test_forget_ends_a_link_and_organizer_codes_count_as_before(harness: Harness) -> None:
    sharer = harness.user(5201, "fr")
    answer, code = await show_share(harness, sharer)
    assert "Votre lien personnel vers la collecte" in (answer.rendered_text or "")
    assert [b.text for row in answer.buttons for b in row] == ["📤 Partager le lien"]
    donor = harness.user(5202, "en")
    await start_with(harness, donor, code)
    mark = harness.telegram.mark()
    await give(harness, donor, "€10")
    word = await harness.telegram.wait_for(
        lambda call: call.chat_id == sharer.id and FIRST_GIFT[1] in (call.rendered_text or ""),
        after=mark,
    )
    assert "Quelqu'un vient de donner grâce à votre lien" in (word.rendered_text or "")

    # The donor forgets: counted still, no longer named among the link's donors.
    await forget(harness, donor)
    assert await traces_of(harness.env["REDIS_URL"], str(donor.id)) == []
    assert tally_of((await show_share(harness, sharer))[0]).startswith(
        "1 personne a donné 10 € grâce à votre lien"
    )

    await forget(harness, sharer, "Oui")
    assert await traces_of(harness.env["REDIS_URL"], str(sharer.id)) == []
    assert [key for key in await keyspace(harness.env["REDIS_URL"]) if code in key] == []
    late = harness.user(5203, "en")
    await start_with(harness, late, code)
    mark = harness.telegram.mark()
    await give(harness, late, "€5")
    await harness.telegram.assert_no_message(sharer.id, after=mark, within=0.5)
    answer, new_code = await show_share(harness, sharer)
    assert new_code != code and tally_of(answer).startswith("Personne n'a encore donné")

    admin = harness.user(ADMIN_ID, "en")
    mark = harness.telegram.mark()
    admin.send(f"/link {code}")
    refused = await harness.telegram.wait_for_message(ADMIN_ID, after=mark)
    assert "kept for supporters' own links" in (refused.rendered_text or "")
    organizer = harness.user(5204, "fr")
    await start_with(harness, organizer, "market-stall")
    await give(harness, organizer, "20\xa0€")
    stats = await stats_text(harness)
    assert "market-stall: €20" in stats
    assert "Supporters' own links (/share): 2 gifts, €15" in stats
    assert code not in stats and new_code not in stats


async def test_two_shares_at_once_make_one_code_and_a_sharer_gone_meanwhile_is_told_nothing(
    redis_url: str,
) -> None:
    redis = connect(redis_url)
    try:
        links = SharedLinks(redis, UserStore(redis))
        codes = await asyncio.gather(*(links.code_of(5301) for _ in range(5)))
        assert len(set(codes)) == 1 and is_referral_code(codes[0])
        # The owner is read before the gift is recorded; /forget may come in between.
        shared = await links.gift_through(codes[0], 5302)
        assert shared is not None and shared.owner == 5301
        await links.forget(5301, "tg:5301", None)
        gift = Donation(
            donation_id="pi_between", amount=700, currency="EUR", kind="once", created=1,
            locale="en", telegram_user_id=5302, referral=codes[0],
        )
        assert await DonationLedger(redis).record(gift, None, None, shared)
        assert await Outbox(redis).pending() == []
        assert await links.tally(codes[0]) == Tally()
        assert await links.campaign_total() == Tally(1, 700)
    finally:
        await redis.aclose()

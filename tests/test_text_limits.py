"""Texts composed from variable parts always fit: /updates, the preview and beneficiary batches,
against a fake Bot API that refuses texts over 4096 and captions over 1024 as Telegram does."""

from __future__ import annotations

import re

from bot.broadcasts.store import BroadcastContent
from bot.context import Services
from tests.broadcast_steps import add_subscribers
from tests.conftest import ADMIN_ID, Harness
from tests.donation_steps import normalise
from tests.fakes.telegram import ApiCall, FakeUser
from tests.test_insight import BENEFICIARY_GROUP, BENEFICIARY_USER, clock, give, insight, run_job

__all__ = ["insight"]


def services(harness: Harness) -> Services:
    assert harness.bot.application is not None
    found = harness.bot.application.bot_data.services
    assert found is not None
    return found


def long_text(visible: int, marker: str) -> str:
    """HTML showing exactly `visible` characters as Telegram counts them (an emoji counts 2)."""
    head = f"<b>{marker}</b> 😀 &amp; <i>friends</i>\n\n"
    shown = len(marker) + len(" 😀 & friends\n\n") + 1
    body = ("Tents and blankets reached the camp today. " * 200)[: visible - shown - 1]
    return f"{head}{body}."


def squash(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def shown_whole(expected_html: str, calls: list[ApiCall]) -> bool:
    seen = squash("".join(call.rendered_text or "" for call in calls))
    plain = re.sub(r"<[^>]+>", "", expected_html).replace("&amp;", "&")
    return squash(plain) in seen


async def create_and_deliver(harness: Harness, text: str, subscriber: int) -> None:
    """A broadcast stored as the organizer's Send now stores it, once it reached `subscriber`."""
    mark = harness.telegram.mark()
    await services(harness).broadcasts.create(
        BroadcastContent({"en": text, "fr": text}), created_by=ADMIN_ID, admin_locale="en",
        progress_chat=ADMIN_ID, progress_message=1,
    )
    await harness.telegram.wait_for(
        lambda call: call.chat_id == subscriber and call.text == text, after=mark, timeout=15
    )


async def test_updates_shows_a_broadcast_too_long_for_one_page_whole(harness: Harness) -> None:
    await add_subscribers(harness.env["REDIS_URL"], {6101: "en"})
    older = "Older news from Calais"
    longer = long_text(4080, "Longer news")
    for text in (older, longer):
        await create_and_deliver(harness, text, 6101)
    reader = harness.user(6102, "fr")
    mark = harness.telegram.mark()
    reader.send("/updates")
    await harness.telegram.wait_for(
        lambda call: call.chat_id == 6102 and bool(call.buttons), after=mark
    )
    pages = [c for c in harness.telegram.sent_to(6102) if c.index >= mark]
    assert len(pages) == 2 and all(page.ok for page in pages), [c.describe() for c in pages]
    assert (pages[0].rendered_text or "").startswith("📰 Nouvelle 1 sur 2")
    assert shown_whole(longer, pages)
    assert not pages[0].buttons
    assert [b.text for row in pages[1].buttons for b in row] == ["◀ Plus ancienne"]

    mark = harness.telegram.mark()
    reader.tap(pages[1], "Plus ancienne")
    older_page = await harness.telegram.wait_for_edit(6102, after=mark)
    assert older in (older_page.rendered_text or "")
    mark = harness.telegram.mark()
    reader.tap(older_page, "Plus récente")
    await harness.telegram.wait_for(
        lambda call: call.chat_id == 6102 and bool(call.buttons), after=mark
    )
    again = [c for c in harness.telegram.calls[mark:] if c.chat_id == 6102
             and c.method in ("editMessageText", "sendMessage")]
    assert [c.method for c in again] == ["editMessageText", "sendMessage"]
    assert all(c.ok for c in again) and shown_whole(longer, again)
    assert not any("went wrong" in (c.rendered_text or "") for c in harness.telegram.calls)


async def start_broadcast(harness: Harness) -> FakeUser:
    admin = harness.user(ADMIN_ID, "en")
    mark = harness.telegram.mark()
    admin.send("/broadcast")
    await harness.telegram.wait_for_message(ADMIN_ID, after=mark)
    return admin


async def answer_to(harness: Harness, text: str, *, photo: bool = False) -> ApiCall:
    """The organizer sends a text in the flow; returns the bot's answer."""
    admin = harness.user(ADMIN_ID, "en")
    mark = harness.telegram.mark()
    if photo:
        admin.send_photo(caption=text)
    else:
        admin.send(text)
    return await harness.telegram.wait_for_message(ADMIN_ID, after=mark)


async def test_preview_refuses_a_text_too_long_for_the_archive_and_says_by_how_much(
    harness: Harness,
) -> None:
    await add_subscribers(harness.env["REDIS_URL"], {6201: "en", 6202: "fr"})
    admin = await start_broadcast(harness)
    answer = (await answer_to(harness, long_text(4080, "News"))).rendered_text or ""
    found = re.search(r"The English text is (\d+) characters too long: /updates", answer)
    assert found, answer
    excess = int(found.group(1))
    # The header ("📰 Nouvelle 1 sur 1 · 2026-01-01", page numbers measured at their longest).
    assert 20 <= excess <= 60
    answer = (await answer_to(harness, long_text(4080 - excess + 1, "News"))).rendered_text or ""
    assert "The English text is 1 character too long" in answer
    fitting = long_text(4080 - excess, "News")
    ask_french = await answer_to(harness, fitting)
    assert "French" in (ask_french.rendered_text or "")
    mark = harness.telegram.mark()
    admin.tap(ask_french, "Same text")
    await harness.telegram.wait_for(
        lambda call: call.chat_id == ADMIN_ID and "Ready to send" in (call.rendered_text or ""),
        after=mark,
    )
    # What the preview accepts goes out and fits /updates in one message, in either language.
    await create_and_deliver(harness, fitting, 6201)
    for reader_id, locale in ((6203, "en"), (6204, "fr")):
        mark = harness.telegram.mark()
        harness.user(reader_id, locale).send("/updates")
        page = await harness.telegram.wait_for_message(reader_id, after=mark)
        await harness.telegram.assert_no_message(reader_id, after=page.index + 1)
        assert page.ok and shown_whole(fitting, [page])


async def test_preview_refuses_a_photo_caption_over_1024_and_says_by_how_much(
    harness: Harness,
) -> None:
    await start_broadcast(harness)
    answer = await answer_to(harness, long_text(1030, "Photo"), photo=True)
    assert "The English text is 6 characters too long: a photo's caption holds 1,024" in (
        answer.rendered_text or ""
    )
    answer = await answer_to(harness, long_text(1024, "Photo"), photo=True)
    assert "French" in (answer.rendered_text or "")


async def test_twenty_gifts_with_long_words_in_one_interval_all_reach_the_beneficiaries(
    insight: Harness,
) -> None:
    ledger = services(insight).ledger
    donors = {8400 + n: f"Dominique-{n:02d}-" + "x" * 40 for n in range(20)}
    for user_id, name in donors.items():
        donation_id = await give(insight, user_id, "10")
        words = f"{name} says: " + ("Courage & merci <3 " * 12)[: 200 - len(name) - 7]
        await ledger.set_public_words(donation_id, name=name, words=words[:200])
    mark = insight.telegram.mark()
    await run_job(insight, "beneficiary-feed")
    for chat_id in (BENEFICIARY_GROUP, BENEFICIARY_USER):
        sent = [c for c in insight.telegram.sent_to(chat_id) if c.index >= mark]
        assert len(sent) >= 2, "more than one message's worth"
        assert all(c.ok for c in sent), [c.describe() for c in sent]
        text = normalise("\n".join(c.rendered_text or "" for c in sent))
        for name in donors.values():
            assert f"10 € — {name}" in text
            # A gift's line and its words travel in the same message.
            assert [normalise(c.rendered_text).count(f"— {name}") for c in sent].count(2) == 1
        assert "Courage & merci <3" in text
        counts = [int(m) for m in re.findall(r"(\d+) nouveaux dons", text)]
        assert sum(counts) == 20

    mark = insight.telegram.mark()
    clock(insight).offset += 10 * 60
    await run_job(insight, "beneficiary-feed")
    assert not [c for c in insight.telegram.calls[mark:] if c.method == "sendMessage"]


async def test_a_refused_beneficiary_message_keeps_its_gifts_for_the_next_round(
    insight: Harness,
) -> None:
    for n in range(3):
        await give(insight, 8500 + n, str(20 + n))
    insight.telegram.fail_next(
        "sendMessage", status=400, chat_id=BENEFICIARY_GROUP,
        description="Bad Request: message is too long",
    )
    mark = insight.telegram.mark()
    await run_job(insight, "beneficiary-feed")
    (refused,) = [c for c in insight.telegram.calls[mark:] if c.chat_id == BENEFICIARY_GROUP]
    assert not refused.ok
    (told,) = [c for c in insight.telegram.sent_to(BENEFICIARY_USER) if c.index >= mark]
    assert "3 nouveaux dons depuis le dernier message : 63 €" in normalise(told.rendered_text)

    mark = insight.telegram.mark()
    clock(insight).offset += 10 * 60
    await run_job(insight, "beneficiary-feed")
    (kept,) = [c for c in insight.telegram.sent_to(BENEFICIARY_GROUP) if c.index >= mark]
    assert "3 nouveaux dons depuis le dernier message : 63 €" in normalise(kept.rendered_text)
    assert not [c for c in insight.telegram.sent_to(BENEFICIARY_USER) if c.index >= mark], (
        "a chat that had it is not told twice"
    )

    mark = insight.telegram.mark()
    clock(insight).offset += 10 * 60
    await run_job(insight, "beneficiary-feed")
    assert not [c for c in insight.telegram.calls[mark:] if c.method == "sendMessage"]


async def test_a_chat_gone_for_good_does_not_hold_back_the_feed(insight: Harness) -> None:
    await give(insight, 8600, "15")
    insight.telegram.blocked.add(BENEFICIARY_USER)
    mark = insight.telegram.mark()
    await run_job(insight, "beneficiary-feed")
    (told,) = [c for c in insight.telegram.sent_to(BENEFICIARY_GROUP) if c.index >= mark]
    assert "1 nouveau don" in normalise(told.rendered_text)
    insight.telegram.blocked.discard(BENEFICIARY_USER)
    mark = insight.telegram.mark()
    clock(insight).offset += 10 * 60
    await run_job(insight, "beneficiary-feed")
    assert not [c for c in insight.telegram.calls[mark:] if c.method == "sendMessage"]

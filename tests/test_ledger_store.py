"""The ledger's and the outbox's scripts and their batching, driven against a real Redis."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bot.donations import outbox as outbox_module
from bot.donations.ledger import Donation, DonationLedger, ForgetCheck, Recorded, Totals
from bot.donations.outbox import Notice, NoticeData, NoticeKind, Outbox
from bot.storage import keys
from bot.storage.connection import StorageUnavailable, connect
from bot.storage.erasure import ErasureMarks
from bot.storage.script_batch import ScriptBatch
from tests.conftest import free_port
from tests.fakes.telegram import TEST_TOKEN

DONOR = 70_001


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = connect(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


def gift(
    donation_id: str, amount: int, *, user: int | None = DONOR, created: int = 1_700_000_000
) -> Donation:
    return Donation(
        donation_id=donation_id, amount=amount, currency="EUR", kind="once", created=created,
        locale="fr", telegram_user_id=user, stripe_ids={"payment_intent": donation_id},
    )


def thanks_for(donation: Donation) -> Notice:
    assert donation.telegram_user_id is not None
    return Notice(
        f"thanks:{donation.donation_id}", NoticeKind.THANKS, donation.telegram_user_id,
        donation.locale,
        NoticeData(donation_id=donation.donation_id, amount=donation.amount, kind="once"),
    )


async def feed(redis: Redis, kind: str) -> list[dict[str, object]]:
    entries = [json.loads(raw) for raw in await redis.lrange(keys.beneficiary_feed(), 0, -1)]
    return [entry for entry in entries if entry["kind"] == kind]


async def test_a_gift_recorded_twice_counts_once(redis: Redis) -> None:
    ledger = DonationLedger(redis)
    donation = gift("pi_once", 1000)
    assert await ledger.record(donation, thanks_for(donation))
    first = await ledger.totals()
    assert not await ledger.record(donation, thanks_for(donation))
    assert not await ledger.record(gift("pi_once", 5000), None)
    assert await ledger.totals() == first == Totals(
        raised=1000, gross=1000, donors=1, donations=1
    )
    assert await redis.zcard(keys.donation_timeline()) == 1
    assert len(await feed(redis, "donation")) == 1
    assert (await ledger.donation("pi_once") or {})["amount"] == "1000"


async def test_two_gifts_of_one_supporter_make_one_donor(redis: Redis) -> None:
    ledger = DonationLedger(redis)
    assert await ledger.record(gift("pi_a", 500), None)
    assert await ledger.record(gift("pi_b", 700), None)
    assert await ledger.record(gift("pi_c", 900, user=None), None)
    totals = await ledger.totals()
    assert (totals.raised, totals.donations, totals.donors) == (2100, 3, 2)


async def test_a_refund_arriving_before_its_gift_is_applied_when_the_gift_lands(
    redis: Redis,
) -> None:
    ledger = DonationLedger(redis)
    assert await ledger.refund("pi_early", 300) == 0
    assert await ledger.totals() == Totals()
    assert await ledger.record(gift("pi_early", 1000), None)
    assert await ledger.totals() == Totals(
        raised=700, gross=1000, donors=1, donations=1, refunded=300
    )
    assert (await ledger.donation("pi_early") or {})["refunded"] == "300"


async def test_refunds_are_cumulative_and_a_replay_or_a_late_smaller_one_changes_nothing(
    redis: Redis,
) -> None:
    ledger = DonationLedger(redis)
    await ledger.record(gift("pi_refund", 1000), None)
    assert await ledger.refund("pi_refund", 300) == 300
    assert await ledger.refund("pi_refund", 300) == 0
    assert await ledger.refund("pi_refund", 500) == 200
    assert await ledger.refund("pi_refund", 400) == 0
    totals = await ledger.totals()
    assert (totals.raised, totals.refunded, totals.gross) == (500, 500, 1000)
    # Stripe's figure may exceed what the ledger counted for this gift: never below zero.
    assert await ledger.refund("pi_refund", 1500) == 500
    totals = await ledger.totals()
    assert (totals.raised, totals.refunded) == (0, 1000)
    assert [entry["amount"] for entry in await feed(redis, "refund")] == [300, 200, 500]


async def test_each_dispute_counts_once_and_with_refunds_never_more_than_the_gift(
    redis: Redis,
) -> None:
    ledger = DonationLedger(redis)
    await ledger.record(gift("pi_dispute", 2000), None)
    assert await ledger.dispute("pi_dispute", "dp_1", 500) == 500
    assert await ledger.dispute("pi_dispute", "dp_1", 500) == 0
    assert await ledger.dispute("pi_dispute", "dp_2", 600) == 600
    totals = await ledger.totals()
    assert (totals.raised, totals.disputed) == (900, 1100)
    assert await ledger.refund("pi_dispute", 1500) == 900
    totals = await ledger.totals()
    assert (totals.raised, totals.refunded, totals.disputed) == (0, 1500, 500)


async def test_a_dispute_before_its_gift_is_applied_when_the_gift_lands(redis: Redis) -> None:
    ledger = DonationLedger(redis)
    assert await ledger.dispute("pi_late", "dp_early", 400) == 0
    assert await ledger.dispute("pi_late", "dp_early", 400) == 0
    await ledger.record(gift("pi_late", 1000), None)
    totals = await ledger.totals()
    assert (totals.raised, totals.disputed) == (600, 400)


async def test_a_milestone_crossed_by_two_concurrent_gifts_is_announced_once(
    redis: Redis,
) -> None:
    ledger = DonationLedger(redis, milestone_step=1000, milestone_amounts=(2500,))
    assert all(await asyncio.gather(
        ledger.record(gift("pi_m1", 800), None), ledger.record(gift("pi_m2", 800), None),
    ))
    assert [entry["amount"] for entry in await feed(redis, "milestone")] == [1000]
    # Falling back below a milestone and crossing it again announces nothing new.
    await ledger.refund("pi_m1", 800)
    await ledger.record(gift("pi_m3", 800), None)
    assert [entry["amount"] for entry in await feed(redis, "milestone")] == [1000]
    # One gift crossing a step and a named amount announces both, in order.
    await ledger.record(gift("pi_m4", 1000), None)
    assert (await ledger.totals()).raised == 2600
    assert [entry["amount"] for entry in await feed(redis, "milestone")] == [1000, 2000, 2500]


async def test_the_thank_you_is_queued_with_the_gift_and_only_then(redis: Redis) -> None:
    ledger, outbox = DonationLedger(redis), Outbox(redis)
    donation = gift("pi_thanks", 1500)
    assert await ledger.record(donation, thanks_for(donation))
    assert await outbox.pending() == [thanks_for(donation)]
    await outbox.done(thanks_for(donation).notice_id)
    assert not await ledger.record(donation, thanks_for(donation))
    assert await outbox.pending() == []
    # A gift already counted without a thank-you does not get one from a replay either.
    anonymous = gift("pi_quiet", 500)
    assert await ledger.record(anonymous, None)
    assert not await ledger.record(anonymous, thanks_for(anonymous))
    assert await outbox.pending() == []


async def test_a_gift_begun_before_its_donor_forgot_names_nobody_and_a_later_one_does(
    redis: Redis,
) -> None:
    ledger, outbox, marks = DonationLedger(redis), Outbox(redis), ErasureMarks(redis, TEST_TOKEN)
    await marks.mark(DONOR)
    forgotten_at = await marks.forgotten_at(DONOR)
    assert forgotten_at is not None
    check = ForgetCheck(marks.fingerprint(DONOR), forgotten_at)
    before = gift("pi_before", 1000)
    assert await ledger.record(before, thanks_for(before), check) is Recorded.ANONYMOUS
    stored = await ledger.donation("pi_before")
    assert stored is not None and "telegram_user_id" not in stored
    assert await outbox.pending() == []

    later = ForgetCheck(check.fingerprint, forgotten_at + 1)
    after = gift("pi_after", 1000)
    assert await ledger.record(after, thanks_for(after), later) is Recorded.LINKED
    stored = await ledger.donation("pi_after")
    assert stored is not None and stored["telegram_user_id"] == str(DONOR)
    assert await outbox.pending() == [thanks_for(after)]
    # Two donors: the anonymous payment, and the user again.
    assert (await ledger.totals()).donors == 2


async def test_a_notice_is_queued_once_even_after_it_was_sent(redis: Redis) -> None:
    outbox = Outbox(redis)
    notice = Notice("failed:cs_1", NoticeKind.PAYMENT_FAILED, DONOR, "en", NoticeData(amount=900))
    assert await outbox.queue(notice)
    assert not await outbox.queue(notice)
    assert await outbox.get(notice.notice_id) == notice
    await outbox.done(notice.notice_id)
    assert await outbox.get(notice.notice_id) is None
    assert not await outbox.queue(notice)
    assert await outbox.pending() == []


async def test_one_sender_claims_a_notice_until_it_releases_or_the_claim_lapses(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = Outbox(redis)
    notice = Notice("ended:sub_1", NoticeKind.MONTHLY_ENDED, DONOR, "fr")
    await outbox.queue(notice)
    assert await outbox.claim(notice.notice_id)
    assert not await outbox.claim(notice.notice_id)
    await outbox.release(notice.notice_id)
    assert await outbox.claim(notice.notice_id)
    await outbox.done(notice.notice_id)
    assert await outbox.claim(notice.notice_id)

    monkeypatch.setattr(outbox_module, "NOTICE_CLAIM_SECONDS", 1)
    crashed = Notice("ended:sub_2", NoticeKind.MONTHLY_ENDED, DONOR, "fr")
    await outbox.queue(crashed)
    assert await outbox.claim(crashed.notice_id)
    await asyncio.sleep(1.2)
    assert await outbox.claim(crashed.notice_id)
    assert await outbox.pending() == [crashed]


async def test_the_outbox_keeps_the_json_format_stored_before(redis: Redis) -> None:
    outbox = Outbox(redis)
    stored = {
        "thanks:pi_1": {"kind": "thanks", "chat_id": 5, "locale": "fr", "data": {
            "donation_id": "pi_1", "amount": 1000, "kind": "monthly", "renewal": True,
        }},
        "failed:cs_2": {"kind": "payment-failed", "chat_id": 6, "locale": "en",
                        "data": {"amount": 700}},
        "ended:sub_3": {"kind": "monthly-ended", "chat_id": 7, "locale": "en", "data": {}},
    }
    await redis.hset(keys.outbox(), mapping={k: json.dumps(v) for k, v in stored.items()})
    notices = {notice.notice_id: notice for notice in await outbox.pending()}
    assert {k: json.loads(n.to_json()) for k, n in notices.items()} == stored
    assert notices["ended:sub_3"].kind is NoticeKind.MONTHLY_ENDED


async def test_forgetting_a_chat_drops_only_the_notices_owed_to_it(redis: Redis) -> None:
    outbox = Outbox(redis)
    mine = [Notice(f"failed:cs_{n}", NoticeKind.PAYMENT_FAILED, DONOR, "en") for n in range(3)]
    other = Notice("failed:cs_other", NoticeKind.PAYMENT_FAILED, DONOR + 1, "en")
    for notice in [*mine, other]:
        await outbox.queue(notice)
    assert await outbox.drop_owed_to(DONOR) == 3
    assert await outbox.pending() == [other]
    assert await outbox.drop_owed_to(DONOR) == 0


async def test_an_anonymised_donor_stays_counted(redis: Redis) -> None:
    ledger = DonationLedger(redis)
    await ledger.record(gift("pi_x", 500), None)
    await ledger.record(gift("pi_y", 700), None)
    await ledger.record(gift("pi_z", 900, user=DONOR + 1), None)
    before = await ledger.totals()
    assert await ledger.anonymise_donor(DONOR) == 2
    assert await ledger.totals() == before
    assert "telegram_user_id" not in (await ledger.donation("pi_x") or {})
    assert (await ledger.donation("pi_z") or {})["telegram_user_id"] == str(DONOR + 1)
    members = await redis.smembers(keys.donors())
    assert len(members) == 2 and f"tg:{DONOR}" not in members
    # Forgetting again neither drops nor adds a donor.
    assert await ledger.anonymise_donor(DONOR) == 0
    assert await redis.scard(keys.donors()) == 2


async def test_donations_are_read_in_time_order_across_many_batches(redis: Redis) -> None:
    ledger = DonationLedger(redis)
    count = 1_234
    times = list(range(1_700_000_000, 1_700_000_000 + count))
    random.Random(12).shuffle(times)
    for t in times:
        await ledger.record(gift(f"pi_{t}", 100, user=None, created=t), None)
    read = [donation async for donation in ledger.donations()]
    assert [d.created for d in read] == sorted(times)
    assert [d.donation_id for d in read] == [f"pi_{t}" for t in sorted(times)]
    window = [d.created async for d in ledger.donations(1_700_000_100, 1_700_000_799)]
    assert window == list(range(1_700_000_100, 1_700_000_800))


BATCH_KEY = "calais:test:batch"
# ARGV: how much to add, or 'refuse'. Returns the new count.
COUNT = """
if ARGV[1] == 'refuse' then return redis.error_reply('refused') end
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""


async def test_calls_made_at_once_each_get_the_reply_to_their_own_call(redis: Redis) -> None:
    batch, script = ScriptBatch(redis), redis.register_script(COUNT)
    replies = await asyncio.gather(*(batch(script, [BATCH_KEY], [1]) for _ in range(100)))
    assert sorted(replies) == list(range(1, 101))
    assert await redis.get(BATCH_KEY) == "100"


async def test_a_call_that_fails_fails_alone(redis: Redis) -> None:
    batch, script = ScriptBatch(redis), redis.register_script(COUNT)
    replies = await asyncio.gather(
        batch(script, [BATCH_KEY], [2]), batch(script, [BATCH_KEY], ["refuse"]),
        batch(script, [BATCH_KEY], [3]),
        return_exceptions=True,
    )
    assert replies[0] == 2 and replies[2] == 5
    assert isinstance(replies[1], ResponseError) and "refused" in str(replies[1])


async def test_scripts_redis_lost_are_loaded_again_and_each_call_runs_once(redis: Redis) -> None:
    batch, script = ScriptBatch(redis), redis.register_script(COUNT)
    assert await batch(script, [BATCH_KEY], [1]) == 1
    # As after a restart of Redis: the script cache is empty.
    await redis.script_flush()
    replies = await asyncio.gather(*(batch(script, [BATCH_KEY], [1]) for _ in range(10)))
    assert sorted(replies) == list(range(2, 12))
    assert await redis.get(BATCH_KEY) == "11"


async def test_every_caller_hears_that_redis_is_unreachable() -> None:
    unreachable = connect(f"redis://127.0.0.1:{free_port()}/0")
    try:
        batch, script = ScriptBatch(unreachable), unreachable.register_script(COUNT)
        replies = await asyncio.gather(
            *(batch(script, [BATCH_KEY], [1]) for _ in range(3)), return_exceptions=True
        )
    finally:
        await unreachable.aclose()
    assert all(isinstance(reply, StorageUnavailable) for reply in replies)

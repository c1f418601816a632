"""Thank-yous after a burst of gifts: within Telegram's limit, in order, never in the way."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from telegram.ext import ExtBot

from bot.app import CampaignBot
from bot.botapi.send_rate import SendRate
from bot.donations.notice_courier import NoticeCourier
from bot.donations.outbox import Notice, NoticeData, NoticeKind, Outbox
from bot.metrics import Metrics
from bot.storage import keys
from bot.storage.connection import connect
from tests.conftest import Harness, settings_from
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import ApiCall, FakeBotAPI
from tests.pacing import busiest_second, shortest_paced_span
from tests.test_reliability_payments import paid_session_event

RATE = 5
BURST = 20


async def test_a_burst_of_gifts_is_thanked_at_the_send_rate_while_commands_stay_quick(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    bot = CampaignBot(settings_from({**bot_env, "BROADCAST_RATE": str(RATE)}))
    await bot.start()
    harness = Harness(bot, telegram, stripe_server, bot_env)
    try:
        mark = telegram.mark()
        # Every gift is acknowledged at once: the thank-yous wait in the outbox, not Stripe.
        await harness.deliver([paid_session_event(stripe_server, n) for n in range(BURST)])
        donors = {50_000 + n for n in range(BURST)}

        # A supporter's own command is answered while most thank-yous are still queued.
        asked = asyncio.get_running_loop().time()
        harness.user(4999, "en").send("/help")
        await telegram.wait_for_message(4999, after=mark, timeout=5)
        assert asyncio.get_running_loop().time() - asked < 1.5

        for _ in range(300):
            if len(thank_yous(telegram, mark)) >= BURST:
                break
            await asyncio.sleep(0.1)
        assert (await harness.totals()).donations == BURST
    finally:
        await bot.stop()
    calls = thank_yous(telegram, mark)
    assert sorted(call.chat_id or 0 for call in calls) == sorted(donors)
    times = [call.at for call in calls]
    assert busiest_second(times) <= RATE
    # Paced at the rate, not merely capped: 20 messages at 5/s span 19 intervals of 0.2 s and
    # more (5.2/s would fail here).
    assert times[-1] - times[0] >= shortest_paced_span(BURST, RATE)


def thank_yous(telegram: FakeBotAPI, mark: int) -> list[ApiCall]:
    return [
        call for call in telegram.calls[mark:]
        if call.method == "sendMessage" and call.ok and "💛" in (call.rendered_text or "")
    ]


async def test_a_notice_is_claimed_only_once_its_send_turn_comes(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    # Paced at 2 a second with each send taking 0.3 s: a notice claimed before its turn would
    # sit claimed (and stay so for the claim's life if the process died) while others go.
    bot = CampaignBot(settings_from({**bot_env, "BROADCAST_RATE": "2"}))
    await bot.start()
    harness = Harness(bot, telegram, stripe_server, bot_env)
    redis = connect(bot_env["REDIS_URL"])
    try:
        gifts = 5
        telegram.delay_next("sendMessage", seconds=0.3, count=gifts)
        mark = telegram.mark()
        await harness.deliver([paid_session_event(stripe_server, n) for n in range(gifts)])
        claims = [
            keys.notice_claim(f"thanks:pi_storm_{n}") for n in range(gifts)
        ]
        most_claimed = 0
        # Watched until all are sent, however slow the machine: the claims are what is tested.
        deadline = asyncio.get_running_loop().time() + 30
        while asyncio.get_running_loop().time() < deadline:
            most_claimed = max(most_claimed, await redis.exists(*claims))
            if len(thank_yous(telegram, mark)) >= gifts:
                break
            await asyncio.sleep(0.02)
        assert len(thank_yous(telegram, mark)) == gifts
        assert most_claimed == 1
    finally:
        await redis.aclose()
        await bot.stop()


class DyingBot:
    """A process killed while its send was on the wire: nothing after the send runs."""

    async def send_message(self, *args: object, **kwargs: object) -> None:
        raise asyncio.CancelledError


async def test_a_notice_a_crashed_process_had_claimed_is_sent_within_the_recovery_time(
    bot_env: dict[str, str], telegram: FakeBotAPI, stripe_server: FakeStripe
) -> None:
    recovery = 4
    bot = CampaignBot(settings_from({**bot_env, "BROADCAST_RECOVERY_SECONDS": str(recovery)}))
    await bot.start()
    redis = connect(bot_env["REDIS_URL"])
    # Another process with the same settings takes the thank-you as its turn comes, and dies.
    other = NoticeCourier(Outbox(redis), SendRate(redis, 0, Metrics()), recovery)
    try:
        notice = Notice("thanks:pi_crash", NoticeKind.THANKS, 51_001, "en", NoticeData(
            donation_id="pi_crash", amount=700, kind="once", renewal=False,
        ))
        assert await Outbox(redis).queue(notice)
        mark = telegram.mark()
        other.start(cast("ExtBot[Any]", DyingBot()), lambda notice: ("thanks", None))
        other.deliver_soon([notice.notice_id])
        while not await redis.exists(keys.notice_claim(notice.notice_id)):  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        crashed = asyncio.get_running_loop().time()
        # The rest of that process goes with it.
        await other.stop()
        thanks = await telegram.wait_for(
            lambda call: call.ok and "💛" in (call.rendered_text or ""), after=mark,
            timeout=recovery + 1,
        )
        # Within the recovery time, but not while the dead process's claim held; and once.
        assert thanks.chat_id == notice.chat_id
        assert thanks.at - crashed >= recovery / 2 - 0.1
        await telegram.assert_no_message(notice.chat_id, after=thanks.index + 1)
        assert await Outbox(redis).pending() == []
    finally:
        await other.stop()
        await redis.aclose()
        await bot.stop()

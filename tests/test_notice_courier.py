"""Thank-yous after a burst of gifts: within Telegram's limit, in order, never in the way."""

from __future__ import annotations

import asyncio

from bot.app import CampaignBot
from tests.conftest import Harness, settings_from
from tests.fakes.stripe import FakeStripe
from tests.fakes.telegram import ApiCall, FakeBotAPI
from tests.test_reliability_payments import paid_session_event

RATE = 5
BURST = 20


def busiest_second(times: list[float]) -> int:
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


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
    # Paced, not merely capped: 20 messages at 5/s take about four seconds.
    assert times[-1] - times[0] >= (BURST - RATE) / RATE


def thank_yous(telegram: FakeBotAPI, mark: int) -> list[ApiCall]:
    return [
        call for call in telegram.calls[mark:]
        if call.method == "sendMessage" and call.ok and "💛" in (call.rendered_text or "")
    ]

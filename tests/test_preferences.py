"""Each subscriber's cadence and quiet hours: validated, listed for digests, gone with /forget."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from bot.broadcasts.preferences import (
    DEFAULT_QUIET_HOURS,
    Cadence,
    QuietHours,
    SubscriberPreferences,
)
from bot.campaign import CampaignFileError, load_campaign
from bot.storage import keys
from bot.storage.connection import connect
from tests.conftest import ROOT

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = connect(redis_url)
    yield client
    await client.aclose()


async def test_cadence_moves_with_the_digest_lists_and_bad_values_read_as_the_default(
    redis: Redis,
) -> None:
    preferences = SubscriberPreferences(redis, DEFAULT_QUIET_HOURS)
    assert (await preferences.of(1)).cadence is Cadence.INSTANT
    await preferences.set_cadence(1, Cadence.DAILY, 1_000)
    await preferences.set_cadence(2, Cadence.WEEKLY, 2_000)
    await preferences.set_cadence(3, Cadence.DAILY, 3_000)
    assert await preferences.digest_counts() == {Cadence.DAILY: 2, Cadence.WEEKLY: 1}
    # Daily to weekly, then back to every update: on one list at a time, then on none.
    await preferences.set_cadence(1, Cadence.WEEKLY, 4_000)
    assert await preferences.digest_counts() == {Cadence.DAILY: 1, Cadence.WEEKLY: 2}
    await preferences.set_cadence(1, Cadence.INSTANT, 5_000)
    assert await preferences.digest_counts() == {Cadence.DAILY: 1, Cadence.WEEKLY: 1}
    assert (await preferences.of(1)).cadence is Cadence.INSTANT

    # A value written by hand, or by an older release, is not trusted.
    await redis.hset(keys.user(4), mapping={"cadence": "hourly", "quiet": "25:00-08:00"})
    assert await preferences.of(4) == await preferences.of(5)

    await preferences.set_quiet(2, QuietHours.parse("23:30-07:00"))
    assert (await preferences.of(2)).quiet == QuietHours.parse("23:30-07:00")
    await preferences.set_quiet(2, None)
    assert (await preferences.of(2)).quiet is None
    await preferences.use_default_quiet(2)
    assert (await preferences.of(2)).quiet == DEFAULT_QUIET_HOURS

    await preferences.forget(2)
    assert await preferences.digest_counts() == {Cadence.DAILY: 1, Cadence.WEEKLY: 0}


def test_quiet_hours_across_midnight_end_in_the_morning() -> None:
    window = QuietHours.parse("22:00-08:00")
    late = datetime(2026, 12, 1, 23, 15, tzinfo=PARIS)
    early = datetime(2026, 12, 2, 7, 59, tzinfo=PARIS)
    assert window.contains(late) and window.contains(early)
    assert not window.contains(datetime(2026, 12, 2, 8, 0, tzinfo=PARIS))
    assert not window.contains(datetime(2026, 12, 1, 21, 59, tzinfo=PARIS))
    assert window.ends_after(late) == datetime(2026, 12, 2, 8, 0, tzinfo=PARIS)
    assert window.ends_after(early) == datetime(2026, 12, 2, 8, 0, tzinfo=PARIS)
    noon = datetime(2026, 12, 2, 12, 0, tzinfo=PARIS)
    assert window.ends_after(noon) == noon
    lunch = QuietHours.parse("12:00-14:00")
    assert lunch.contains(noon) and not lunch.contains(late)
    for bad in ("22:00", "22:00-22:00", "24:00-08:00", "10pm-8am"):
        with pytest.raises(ValueError, match="window"):
            QuietHours.parse(bad)


def test_the_campaign_file_sets_digests_and_quiet_hours(tmp_path: Path) -> None:
    # The repository's file, with its own [digests] and [quiet_hours] left for the test's.
    whole = (ROOT / "campaign.toml").read_text(encoding="utf-8")
    base = whole[: whole.index("[digests]")].replace('"assets/', f'"{ROOT}/assets/')
    file = tmp_path / "campaign.toml"
    file.write_text(
        base + '\n[digests]\ntime = "18:30"\nweekly_day = "Friday"\n'
        '\n[quiet_hours]\ndefault = "off"\n', encoding="utf-8",
    )
    campaign = load_campaign(file)
    assert (str(campaign.digest_at), campaign.digest_weekday, campaign.quiet_hours) == (
        "18:30:00", 4, None
    )
    defaults = load_campaign(ROOT / "campaign.toml")
    assert (str(defaults.digest_at), defaults.digest_weekday) == ("19:00:00", 6)
    assert defaults.quiet_hours == DEFAULT_QUIET_HOURS
    file.write_text(
        base + '\n[digests]\ntime = "7pm"\nweekly_day = "someday"\n'
        '\n[quiet_hours]\ndefault = "22:00"\n', encoding="utf-8",
    )
    with pytest.raises(CampaignFileError) as refused:
        load_campaign(file)
    problems = refused.value.problems
    assert len(problems) == 3
    assert any("digests.time" in line for line in problems)
    assert any("digests.weekly_day" in line for line in problems)
    assert any("quiet_hours.default" in line for line in problems)

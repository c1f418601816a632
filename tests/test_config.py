"""Start-up configuration: one clear line per problem, exit code 2, no secret echoed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from tests.conftest import ROOT

VALID = {
    "TELEGRAM_BOT_TOKEN": "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi",
    "STRIPE_SECRET_KEY": "sk_test_abcdefghijklmnop",
    "STRIPE_WEBHOOK_SECRET": "whsec_abcdefghijklmnop",
    "ADMIN_IDS": "42, 43",
    "CAMPAIGN_FILE": str(ROOT / "campaign.toml"),
}


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(env, dotenv_path=None)
    return caught.value.problems


def test_valid_settings_load_with_contract_defaults() -> None:
    settings = load_settings(VALID, dotenv_path=None)
    assert settings.telegram.api_url == "https://api.telegram.org"
    assert settings.telegram.mode == "polling"
    assert (settings.http.host, settings.http.port) == ("127.0.0.1", 8080)
    assert settings.admin_ids == frozenset({42, 43})
    assert settings.stripe.checkout_sessions_per_minute == 120
    assert settings.broadcast.rate == 25
    assert settings.telegram.chat_pace_seconds == 1
    assert settings.campaign.goal == 1_000_000
    assert settings.campaign.preset_amounts == (500, 1000, 2000, 5000, 10000)
    assert "sk_test" not in repr(settings)


def test_every_missing_required_variable_gets_its_own_line() -> None:
    lines = problems({"CAMPAIGN_FILE": VALID["CAMPAIGN_FILE"]})
    assert [line.split()[0] for line in lines] == [
        "TELEGRAM_BOT_TOKEN", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "ADMIN_IDS",
    ]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "does not look like a bot token"),
        ("STRIPE_SECRET_KEY", "pk_live_1234567890", "does not look like a Stripe secret key"),
        ("STRIPE_WEBHOOK_SECRET", "secret", "does not look like a Stripe signing secret"),
        ("ADMIN_IDS", "42,abc", "'abc' is not one"),
        ("ADMIN_IDS", "-42", "positive numeric user ids"),
        ("TELEGRAM_MODE", "push", "must be polling or webhook"),
        ("HTTP_PORT", "99999", "between 0 and 65535"),
        ("REDIS_URL", "http://localhost", "redis://"),
        ("BROADCAST_RATE", "fast", "messages per second"),
        ("CHECKOUT_SESSIONS_PER_MINUTE", "0", "between 1 and 6000"),
        ("CHECKOUT_SESSIONS_PER_MINUTE", "6001", "between 1 and 6000"),
        ("CHECKOUT_SESSIONS_PER_MINUTE", "1.5", "whole number of sessions a minute"),
        ("LOG_LEVEL", "LOUD", "DEBUG, INFO"),
        ("PUBLIC_URL", "http://example.org", "https://"),
        ("BENEFICIARY_CHAT_IDS", "12,x", "numeric chat ids"),
        ("TELEGRAM_CHAT_PACE_SECONDS", "-1", "seconds between 0 and 60"),
        ("TELEGRAM_CHAT_PACE_SECONDS", "61", "seconds between 0 and 60"),
        ("TELEGRAM_CHAT_PACE_SECONDS", "1s", "seconds between 0 and 60"),
    ],
)
def test_invalid_value_names_the_variable_and_the_reason(
    name: str, value: str, expected: str
) -> None:
    lines = problems({**VALID, name: value})
    assert len(lines) == 1
    assert lines[0].startswith(name)
    assert expected in lines[0]


def test_secrets_are_never_echoed() -> None:
    secret = "sk_live_THIS_MUST_NOT_APPEAR-"
    lines = problems({**VALID, "STRIPE_SECRET_KEY": secret, "TELEGRAM_BOT_TOKEN": "1:leaky"})
    assert not any(secret in line or "leaky" in line for line in lines)


def test_webhook_mode_needs_secret_and_public_url() -> None:
    lines = problems({**VALID, "TELEGRAM_MODE": "webhook"})
    assert [line.split()[0] for line in lines] == ["TELEGRAM_WEBHOOK_SECRET", "PUBLIC_URL"]


def test_bad_campaign_file_values_are_reported_each(tmp_path: Path) -> None:
    campaign = tmp_path / "campaign.toml"
    campaign.write_text(
        'currency = "XYZ"\ngoal = 12.5\npreset_amounts = []\ncustom_min = "0.10"\n'
        'timezone = "Mars/Olympus"\n[notifications]\ndaily_summary = "25:99"\n'
    )
    lines = problems({**VALID, "CAMPAIGN_FILE": str(campaign)})
    joined = "\n".join(lines)
    for expected in ("currency", "goal", "preset_amounts", "timezone", "daily_summary",
                     "custom_min is below Stripe's minimum"):
        assert expected in joined
    assert all(line.startswith("CAMPAIGN_FILE") for line in lines)


def test_dotenv_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("ADMIN_IDS=7\nLOG_LEVEL=debug\n")
    env = {key: value for key, value in VALID.items() if key != "ADMIN_IDS"}
    settings = load_settings({**env, "LOG_LEVEL": "WARNING"}, dotenv_path=dotenv)
    assert settings.admin_ids == frozenset({7})
    assert settings.logging.level == "WARNING"


def test_bot_without_token_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "STRIPE_"))}
    env.pop("ADMIN_IDS", None)
    env["STRIPE_SECRET_KEY"] = "sk_live_SECRETVALUE_not_to_print"
    env["STRIPE_WEBHOOK_SECRET"] = "whsec_abcdefghijk"
    env["ADMIN_IDS"] = "1"
    env["CAMPAIGN_FILE"] = str(ROOT / "campaign.toml")
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=30, check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "configuration error: TELEGRAM_BOT_TOKEN is not set: set it to the token @BotFather "
        "gave you (looks like 123456:ABC-DEF…)"
    ]
    assert "Traceback" not in result.stderr
    assert "SECRETVALUE" not in result.stderr + result.stdout

"""Settings from the environment (and .env) plus the campaign file, checked once at start-up."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.campaign import Campaign, CampaignFileError, load_campaign

T = TypeVar("T")

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
_TOKEN = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{30,64}", re.ASCII)
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}", re.ASCII)
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class TelegramSettings:
    """How the bot reaches Telegram and how Telegram reaches it."""

    # repr=False: settings may end up in a traceback or a debugger; secrets never go with them.
    token: str = field(repr=False)
    api_url: str
    mode: Literal["polling", "webhook"]
    webhook_secret: str | None = field(repr=False)
    # Seconds between two messages to one private chat once five went at once; 0: unpaced.
    chat_pace_seconds: float = 1.0


@dataclass(frozen=True)
class StripeSettings:
    """The Stripe account's key, the webhook's signing secret, and where the API lives."""

    secret_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    api_base: str | None
    # Checkout Sessions all processes together may create in a minute; past it, donors wait.
    checkout_sessions_per_minute: int = 120


@dataclass(frozen=True)
class HttpSettings:
    """Where the HTTP server listens, the public address people and Telegram see, its limits."""

    host: str
    port: int
    public_url: str | None
    # A request's headers must arrive within headers_timeout of the connection opening, its body
    # within body_timeout of the headers; an idle kept-alive connection closes after keepalive.
    headers_timeout: float = 10.0
    body_timeout: float = 30.0
    keepalive_timeout: float = 15.0
    # Lowered at start-up to fit the process's file-descriptor limit.
    max_connections: int = 512
    # Bearer token /metrics asks for; without one /metrics is not served.
    metrics_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class BroadcastSettings:
    """The shared send rate, and how long an entry left by a crashed process waits."""

    rate: float
    recovery_seconds: int = 15


@dataclass(frozen=True)
class StorageSettings:
    """An external Redis, or the embedded one's data folder."""

    redis_url: str | None
    data_dir: Path


@dataclass(frozen=True)
class LogSettings:
    level: str
    format: str = "keyvalue"


@dataclass(frozen=True)
class Settings:
    """Every setting the bot runs with, in sections; built once in main() and passed down."""

    telegram: TelegramSettings
    stripe: StripeSettings
    http: HttpSettings
    broadcast: BroadcastSettings
    storage: StorageSettings
    logging: LogSettings
    admin_ids: frozenset[int]
    beneficiary_chat_ids: frozenset[int]
    campaign_file: Path
    campaign: Campaign


class ConfigError(Exception):
    """Start-up configuration problems, one line each, none of them echoing a secret."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_settings(environ: Mapping[str, str], dotenv_path: Path | None = Path(".env")) -> Settings:
    """Build Settings from the environment, the .env file under it, and the campaign file."""
    values: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.is_file():
        values.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    values.update(environ)
    return _SettingsReader(values).read()


class _SettingsReader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def get(
        self, name: str, parse: Callable[[str], T], *, default: str | None = None,
        required: bool = False, hint: str = "",
    ) -> T | None:
        raw = self.env.get(name, "").strip()
        if not raw:
            if required:
                self.problems.append(f"{name} is not set: {hint}".rstrip(": "))
                return None
            if default is None:
                return None
            raw = default
        try:
            return parse(raw)
        except ValueError as exc:
            self.problems.append(f"{name} {exc}")
            return None

    def read(self) -> Settings:
        token = self.get(
            "TELEGRAM_BOT_TOKEN", _token, required=True,
            hint="set it to the token @BotFather gave you (looks like 123456:ABC-DEF…)",
        )
        api_url = self.get("TELEGRAM_API_URL", _http_url, default=DEFAULT_TELEGRAM_API_URL)
        mode = self.get("TELEGRAM_MODE", _mode, default="polling")
        public_url = self.get("PUBLIC_URL", _public_url)
        webhook_secret = self.get("TELEGRAM_WEBHOOK_SECRET", _webhook_secret)
        chat_pace = self.get("TELEGRAM_CHAT_PACE_SECONDS", _chat_pace, default="1")
        if mode == "webhook":
            if not self.env.get("TELEGRAM_WEBHOOK_SECRET", "").strip():
                self.problems.append(
                    "TELEGRAM_WEBHOOK_SECRET is not set: webhook mode needs a secret of "
                    "1-256 characters A-Z a-z 0-9 _ -"
                )
            if not self.env.get("PUBLIC_URL", "").strip():
                self.problems.append(
                    "PUBLIC_URL is not set: webhook mode needs the public https URL"
                )
        host = self.get("HTTP_HOST", str, default="127.0.0.1")
        port = self.get("HTTP_PORT", _port, default="8080")
        headers_timeout = self.get("HTTP_HEADERS_TIMEOUT", _http_seconds, default="10")
        body_timeout = self.get("HTTP_BODY_TIMEOUT", _http_seconds, default="30")
        keepalive_timeout = self.get("HTTP_KEEPALIVE_TIMEOUT", _http_seconds, default="15")
        max_connections = self.get("HTTP_MAX_CONNECTIONS", _connections, default="512")
        metrics_token = self.get("METRICS_TOKEN", _metrics_token)
        stripe_key = self.get(
            "STRIPE_SECRET_KEY", _stripe_key, required=True,
            hint="set it to your Stripe secret key (sk_test_… or sk_live_…)",
        )
        stripe_whsec = self.get(
            "STRIPE_WEBHOOK_SECRET", _stripe_webhook_secret, required=True,
            hint="set it to the signing secret (whsec_…) of the /stripe/webhook endpoint",
        )
        stripe_base = self.get("STRIPE_API_BASE", _http_url)
        checkout_cap = self.get(
            "CHECKOUT_SESSIONS_PER_MINUTE", _checkout_sessions, default="120"
        )
        redis_url = self.get("REDIS_URL", _redis_url)
        data_dir = self.get("DATA_DIR", Path, default="./data")
        admin_ids = self.get(
            "ADMIN_IDS", _user_ids, required=True,
            hint="set it to the organizers' numeric Telegram user ids, comma-separated",
        )
        beneficiaries = self.get("BENEFICIARY_CHAT_IDS", _chat_ids, default="")
        campaign_file = self.get("CAMPAIGN_FILE", Path, default="campaign.toml")
        rate = self.get("BROADCAST_RATE", _rate, default="25")
        log_level = self.get("LOG_LEVEL", _log_level, default="INFO")
        log_format = self.get("LOG_FORMAT", _log_format, default="keyvalue")
        recovery = self.get("BROADCAST_RECOVERY_SECONDS", _recovery, default="15")
        campaign = None
        if campaign_file is not None:
            try:
                campaign = load_campaign(campaign_file)
            except CampaignFileError as exc:
                self.problems.extend(f"CAMPAIGN_FILE {problem}" for problem in exc.problems)
        if self.problems:
            raise ConfigError(self.problems)
        assert token and api_url and mode and host and port is not None and stripe_key
        assert stripe_whsec and data_dir and admin_ids and campaign_file and campaign
        assert rate is not None and log_level and beneficiaries is not None
        assert chat_pace is not None
        return Settings(
            telegram=TelegramSettings(
                token=token, api_url=api_url, mode=mode, webhook_secret=webhook_secret,
                chat_pace_seconds=chat_pace,
            ),
            stripe=StripeSettings(
                secret_key=stripe_key, webhook_secret=stripe_whsec, api_base=stripe_base,
                checkout_sessions_per_minute=checkout_cap or 120,
            ),
            http=HttpSettings(
                host=host, port=port, public_url=public_url,
                headers_timeout=headers_timeout or 10.0, body_timeout=body_timeout or 30.0,
                keepalive_timeout=keepalive_timeout or 15.0,
                max_connections=max_connections or 512, metrics_token=metrics_token,
            ),
            broadcast=BroadcastSettings(rate=rate, recovery_seconds=recovery or 15),
            storage=StorageSettings(redis_url=redis_url, data_dir=data_dir),
            logging=LogSettings(level=log_level, format=log_format or "keyvalue"),
            admin_ids=admin_ids,
            beneficiary_chat_ids=beneficiaries,
            campaign_file=campaign_file,
            campaign=campaign,
        )

# Parsers: each raises ValueError with the reason, phrased to follow the variable's name, and
# never includes the value when the value may be a secret.


def _token(raw: str) -> str:
    if not _TOKEN.fullmatch(raw):
        raise ValueError("does not look like a bot token from @BotFather (digits:letters)")
    return raw


def _http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    return raw.rstrip("/")


def _public_url(raw: str) -> str:
    parts = urlsplit(raw)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    if not (parts.scheme == "https" or loopback) or not parts.netloc:
        raise ValueError("must be a public https:// URL (http:// only for localhost)")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment")
    return raw.rstrip("/")


def _mode(raw: str) -> Literal["polling", "webhook"]:
    if raw == "polling":
        return "polling"
    if raw == "webhook":
        return "webhook"
    raise ValueError("must be polling or webhook")


def _webhook_secret(raw: str) -> str:
    if not _WEBHOOK_SECRET.fullmatch(raw):
        raise ValueError("must be 1-256 characters from A-Z a-z 0-9 _ -")
    return raw


def _chat_pace(raw: str) -> float:
    if not re.fullmatch(r"\d{1,2}(\.\d{1,3})?", raw, re.ASCII) or float(raw) > 60:
        raise ValueError("must be a number of seconds between 0 and 60 (default 1)")
    return float(raw)


def _port(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise ValueError("must be a port number between 0 and 65535")
    return int(raw)


def _http_seconds(raw: str) -> float:
    if not re.fullmatch(r"\d{1,4}(\.\d{1,3})?", raw, re.ASCII) or not 0.1 <= float(raw) <= 3600:
        raise ValueError("must be a number of seconds between 0.1 and 3600")
    return float(raw)


def _connections(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise ValueError("must be a whole number of connections between 1 and 100000")
    return int(raw)


def _metrics_token(raw: str) -> str:
    # Shown to no one and compared in constant time; long enough that guessing it is hopeless.
    if not re.fullmatch(r"[A-Za-z0-9._~+/=-]{16,256}", raw, re.ASCII):
        raise ValueError("must be 16-256 characters from A-Z a-z 0-9 . _ ~ + / = -")
    return raw


def _stripe_key(raw: str) -> str:
    if not re.fullmatch(r"(sk|rk)_(test|live)_[A-Za-z0-9_]{8,}", raw, re.ASCII):
        raise ValueError("does not look like a Stripe secret key (sk_test_… or sk_live_…)")
    return raw


def _stripe_webhook_secret(raw: str) -> str:
    if not re.fullmatch(r"whsec_[A-Za-z0-9_]{8,}", raw, re.ASCII):
        raise ValueError("does not look like a Stripe signing secret (whsec_…)")
    return raw


def _redis_url(raw: str) -> str:
    if urlsplit(raw).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("must start with redis://, rediss:// or unix://")
    return raw


def _ids(raw: str, *, users_only: bool) -> frozenset[int]:
    ids: set[int] = set()
    for part in raw.split(","):
        item = part.strip()
        if not item:
            continue
        if not re.fullmatch(r"-?\d{1,20}", item, re.ASCII) or (users_only and item[0] == "-"):
            kind = "positive numeric user ids" if users_only else "numeric chat ids"
            raise ValueError(f"must be comma-separated {kind}; {item!r} is not one")
        ids.add(int(item))
    return frozenset(ids)


def _user_ids(raw: str) -> frozenset[int]:
    ids = _ids(raw, users_only=True)
    if not ids:
        raise ValueError("must list at least one organizer id")
    return ids


def _chat_ids(raw: str) -> frozenset[int]:
    return _ids(raw, users_only=False)


def _rate(raw: str) -> float:
    if not re.fullmatch(r"\d{1,6}(\.\d{1,3})?", raw, re.ASCII):
        raise ValueError("must be a number of messages per second (0 means unlimited)")
    return float(raw)


def _checkout_sessions(raw: str) -> int:
    # Past 6000 a minute (Stripe's live-mode limit of 100 writes a second) Stripe refuses anyway.
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 6000:
        raise ValueError("must be a whole number of sessions a minute between 1 and 6000")
    return int(raw)


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


def _log_format(raw: str) -> str:
    if raw not in ("keyvalue", "json"):
        raise ValueError("must be keyvalue or json")
    return raw


def _recovery(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or not 2 <= int(raw) <= 600:
        raise ValueError("must be a whole number of seconds between 2 and 600")
    return int(raw)

"""A failing outside service in one line: which service, the variable to check, what was tried.

Shared by the start-up path and `python -m bot check`, so both say the same thing about the same
failure. No line quotes a secret: tokens are named by their variable, passwords are masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

import stripe
from redis.exceptions import AuthenticationError, RedisError, ResponseError
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

from bot.config import DEFAULT_TELEGRAM_API_URL, Settings

STRIPE_DEFAULT_API = "https://api.stripe.com"
# A Redis server that does not answer the first PING in this time is reported, not waited for.
REDIS_PING_SECONDS = 10


@dataclass(frozen=True)
class ServiceProblem:
    """A service, and what went wrong with it, phrased to follow the service's name."""

    service: str
    what: str

    def sentence(self) -> str:
        return f"{self.service} {self.what}"


class StartupError(Exception):
    """The bot could not start; the message is the one line the operator reads."""


def one_line(text: str) -> str:
    """Library messages wrapped over several lines (Stripe's) as one."""
    return " ".join(text.split())


def without_password(url: str) -> str:
    """A Redis URL as it may be shown: a password in the authority or the query masked."""
    parts = urlsplit(url)
    shown = url
    if parts.password is not None:
        user, _, host = parts.netloc.rpartition("@")
        shown = shown.replace(parts.netloc, f"{user.partition(':')[0]}:***@{host}", 1)
    query = parse_qsl(parts.query)
    if any(name == "password" for name, _ in query):
        masked = urlencode([(k, "***" if k == "password" else v) for k, v in query], safe="*/")
        shown = shown.replace(parts.query, masked, 1)
    return shown


def unreachable(error: TelegramError) -> bool:
    """A failure of the way to Telegram (PTB makes its BadRequest a NetworkError too)."""
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


def telegram_problem(error: TelegramError, settings: Settings) -> ServiceProblem:
    """Telegram unreachable, the token refused, or a call refused."""
    api = f"TELEGRAM_API_URL={settings.telegram.api_url}"
    if isinstance(error, InvalidToken):
        # PTB re-raises the refusal with the token quoted; the answer itself is its cause.
        cause = error.__cause__
        answer = cause.message if isinstance(cause, TelegramError) else error.message
        if answer == "Unauthorized" or settings.telegram.api_url == DEFAULT_TELEGRAM_API_URL:
            return ServiceProblem(
                "Telegram", f"refused TELEGRAM_BOT_TOKEN ({answer}): "
                "check the token @BotFather gave you",
            )
        return ServiceProblem(
            "Telegram", f"refused TELEGRAM_BOT_TOKEN at {api} ({answer}): check the token "
            "@BotFather gave you and that TELEGRAM_API_URL is a Bot API server",
        )
    if unreachable(error):
        # The transport prefixes aiohttp's exception name; what happened is after it.
        detail = error.message.split(": ", 1)[-1] if error.message.startswith("aiohttp.") \
            else error.message
        return ServiceProblem(
            "Telegram", f"could not be reached at {api} ({detail}): "
            "check TELEGRAM_API_URL and the network",
        )
    return ServiceProblem(
        "Telegram", f"refused a call at {api} ({type(error).__name__}: {error.message}): "
        "check TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL",
    )


def webhook_problem(error: TelegramError, settings: Settings) -> ServiceProblem:
    """setWebhook refused: the public address or the secret is what to look at."""
    if isinstance(error, InvalidToken) or unreachable(error):
        return telegram_problem(error, settings)
    return ServiceProblem(
        "Telegram", f"refused the webhook at PUBLIC_URL={settings.http.public_url} "
        f"({error.message}): check PUBLIC_URL (a public https address) and "
        "TELEGRAM_WEBHOOK_SECRET",
    )


def redis_refusal(error: BaseException) -> RedisError | None:
    """The server's own refusal (credentials, a denied command) behind a connection error."""
    # redis-py raises a refused AUTH as a ConnectionError caused by the AuthenticationError.
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, (AuthenticationError, ResponseError)):
            return seen
        seen = seen.__cause__
    return None


def redis_problem(error: BaseException, url: str) -> ServiceProblem:
    """The Redis server at REDIS_URL unreachable, refusing the credentials, or refusing us."""
    shown = f"REDIS_URL={without_password(url)}"
    error = redis_refusal(error) or error
    detail = str(error) or type(error).__name__
    if isinstance(error, AuthenticationError):
        return ServiceProblem(
            "Redis", f"refused the credentials in {shown} ({detail}): "
            "check the user name and password in REDIS_URL",
        )
    if isinstance(error, ResponseError):
        return ServiceProblem("Redis", f"at {shown} refused the bot ({detail}): check REDIS_URL")
    if isinstance(error, TimeoutError):
        detail = "no answer in time"
    return ServiceProblem(
        "Redis", f"could not be reached at {shown} ({detail}): "
        "check REDIS_URL and that the server is running",
    )


def embedded_problem(error: BaseException, what: str = "did not start") -> ServiceProblem:
    """The embedded server failed; its own errors already name DATA_DIR or its log."""
    return ServiceProblem("the embedded Valkey server", f"{what}: {error}")


def http_problem(error: OSError, settings: Settings) -> ServiceProblem:
    """The HTTP server could not listen: the port is taken or the address is not this host's."""
    http = settings.http
    return ServiceProblem(
        "the HTTP server", f"could not listen on HTTP_HOST={http.host} HTTP_PORT={http.port} "
        f"({error.strerror or error}): check HTTP_HOST and HTTP_PORT, and that no other "
        "process uses the port",
    )


def stripe_problem(error: stripe.StripeError, settings: Settings) -> ServiceProblem:
    """Stripe unreachable, or the key refused."""
    detail = one_line(error.user_message or str(error) or type(error).__name__)
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        return ServiceProblem(
            "Stripe", f"refused STRIPE_SECRET_KEY ({detail}): "
            "check the key in the Stripe dashboard (Developers, API keys)",
        )
    if isinstance(error, stripe.APIConnectionError):
        cause = error.__cause__
        detail = one_line(str(cause)) if cause is not None and str(cause) else "no answer"
        where = (
            f"STRIPE_API_BASE={settings.stripe.api_base}" if settings.stripe.api_base
            else STRIPE_DEFAULT_API
        )
        check = "STRIPE_API_BASE and the network" if settings.stripe.api_base else "the network"
        return ServiceProblem(
            "Stripe", f"could not be reached at {where} ({detail}): check {check}"
        )
    return ServiceProblem(
        "Stripe", f"refused a call ({type(error).__name__}: {detail}): check STRIPE_SECRET_KEY"
    )


def startup_problem(error: Exception, settings: Settings) -> str:
    """The one line for an exception a start-up step let through."""
    if isinstance(error, TelegramError):
        return telegram_problem(error, settings).sentence()
    if isinstance(error, RedisError):
        if settings.storage.redis_url:
            return redis_problem(error, settings.storage.redis_url).sentence()
        where = f"in DATA_DIR={settings.storage.data_dir} stopped answering"
        return embedded_problem(error, where).sentence()
    # Nothing at start-up calls Stripe: the key is first used by a donation or the nightly check.
    return f"{type(error).__name__}: {one_line(str(error))}"

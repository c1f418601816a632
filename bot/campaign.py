"""The campaign file: goal, amounts, milestones, photo and video link, read once at start-up."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.broadcasts.preferences import DEFAULT_QUIET_HOURS, QUIET_OFF, QuietHours
from bot.campaign_end import CampaignEnd, read_after_end, read_end_date
from bot.donations.fees import FeeRule, rate_basis_points
from bot.donations.impact import ImpactUnit, read_impact_units
from bot.donations.needs import Need, read_needs
from bot.i18n import SUPPORTED_LOCALES
from bot.money import MINOR_DIGITS, STRIPE_MINIMUM_MINOR, major_to_minor
from bot.reports.receipt_issuer import NONE, ReceiptIssuer, read_receipt_issuer


def percent_of_goal(raised: int, goal: int) -> int:
    """Whole percent reached, rounded down so 99.9 % never reads as done."""
    return max(0, raised) * 100 // goal

@dataclass(frozen=True)
class Campaign:
    """Everything about the fundraiser that organizers may change without touching code."""

    currency: str
    goal: int
    preset_amounts: tuple[int, ...]
    custom_min: int
    custom_max: int
    milestone_percents: tuple[int, ...]
    milestone_every: int
    photo: Path | None
    video_url: str
    timezone: ZoneInfo
    notify_interval_minutes: int
    daily_summary_at: time
    default_locale: str
    # Language of what the beneficiaries receive (l'Auberge des Migrants works in French).
    notify_locale: str = "fr"
    # What a donor may add to cover the card fees, and what amounts buy (the [[impact]] list).
    fees: FeeRule = field(default_factory=FeeRule)
    impact: tuple[ImpactUnit, ...] = ()
    # After a first one-off gift, a monthly gift of that gift / divisor is suggested; None: off.
    monthly_suggestion_divisor: int | None = 3
    # The association that issues tax receipts ([receipts] issuer); None: gifts give none.
    receipt_issuer: ReceiptIssuer | None = None
    # What the money buys, each with its bar on /needs (the [[needs]] list); () hides the board.
    needs: tuple[Need, ...] = ()
    # The optional end date, and where people are pointed after it (or once /close went out).
    end: CampaignEnd = field(default_factory=CampaignEnd)
    # Digests go out at this time (campaign time zone), weekly ones on this weekday (0: Monday).
    digest_at: time = time(19, 0)
    digest_weekday: int = 6
    # The quiet hours of a subscriber who chose none of their own; None: no default window.
    quiet_hours: QuietHours | None = DEFAULT_QUIET_HOURS

    def monthly_suggestion(self, amount: int) -> int | None:
        """The monthly amount suggested after a one-off gift of `amount`: its share rounded to
        the nearest preset (the smaller of two as near), so never below the smallest."""
        divisor = self.monthly_suggestion_divisor
        if divisor is None:
            return None
        return min(
            self.preset_amounts, key=lambda preset: (abs(preset * divisor - amount), preset)
        )


class CampaignFileError(Exception):
    """The campaign file is missing or has values the bot cannot use; one entry per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load_campaign(path: Path) -> Campaign:
    """Read and check the campaign file, collecting every problem before failing."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignFileError([f"{path} does not exist"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignFileError([f"{path} cannot be read ({exc.__class__.__name__})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise CampaignFileError([f"{path} is not valid TOML: {exc}"]) from None
    return _CampaignReader(raw, path).read()


class _CampaignReader:
    """Reads one field at a time, turning each bad value into a message instead of an exception."""

    def __init__(self, raw: dict[str, Any], path: Path) -> None:
        self.raw = raw
        self.path = path
        self.problems: list[str] = []

    def field(self, name: str, default: Any, convert: Callable[[Any], Any]) -> Any:
        section, _, key = name.rpartition(".")
        table = self.raw.get(section, {}) if section else self.raw
        value = table.get(key, default) if isinstance(table, dict) else default
        try:
            return convert(value)
        except (ValueError, TypeError, ZoneInfoNotFoundError) as exc:
            self.problems.append(f"{self.path}: {name} {exc}")
            return None

    def read(self) -> Campaign:
        currency = self.field("currency", "EUR", _currency)
        goal = self.field("goal", 10_000, _positive_amount)
        presets = self.field("preset_amounts", [5, 10, 20, 50, 100], _amount_list)
        custom_min = self.field("custom_min", 2, _positive_amount)
        custom_max = self.field("custom_max", 10_000, _positive_amount)
        percents = self.field("milestones.percent", [25, 50, 75, 100], _percent_list)
        every = self.field("milestones.every", 1_000, _amount_or_zero)
        photo = self.field("photo", "assets/campaign-photo.png", self._photo)
        video_url = self.field("video_url", "", _https_url)
        timezone = self.field("timezone", "Europe/Paris", _zone)
        interval = self.field("notifications.interval_minutes", 10, _positive_int)
        daily = self.field("notifications.daily_summary", "20:00", _clock_time)
        default_locale = self.field("default_locale", "en", _locale)
        notify_locale = self.field("notifications.locale", "fr", _locale)
        fee_rate = self.field("fees.rate", "1.5", rate_basis_points)
        fee_fixed = self.field("fees.fixed", "0.25", _amount_or_zero)
        impact = self.field("impact", [], read_impact_units)
        needs = self.field("needs", [], lambda value: read_needs(value, self._photo))
        if fee_fixed is not None and custom_min is not None and fee_fixed >= custom_min:
            self.problems.append(f"{self.path}: fees.fixed must be below custom_min")
        suggesting = self.field("monthly_suggestion.enabled", True, _switch)
        divisor = self.field("monthly_suggestion.divisor", 3, _divisor)
        issuer = self.receipt_issuer()
        if custom_min is not None and custom_min < STRIPE_MINIMUM_MINOR:
            self.problems.append(f"{self.path}: custom_min is below Stripe's minimum of 0.50")
        if custom_min is not None and custom_max is not None and custom_min > custom_max:
            self.problems.append(f"{self.path}: custom_min is larger than custom_max")
        if presets and custom_max is not None and max(presets) > custom_max:
            self.problems.append(f"{self.path}: preset_amounts go above custom_max")
        digest_at = self.field("digests.time", "19:00", _clock_time)
        digest_weekday = self.field("digests.weekly_day", "sunday", _weekday)
        quiet_hours = self.field("quiet_hours.default", "22:00-08:00", _quiet_window)
        end_date = self.field("end_date", None, read_end_date)
        after_end: tuple[str, dict[str, str]] = (
            self.field("after_end", {}, read_after_end) or ("", {})
        )
        if self.problems:
            raise CampaignFileError(self.problems)
        return Campaign(
            currency=currency,
            goal=goal,
            preset_amounts=presets,
            custom_min=custom_min,
            custom_max=custom_max,
            milestone_percents=percents,
            milestone_every=every,
            photo=photo,
            video_url=video_url,
            timezone=timezone,
            notify_interval_minutes=interval,
            daily_summary_at=daily,
            default_locale=default_locale,
            notify_locale=notify_locale,
            fees=FeeRule(rate_bp=fee_rate, fixed=fee_fixed),
            impact=impact,
            monthly_suggestion_divisor=divisor if suggesting else None,
            receipt_issuer=issuer,
            needs=needs,
            end=CampaignEnd(end_date, *after_end),
            digest_at=digest_at,
            digest_weekday=digest_weekday,
            quiet_hours=quiet_hours,
        )

    def receipt_issuer(self) -> ReceiptIssuer | None:
        """[receipts] issuer, each of its problems on a line of its own."""
        table = self.raw.get("receipts", {})
        issuer, problems = read_receipt_issuer(
            table.get("issuer", NONE) if isinstance(table, dict) else table
        )
        self.problems += [f"{self.path}: receipts.issuer {problem}" for problem in problems]
        return issuer

    def _photo(self, value: Any) -> Path | None:
        if value in ("", None):
            return None
        photo = Path(str(value))
        if not photo.is_absolute():
            photo = self.path.parent / photo
        if not photo.is_file():
            raise ValueError(f"points to {photo}, which is not a file")
        return photo


def _currency(value: Any) -> str:
    code = str(value).upper()
    if code not in MINOR_DIGITS:
        raise ValueError(f"must be one of {', '.join(sorted(MINOR_DIGITS))}")
    return code


def _positive_amount(value: Any) -> int:
    minor = major_to_minor(value)
    if minor <= 0:
        raise ValueError("must be greater than zero")
    return minor


def _amount_or_zero(value: Any) -> int:
    return major_to_minor(value)


def _amount_list(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= 8:
        raise ValueError("must be a list of 1 to 8 amounts")
    amounts = tuple(_positive_amount(item) for item in value)
    if any(amount < STRIPE_MINIMUM_MINOR for amount in amounts):
        raise ValueError("has an amount below Stripe's minimum of 0.50")
    return amounts


def _percent_list(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        isinstance(item, int) and not isinstance(item, bool) and 0 < item <= 1000
        for item in value
    ):
        raise ValueError("must be a list of whole percentages between 1 and 1000")
    return tuple(sorted(set(value)))


def _positive_int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError("must be a whole number greater than zero")
    return value


def _switch(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _divisor(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 12:
        raise ValueError("must be a whole number from 1 to 12")
    return value


def _https_url(value: Any) -> str:
    url = str(value)
    if url and not url.startswith("https://"):
        raise ValueError("must start with https://")
    return url


def _zone(value: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone such as Europe/Paris") from None


def _clock_time(value: Any) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a time such as 20:00") from None


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(value: Any) -> int:
    if not isinstance(value, str) or value.strip().lower() not in WEEKDAYS:
        raise ValueError(f"{value!r} is not a day such as sunday")
    return WEEKDAYS.index(value.strip().lower())


def _quiet_window(value: Any) -> QuietHours | None:
    """"22:00-08:00", or "off" for no quiet hours unless a subscriber sets their own."""
    if value == QUIET_OFF:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a window such as 22:00-08:00, or off")
    return QuietHours.parse(value)


def _locale(value: Any) -> str:
    if value not in SUPPORTED_LOCALES:
        raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
    return str(value)

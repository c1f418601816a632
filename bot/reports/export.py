"""The donations CSV for organizers: one row per gift, no Telegram ids, safe to open in Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.donations.ledger import StoredDonation
from bot.money import minor_to_decimal

COLUMNS = (
    # amount is the gift; covered_fee what its donor added for the card fee, paid beside it.
    "date", "amount", "covered_fee", "currency", "kind", "referral", "public_name",
    "refund_status", "refunded", "disputed", "stripe_payment_intent", "stripe_checkout_session",
    "stripe_invoice", "stripe_subscription", "stripe_customer",
)
# A cell starting with one of these is run as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """A value a spreadsheet program shows as text, never runs as a formula."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _refund_status(donation: StoredDonation) -> str:
    if int(donation.fields.get("disputed", 0)):
        return "disputed"
    refunded = int(donation.fields.get("refunded", 0))
    if refunded == 0:
        return "none"
    return "refunded" if refunded >= donation.amount else "partially refunded"


async def export_csv(rows: AsyncIterator[StoredDonation], zone: ZoneInfo) -> tuple[bytes, int]:
    """The CSV (UTF-8 with BOM so spreadsheet programs read the accents) and its row count."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    count = 0
    async for donation in rows:
        fields = donation.fields
        writer.writerow([
            datetime.fromtimestamp(donation.created, zone).isoformat(timespec="seconds"),
            str(minor_to_decimal(donation.amount)),
            str(minor_to_decimal(int(fields.get("covered_fee", 0)))),
            fields.get("currency", ""),
            "monthly" if fields.get("kind") == "monthly" else "one-off",
            cell(fields.get("referral", "")),
            cell(fields.get("public_name", "")),
            _refund_status(donation),
            str(minor_to_decimal(int(fields.get("refunded", 0)))),
            str(minor_to_decimal(int(fields.get("disputed", 0)))),
            fields.get("payment_intent", ""),
            fields.get("session", ""),
            fields.get("invoice", ""),
            fields.get("subscription", ""),
            fields.get("customer", ""),
        ])
        count += 1
    return buffer.getvalue().encode("utf-8-sig"), count

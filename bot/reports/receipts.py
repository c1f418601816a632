"""Tax receipts: the line that says whether gifts give one, and the Cerfa-ready list (CSV) the
organizer's /export receipts sends, one row per gift kept or numbered before, in receipt
number order. A row's amount is what its receipt was issued for; its status says when a refund
since calls for the receipt to be cancelled or corrected.

Nothing on a row is guessed: a name, an address part or a payment method Stripe did not give
(a gift made before addresses were asked for) reads "unknown" in the organizer's language.
"""

from __future__ import annotations

import csv
import html
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale

from bot.donations.receipt_numbers import NumberedGift, stored_address
from bot.i18n import Localizer, money
from bot.money import minor_to_decimal
from bot.reports.export import cell
from bot.reports.french_amounts import euros_in_words
from bot.reports.receipt_issuer import ReceiptIssuer

COLUMNS = (
    "number", "donor", "address", "postal-code", "city", "country", "amount", "currency",
    "date", "method", "article", "issuer", "issuer-address", "issuer-object",
    "issuer-identifier", "signatory", "status",
)
# French words for euros only: a receipt for the French tax office is in euros.
WORDS_CURRENCY = "EUR"


def tax_receipt_line(l10n: Localizer, issuer: ReceiptIssuer | None, locale: str) -> str:
    """Under /donate and /help: no tax reduction, or who issues the receipts."""
    if issuer is None:
        return l10n.format(locale, "receipts-none")
    return l10n.format(locale, "receipts-issued-by", name=html.escape(issuer.name))


def receipts_csv(
    gifts: list[NumberedGift], issuer: ReceiptIssuer, l10n: Localizer, locale: str,
    zone: ZoneInfo, currency: str,
) -> bytes:
    """The list as CSV in the organizer's language (UTF-8 with BOM, for spreadsheet programs)."""
    columns = list(COLUMNS)
    words = currency == WORDS_CURRENCY
    if words:
        columns.insert(columns.index("amount") + 1, "amount-words")
    unknown = l10n.format(locale, "receipts-unknown")
    countries = Locale.parse(locale).territories
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([l10n.format(locale, f"receipts-column-{name}") for name in columns])
    for gift in gifts:
        fields = gift.donation.fields
        address = stored_address(fields)
        street = ", ".join(address[part] for part in ("line1", "line2") if part in address)
        method = fields.get("payment_method")
        country = address.get("country")
        row = {
            "number": str(gift.number),
            "donor": fields.get("donor_name") or unknown,
            "address": street or unknown,
            "postal-code": address.get("postal_code") or unknown,
            "city": address.get("city") or unknown,
            "country": countries.get(country, country) if country else unknown,
            "amount": str(minor_to_decimal(gift.issued)),
            "amount-words": euros_in_words(gift.issued),
            "currency": fields.get("currency", currency),
            "date": datetime.fromtimestamp(gift.donation.created, zone).date().isoformat(),
            "method": l10n.format(locale, "receipts-method", method=method) if method else unknown,
            "article": issuer.article,
            "issuer": issuer.name,
            "issuer-address": issuer.address,
            "issuer-object": issuer.object,
            "issuer-identifier": issuer.identifier,
            "signatory": issuer.signatory,
            "status": l10n.format(
                locale, "receipts-status", after=gift.after_issue,
                kept=money(max(0, gift.kept), fields.get("currency", currency)),
            ),
        }
        writer.writerow([cell(row[name]) for name in columns])
    return buffer.getvalue().encode("utf-8-sig")

"""Amounts, dates and labels in the invoice's currency and the account's locale (Babel; the
labels from the product's catalog, ``translations``)."""

import copy
from datetime import date
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

from domain.currencies import MINOR_UNITS
from domain.invoice import TEXTS
from translations import LANGUAGES, N_, NP_, braced, told

# What the invoice's PDF prints (``pdf.layout`` reads them by these keys), as the catalog's
# messages; the layout formats them with ``str.format`` ("Page {page} of {pages}").
MESSAGES: dict[str, str | tuple[str, str]] = {
    "invoice": N_("INVOICE"),
    "number": N_("Invoice number"),
    "issue_date": N_("Issue date"),
    "due_date": N_("Due date"),
    "status": N_("Status"),
    "bill_to": N_("Bill to"),
    "description": N_("Description"),
    "quantity": N_("Qty"),
    "unit_price": N_("Unit price"),
    "tax": NP_("column", "Tax"),  # a line's: Impuesto
    "amount": N_("Amount"),
    "subtotal": N_("Subtotal"),
    "discount": N_("Discount"),
    "net": N_("Subtotal after discount"),
    "tax_total": NP_("totals", "Tax"),  # the sum of the lines': Impuestos
    "total": N_("Total"),
    **{text.name: text.label for text in TEXTS},  # an invoice's texts (domain.invoice.TEXTS)
    "page": N_("Page %(page)s of %(pages)s"),
    "continued": N_("continued"),
    "DRAFT": N_("Draft"),
    "SENT": N_("Sent"),
    "VIEWED": N_("Viewed"),
    "PAID": N_("Paid"),
    "PARTIALLY_PAID": N_("Partially paid"),
    "OVERDUE": N_("Overdue"),
    "VOID": N_("Void"),
    "discount_rate": N_("Disc."),
    "tax_on": N_("Tax %(rate)s on %(base)s"),
    "amount_paid": N_("Amount paid"),
    "balance_due": N_("Balance due"),
    "view_online": N_("View and download online"),
    "void_reason": N_("Reason"),
}
LABELS: dict[str, dict[str, str]] = {
    language: {key: braced(told(language, message)) for key, message in MESSAGES.items()} for language in LANGUAGES
}


class Formats:
    def __init__(self, locale: str) -> None:
        self.locale = Locale.parse(locale if locale in LABELS else "en")
        self.labels = LABELS[str(self.locale.language) if str(self.locale.language) in LABELS else "en"]

    def money(self, amount: Decimal, currency: str) -> str:
        """The amount at the currency's minor unit, or finer when it was given finer (a unit
        price of 0.125): $5,500.00, $17.20, 5.500,00 €, ¥5,500."""
        pattern = copy.copy(self.locale.currency_formats["standard"])
        exponent = amount.as_tuple().exponent
        given = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        digits = max(given, MINOR_UNITS.get(currency, 2))
        pattern.frac_prec = (digits, digits)
        return str(pattern.apply(amount, self.locale, currency=currency, currency_digits=False))

    def number(self, value: Decimal) -> str:
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def percent(self, value: Decimal) -> str:
        return f"{self.number(value)} %" if self.locale.language == "es" else f"{self.number(value)}%"

    def date(self, value: date) -> str:
        return format_date(value, format="medium", locale=self.locale)

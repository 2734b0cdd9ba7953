"""Amounts, dates and labels in the invoice's currency and the account's locale (Babel)."""

import copy
from datetime import date
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

from domain.currencies import MINOR_UNITS

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "INVOICE",
        "number": "Invoice number",
        "issue_date": "Issue date",
        "due_date": "Due date",
        "status": "Status",
        "bill_to": "Bill to",
        "description": "Description",
        "quantity": "Qty",
        "unit_price": "Unit price",
        "tax": "Tax",
        "amount": "Amount",
        "subtotal": "Subtotal",
        "discount": "Discount",
        "net": "Subtotal after discount",
        "tax_total": "Tax",
        "total": "Total",
        "notes": "Notes",
        "terms": "Terms",
        "page": "Page {page} of {pages}",
        "continued": "continued",
        "tax_id": "Tax ID",  # the generic label; the PDF labels a tax id by its country (pdf/tax_labels.py)
        "DRAFT": "Draft",
        "SENT": "Sent",
        "VIEWED": "Viewed",
        "PAID": "Paid",
        "PARTIALLY_PAID": "Partially paid",
        "OVERDUE": "Overdue",
        "VOID": "Void",
        "discount_rate": "Disc.",
        "tax_on": "Tax {rate} on {base}",
        "amount_paid": "Amount paid",
        "balance_due": "Balance due",
        "view_online": "View and download online",
        "void_reason": "Reason",
    },
    "es": {
        "invoice": "FACTURA",
        "number": "Número de factura",
        "issue_date": "Fecha de emisión",
        "due_date": "Fecha de vencimiento",
        "status": "Estado",
        "bill_to": "Facturar a",
        "description": "Descripción",
        "quantity": "Cant.",
        "unit_price": "Precio unitario",
        "tax": "Impuesto",
        "amount": "Importe",
        "subtotal": "Subtotal",
        "discount": "Descuento",
        "net": "Subtotal con descuento",
        "tax_total": "Impuestos",
        "total": "Total",
        "notes": "Notas",
        "terms": "Condiciones",
        "page": "Página {page} de {pages}",
        "continued": "continuación",
        "tax_id": "NIF",
        "DRAFT": "Borrador",
        "SENT": "Enviada",
        "VIEWED": "Vista",
        "PAID": "Pagada",
        "PARTIALLY_PAID": "Pagada parcialmente",
        "OVERDUE": "Vencida",
        "VOID": "Anulada",
        "discount_rate": "Dto.",
        "tax_on": "Impuesto {rate} sobre {base}",
        "amount_paid": "Importe pagado",
        "balance_due": "Saldo pendiente",
        "view_online": "Ver y descargar en línea",
        "void_reason": "Motivo",
    },
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

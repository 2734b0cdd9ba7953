"""A draft's prices before it is saved: the very rules that price a saved invoice
(``domain.money``), so a form's running totals are the totals the invoice will have."""

from dataclasses import dataclass

from domain.errors import ValidationError
from domain.invoice_checks import check_currency, check_lines
from domain.money import LineItem, TaxRateTotal, Totals, price_lines, tax_breakdown
from usecases.inputs import LineInput, line_drafts


@dataclass(frozen=True)
class Quote:
    currency: str
    lines: list[LineItem]
    totals: Totals
    taxes: list[TaxRateTotal]  # the tax of each rate, lowest first


def quote(currency: str, lines: list[LineInput]) -> Quote:
    """Prices lines as ``create`` would, checking them the same way (same messages)."""
    code = check_currency(currency)
    priced, totals = price_lines(check_lines(line_drafts(lines)), code)
    return Quote(code, priced, totals, tax_breakdown(priced, code))


def known_currency(currency: str) -> str | None:
    """The ISO 4217 code ``currency`` names, as ``create`` takes it (``usd `` is USD);
    None when it names none (``quote`` says why)."""
    try:
        return check_currency(currency)
    except ValidationError:
        return None

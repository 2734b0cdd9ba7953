"""Money rules: ISO 4217 minor units, half-up rounding, line and invoice totals.

Every amount is a ``Decimal``. Line amounts are rounded to the currency's minor unit
so that the lines add up to the subtotal a reader sees; tax is summed unrounded per line
and the tax total rounded once, so no rounding error is multiplied by the line count.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Protocol

from domain.currencies import MINOR_UNITS
from domain.errors import ValidationError

# Wide enough that no product of two bounded inputs is ever rounded by the context.
_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP)

MAX_QUANTITY = Decimal("1000000000")
MAX_UNIT_PRICE = Decimal("1000000000000")
MAX_INPUT_DECIMALS = 6
MAX_TAX_DECIMALS = 4
HUNDRED = Decimal(100)


def is_currency(code: str) -> bool:
    return code in MINOR_UNITS


def minor_units(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise ValidationError(f"Unknown currency: {currency}") from None


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Rounds half-up to the currency's minor unit: 2.345 USD -> 2.35, 0.5 JPY -> 1."""
    with localcontext(_CONTEXT):
        return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineItemDraft:
    """A line as the caller sends it, before pricing."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal = Decimal(0)
    discount_rate: Decimal = Decimal(0)


@dataclass(frozen=True)
class LineItem:
    """A priced line: ``amount = quantity x unit_price`` and ``discount = amount x
    discount_rate / 100``, each rounded to the minor unit; tax is due on ``amount - discount``."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    amount: Decimal
    discount_rate: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)

    @property
    def taxable(self) -> Decimal:
        return self.amount - self.discount


@dataclass(frozen=True)
class TaxRateTotal:
    """One row of a tax breakdown: the base taxed at ``rate`` and the tax on it."""

    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax_total: Decimal
    discount_total: Decimal
    total: Decimal


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _significant_decimals(value: Decimal) -> int:
    """Decimal places without trailing zeros, counted exactly (``normalize`` would round long numbers)."""
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0 or value.is_zero():
        return 0
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -exponent - zeros)


def tidy_number(value: Decimal) -> Decimal:
    """Writes ``1E+3`` as ``1000``, ``-0.0`` as ``0.0``, and keeps the scale the caller gave (``125.00``)."""
    if value.is_zero():
        value = value.copy_abs()
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        with localcontext(_CONTEXT):
            return value.quantize(Decimal(1))
    return value


def check_line(line: LineItemDraft, where: str) -> LineItemDraft:
    """Returns the line with tidy numbers, or raises ValidationError naming ``where``
    (the line's attribute path: ``line_items[0]``)."""
    description = line.description.strip()
    if not description:
        raise ValidationError.about("Field '{0}' must not be empty", f"{where}.description")
    if len(description) > 1000:
        raise ValidationError.about("Field '{0}' must be at most 1000 characters", f"{where}.description")
    numbers = {
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "tax_rate": line.tax_rate,
        "discount_rate": line.discount_rate,
    }
    for name, value in numbers.items():
        if not value.is_finite():
            raise ValidationError.about("Field '{0}' must be a finite number", f"{where}.{name}")
    if not Decimal(0) < line.quantity <= MAX_QUANTITY:
        raise ValidationError.about(
            f"Field '{{0}}' must be greater than 0 and at most {MAX_QUANTITY}", f"{where}.quantity"
        )
    if not Decimal(0) <= line.unit_price <= MAX_UNIT_PRICE:
        raise ValidationError.about(f"Field '{{0}}' must be between 0 and {MAX_UNIT_PRICE}", f"{where}.unit_price")
    if not Decimal(0) <= line.tax_rate <= HUNDRED:
        raise ValidationError.about("Field '{0}' must be a percentage between 0 and 100", f"{where}.tax_rate")
    if not Decimal(0) <= line.discount_rate <= HUNDRED:
        raise ValidationError.about("Field '{0}' must be a percentage between 0 and 100", f"{where}.discount_rate")
    for name, value, most in (
        ("quantity", line.quantity, MAX_INPUT_DECIMALS),
        ("unit_price", line.unit_price, MAX_INPUT_DECIMALS),
        ("tax_rate", line.tax_rate, MAX_TAX_DECIMALS),
        ("discount_rate", line.discount_rate, MAX_TAX_DECIMALS),
    ):
        if _decimals(value) > most:
            raise ValidationError.about(f"Field '{{0}}' must have at most {most} decimal places", f"{where}.{name}")
    return LineItemDraft(
        description=description,
        quantity=tidy_number(line.quantity),
        unit_price=tidy_number(line.unit_price),
        tax_rate=tidy_number(line.tax_rate),
        discount_rate=tidy_number(line.discount_rate),
    )


def price_lines(drafts: Sequence[LineItemDraft], currency: str) -> tuple[list[LineItem], Totals]:
    """Prices checked lines in ``currency``; ``total = subtotal - discount + tax``."""
    lines: list[LineItem] = []
    unrounded_tax = Decimal(0)
    with localcontext(_CONTEXT):
        for draft in drafts:
            amount = round_money(draft.quantity * draft.unit_price, currency)
            discount = round_money(amount * draft.discount_rate / HUNDRED, currency)
            unrounded_tax += (amount - discount) * draft.tax_rate / HUNDRED
            lines.append(
                LineItem(
                    draft.description,
                    draft.quantity,
                    draft.unit_price,
                    draft.tax_rate,
                    amount,
                    draft.discount_rate,
                    discount,
                )
            )
        subtotal = round_money(sum((line.amount for line in lines), Decimal(0)), currency)
        tax_total = round_money(unrounded_tax, currency)
        discount_total = round_money(sum((line.discount for line in lines), Decimal(0)), currency)
        total = subtotal - discount_total + tax_total
    return lines, Totals(subtotal, tax_total, discount_total, total)


class TaxedLine(Protocol):
    """What a tax breakdown needs of a line: a priced line, or a read model's view of one."""

    @property
    def tax_rate(self) -> Decimal: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def discount(self) -> Decimal: ...


def tax_breakdown(lines: Sequence[TaxedLine], currency: str) -> list[TaxRateTotal]:
    """The taxable base and the tax of each rate, as EU invoices show them, lowest rate
    first (rates written plainly: 10, not 1E+1).

    Each rate's tax is its exact tax rounded, except that the rows must add up to the
    invoice's tax total (the exact tax of all lines, rounded once): rounding each row on
    its own can miss it by a minor unit or more (0.005 + 0.015 -> 0.01 + 0.02 = 0.03, yet
    0.020 -> 0.02). The minor units missing or in excess go to the rows whose rounding
    moved them furthest the other way (largest remainder), so no row is off by more
    than one minor unit of its exact tax."""
    bases: dict[Decimal, Decimal] = {}
    with localcontext(_CONTEXT):
        for line in lines:
            rate = tidy_number(line.tax_rate.normalize()) if line.tax_rate else Decimal(0)
            bases[rate] = bases.get(rate, Decimal(0)) + line.amount - line.discount
        rates = sorted(bases)
        exact = {rate: bases[rate] * rate / HUNDRED for rate in rates}
        taxes = {rate: round_money(exact[rate], currency) for rate in rates}
        unit = Decimal(1).scaleb(-minor_units(currency))
        target = round_money(sum(exact.values(), Decimal(0)), currency)
        missing = int((target - sum(taxes.values(), Decimal(0))) / unit)
        if missing:
            step = unit if missing > 0 else -unit
            # rows rounded down the most first when units are missing, rounded up the most when in excess
            order = sorted(rates, key=lambda rate: (exact[rate] - taxes[rate]) * step, reverse=True)
            for rate in order[: abs(missing)]:
                taxes[rate] += step
        return [TaxRateTotal(rate, round_money(bases[rate], currency), taxes[rate]) for rate in rates]


def check_payment_amount(amount: Decimal, currency: str, balance: Decimal) -> Decimal:
    """A payment: more than zero, in the currency's minor units, at most what is due.

    Trailing zeros are no extra precision: 100.0 JPY is 100 yen and 12.500 USD is 12.50."""
    if not amount.is_finite() or amount <= 0:
        raise ValidationError.about("Field '{0}' must be greater than 0", "amount")
    places = minor_units(currency)
    if _significant_decimals(amount) > places:
        raise ValidationError.about(f"Field '{{0}}' must have at most {places} decimal places in {currency}", "amount")
    if amount > balance:
        raise ValidationError.about(f"Field '{{0}}' must be at most the balance due ({balance} {currency})", "amount")
    return round_money(amount, currency)

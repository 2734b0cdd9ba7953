"""Money rules: exact decimals, ISO 4217 minor units, half-up rounding, totals that add up."""

import math
import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.currencies import MINOR_UNITS
from domain.errors import ValidationError
from domain.money import (
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    LineItemDraft,
    check_line,
    price_lines,
    round_money,
)

CURRENCIES = sorted(MINOR_UNITS)


def scaled(low: int, high: int, most_places: int) -> st.SearchStrategy[Decimal]:
    """Decimals in [low, high] written with 0..most_places decimal places (as a client sends them)."""
    return st.integers(0, most_places).flatmap(
        lambda places: st.integers(low * 10**places, high * 10**places).map(lambda n: Decimal(n).scaleb(-places))
    )


quantities = scaled(0, int(MAX_QUANTITY), 6).filter(lambda q: q > 0)
unit_prices = scaled(0, int(MAX_UNIT_PRICE), 6)
tax_rates = scaled(0, 100, 4)
drafts = st.builds(LineItemDraft, st.just("Item"), quantities, unit_prices, tax_rates)
invoices = st.tuples(st.lists(drafts, min_size=1, max_size=8), st.sampled_from(CURRENCIES))


def half_up(value: Fraction, digits: int) -> Fraction:
    """Reference rounding, by exact fractions: half away from zero to `digits` places."""
    step = Fraction(1, 10**digits)
    units = math.floor(abs(value) / step + Fraction(1, 2))
    return units * step if value >= 0 else -units * step


def exponent(value: Decimal) -> int:
    return int(value.as_tuple().exponent)


@settings(max_examples=200)
@given(invoices)
def test_total_is_subtotal_minus_discount_plus_tax(invoice):
    lines, currency = invoice
    _, totals = price_lines([check_line(line, "l") for line in lines], currency)
    assert totals.total == totals.subtotal - totals.discount_total + totals.tax_total


@settings(max_examples=200)
@given(invoices)
def test_line_amounts_add_up_to_the_subtotal(invoice):
    lines, currency = invoice
    priced, totals = price_lines([check_line(line, "l") for line in lines], currency)
    assert sum((line.amount for line in priced), Decimal(0)) == totals.subtotal


@settings(max_examples=200)
@given(invoices)
def test_each_amount_is_quantity_times_unit_price_rounded_half_up(invoice):
    lines, currency = invoice
    priced, _ = price_lines([check_line(line, "l") for line in lines], currency)
    digits = MINOR_UNITS[currency]
    for line in priced:
        exact = Fraction(line.quantity) * Fraction(line.unit_price)
        assert Fraction(line.amount) == half_up(exact, digits)


@settings(max_examples=200)
@given(invoices)
def test_tax_total_is_the_exact_tax_of_the_lines_rounded_once(invoice):
    lines, currency = invoice
    priced, totals = price_lines([check_line(line, "l") for line in lines], currency)
    exact_tax = sum(Fraction(line.amount) * Fraction(line.tax_rate) / 100 for line in priced)
    assert Fraction(totals.tax_total) == half_up(exact_tax, MINOR_UNITS[currency])


@settings(max_examples=200)
@given(invoices)
def test_amounts_and_totals_carry_exactly_the_currency_minor_unit(invoice):
    lines, currency = invoice
    priced, totals = price_lines([check_line(line, "l") for line in lines], currency)
    digits = MINOR_UNITS[currency]
    values = [line.amount for line in priced]
    values += [totals.subtotal, totals.tax_total, totals.discount_total, totals.total]
    assert all(exponent(value) == -digits for value in values), values
    assert all(value >= 0 and not value.is_signed() for value in values), values


@settings(max_examples=200)
@given(invoices, st.randoms(use_true_random=False))
def test_line_order_does_not_change_the_totals(invoice, rng: random.Random):
    lines, currency = invoice
    shuffled = list(lines)
    rng.shuffle(shuffled)
    _, first = price_lines([check_line(line, "l") for line in lines], currency)
    _, second = price_lines([check_line(line, "l") for line in shuffled], currency)
    assert first == second


@settings(max_examples=200)
@given(
    st.decimals(min_value=-(10**15), max_value=10**15, places=8, allow_nan=False, allow_infinity=False),
    st.sampled_from(CURRENCIES),
)
def test_round_money_is_half_up_to_the_minor_unit(amount, currency):
    digits = MINOR_UNITS[currency]
    rounded = round_money(amount, currency)
    assert Fraction(rounded) == half_up(Fraction(amount), digits)
    assert exponent(rounded) == -digits


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.345", "USD", "2.35"),
        ("2.344", "USD", "2.34"),
        ("0.5", "JPY", "1"),
        ("2.5", "JPY", "3"),  # half-up, not half-even
        ("1.0005", "KWD", "1.001"),
        ("1.2345", "KWD", "1.235"),
        ("0.00005", "CLF", "0.0001"),
        ("7", "EUR", "7.00"),
    ],
)
def test_round_money_examples(amount, currency, expected):
    assert str(round_money(Decimal(amount), currency)) == expected


@pytest.mark.parametrize("currency", ["usd", "XXX", "", "EURO"])
def test_unknown_currency_is_refused(currency):
    with pytest.raises(ValidationError):
        round_money(Decimal(1), currency)


def test_the_reference_example_totals_5500():
    _, totals = price_lines([check_line(LineItemDraft("Web", Decimal(40), Decimal("125.00"), Decimal(10)), "l")], "USD")
    assert (str(totals.subtotal), str(totals.tax_total), str(totals.discount_total), str(totals.total)) == (
        "5000.00",
        "500.00",
        "0.00",
        "5500.00",
    )


def test_decimal_arithmetic_has_no_binary_float_error():
    lines = [LineItemDraft("a", Decimal(1), Decimal("0.1")), LineItemDraft("b", Decimal(1), Decimal("0.2"))]
    _, totals = price_lines(lines, "USD")
    assert str(totals.total) == "0.30"


def test_tax_is_rounded_once_for_the_invoice_not_per_line():
    # Three lines of 0.01 at 50% tax: 0.005 each, 0.015 in all -> 0.02 (per line it would be 0.03).
    lines = [LineItemDraft(str(i), Decimal(1), Decimal("0.01"), Decimal(50)) for i in range(3)]
    _, totals = price_lines(lines, "USD")
    assert str(totals.tax_total) == "0.02"


def test_checked_line_keeps_the_scale_sent_and_writes_exponents_out():
    checked = check_line(LineItemDraft("  Web  ", Decimal("1E+3"), Decimal("125.00"), Decimal("7.5")), "l")
    assert (checked.description, str(checked.quantity), str(checked.unit_price), str(checked.tax_rate)) == (
        "Web",
        "1000",
        "125.00",
        "7.5",
    )


def test_negative_zero_prices_are_written_as_plain_zero():
    checked = check_line(LineItemDraft("Free", Decimal(1), Decimal("-0"), Decimal("-0.0")), "l")
    priced, totals = price_lines([checked], "USD")
    assert (str(checked.unit_price), str(checked.tax_rate), str(priced[0].amount)) == ("0", "0.0", "0.00")
    assert str(totals.total) == "0.00"


@pytest.mark.parametrize(
    ("description", "quantity", "unit_price", "tax_rate"),
    [
        ("", "1", "1", "0"),
        ("   ", "1", "1", "0"),
        ("x" * 1001, "1", "1", "0"),
        ("x", "0", "1", "0"),
        ("x", "-1", "1", "0"),
        ("x", "1000000000.000001", "1", "0"),
        ("x", "0.0000001", "1", "0"),
        ("x", "1", "-0.01", "0"),
        ("x", "1", "1000000000000.01", "0"),
        ("x", "1", "0.0000001", "0"),
        ("x", "1", "1", "-1"),
        ("x", "1", "1", "100.0001"),
        ("x", "1", "1", "0.00001"),
        ("x", "NaN", "1", "0"),
        ("x", "1", "Infinity", "0"),
        ("x", "1", "1", "-Infinity"),
        ("x", "1", "sNaN", "0"),
    ],
)
def test_line_outside_the_rules_is_refused(description, quantity, unit_price, tax_rate):
    with pytest.raises(ValidationError):
        check_line(LineItemDraft(description, Decimal(quantity), Decimal(unit_price), Decimal(tax_rate)), "l")


def test_largest_allowed_line_is_priced_exactly():
    checked = check_line(LineItemDraft("Big", MAX_QUANTITY, MAX_UNIT_PRICE, Decimal(100)), "l")
    priced, totals = price_lines([checked] * 500, "KWD")
    assert priced[0].amount == MAX_QUANTITY * MAX_UNIT_PRICE
    assert totals.total == 2 * 500 * MAX_QUANTITY * MAX_UNIT_PRICE

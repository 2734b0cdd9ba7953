"""The domain names fields by attribute; the doors by wire name, through one table
(``usecases.wire_names``), so a refusal reads the same on the wire as before."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from domain.errors import ValidationError
from domain.invoice import EDITABLE
from domain.invoice_checks import check_currency, check_dates, check_lines, check_text
from domain.money import LineItemDraft
from usecases.inputs import INVOICE_WIRE
from usecases.wire import attribute
from usecases.wire_names import wire_field, wire_message, wire_name, wire_path


def refusal(check: Callable[[], object]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check()
    return caught.value


def test_a_refusal_names_attributes_and_the_wire_names_them_its_way() -> None:
    error = refusal(lambda: check_dates(date(2024, 6, 2), date(2024, 6, 1)))
    assert (error.message, error.field) == ("Field 'due_date' must be on or after 'issue_date'", "due_date")
    assert (wire_message(error), wire_field(error)) == ("Field 'dueDate' must be on or after 'issueDate'", "dueDate")


def test_a_line_is_named_by_its_path() -> None:
    line = LineItemDraft("x", quantity=Decimal(1), unit_price=Decimal(-1))
    error = refusal(lambda: check_lines([line]))
    assert error.field == "line_items[0].unit_price"
    assert wire_message(error) == "Field 'lineItems[0].unitPrice' must be between 0 and 1000000000000"
    assert wire_field(error) == "lineItems[0].unitPrice"


def test_a_value_quoted_in_a_message_is_never_renamed() -> None:
    error = refusal(lambda: check_currency("due_date"))
    assert wire_message(error) == "Field 'currency' must be an ISO 4217 currency code, not 'due_date'"


def test_wire_names_are_left_as_they_are() -> None:
    assert wire_path("lineItems[3].unitPrice") == "lineItems[3].unitPrice"
    assert wire_path("line_items[3].unit_price") == "lineItems[3].unitPrice"
    assert (wire_name("tax_id"), wire_name("notes"), wire_name("taxId")) == ("taxId", "notes", "taxId")
    assert wire_message(ValidationError("Field 'clientId' must be a string")) == "Field 'clientId' must be a string"


def test_the_editable_fields_are_attributes_and_each_has_one_wire_name() -> None:
    assert sorted(INVOICE_WIRE.values()) == sorted(EDITABLE)
    assert INVOICE_WIRE["dueDate"] == "due_date" and INVOICE_WIRE["notes"] == "notes"
    assert all(attribute(wire) == name for wire, name in INVOICE_WIRE.items())  # one rule, both ways


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a\x00", "Field 'reason' must not contain NUL characters"),
        ("\ud800", "Field 'reason' is not valid Unicode text"),
        ("x" * 5001, "Field 'reason' must be at most 5000 characters"),
    ],
)
def test_free_text_is_checked_once_in_the_domain(value: str, message: str) -> None:
    assert refusal(lambda: check_text(value, "reason")).message == message

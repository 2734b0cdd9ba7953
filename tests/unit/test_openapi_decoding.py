"""Request bodies decoded by the contract's Structs: refusals in the contract's words, exact
numbers at the scale sent, read-only fields accepted and ignored, fields left out kept apart
from fields sent as null."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import simplejson
from msgspec import UNSET

from gateway.http.problems import BadRequest
from gateway.rest.contract import requests as q
from gateway.rest.contract.decoding import decode

LINE = {"description": "Work", "quantity": Decimal(1), "unitPrice": Decimal(1)}  # numbers as jsonio reads them
INVOICE = {"clientId": "6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11", "lineItems": [LINE]}


DATE = "must be a date as YYYY-MM-DD"


def lines(*items: dict[str, Any]) -> dict[str, Any]:
    return {**INVOICE, "lineItems": list(items)}


def parsed(text: str) -> dict[str, Any]:
    """As gateway.http.jsonio reads a body: every number a Decimal, exactly as written."""
    value: dict[str, Any] = simplejson.loads(text, parse_float=Decimal, parse_int=Decimal)
    return value


def refusal(body: dict[str, Any], kind: type) -> str:
    with pytest.raises(BadRequest) as raised:
        decode(body, kind)
    return raised.value.message


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        (q.ClientCreate, {}, "Missing required field: name"),
        (q.ClientCreate, {"name": None}, "Missing required field: name"),
        (q.ClientCreate, {"name": "x", "bogus": 1}, "Unknown field: bogus"),
        (q.ClientCreate, {"name": "x", "\ud800": 1}, "Unknown field: ?"),
        (q.ClientCreate, {"name": 5}, "Field 'name' must be a string"),
        (q.ClientCreate, {"name": "x", "email": 5}, "Field 'email' must be a string or null"),
        (q.ClientCreate, {"name": "x" * 256}, "Field 'name' must be at most 255 characters"),
        (
            q.ClientCreate,
            {"name": "x", "isActive": False},
            "Field 'isActive' cannot be set on create: a new client is active; deactivate it with DELETE",
        ),
        (q.ClientUpdate, {"isActive": "yes"}, "Field 'isActive' must be true or false"),
        (q.InvoiceCreate, {"lineItems": [LINE]}, "Missing required field: clientId"),
        (q.InvoiceCreate, {**INVOICE, "lineItems": "x"}, "Field 'lineItems' must be an array of line items"),
        (q.InvoiceCreate, {**INVOICE, "lineItems": [1]}, "Field 'lineItems[0]' must be an object"),
        (q.InvoiceCreate, lines(LINE, {**LINE, "bad": 1}), "Unknown field: lineItems[1].bad"),
        (q.InvoiceCreate, lines({"quantity": Decimal(1)}), "Missing required field: lineItems[0].description"),
        (q.InvoiceCreate, lines({**LINE, "quantity": "1e5"}), "Field 'lineItems[0].quantity' must be a number"),
        (q.InvoiceCreate, lines({**LINE, "quantity": True}), "Field 'lineItems[0].quantity' must be a number"),
        (q.InvoiceCreate, lines(*[LINE] * 501), "Field 'lineItems' must hold at most 500 line items"),
        (q.InvoiceCreate, {**INVOICE, "issueDate": "2024-02-30"}, f"Field 'issueDate' {DATE} or null"),
        (q.InvoiceUpdate, {"issueDate": None}, f"Field 'issueDate' {DATE}"),
        (q.InvoiceUpdate, {"invoiceNumber": None}, "Field 'invoiceNumber' must be a string"),
        (q.SendInput, {"email": None}, "Field 'email' must be true or false"),
        (q.SendInput, {"to": ["a@b.test", 1]}, "Field 'to' must be an array of email addresses or null"),
        (q.SendInput, {"to": ["a@b.test"] * 21}, "Field 'to' must hold at most 20 addresses"),
        (q.PaymentCreate, {"amount": None}, "Missing required field: amount"),
        (q.PaymentCreate, {"amount": Decimal(1), "method": "x" * 256}, "Field 'method' must be at most 255 characters"),
        (q.VoidInput, {"reason": ["x"]}, "Field 'reason' must be a string or null"),
    ],
)  # fmt: skip
def test_refusals_are_in_the_contracts_words(kind: type, body: dict[str, Any], message: str) -> None:
    assert refusal(body, kind) == message


def test_numbers_keep_the_scale_sent_as_numbers_or_digits() -> None:
    body = parsed('{"clientId": "x", "lineItems": [{"description": "a", "quantity": 40, "unitPrice": 125.00,'
                  ' "taxRate": "7.50", "discountRate": "0"}]}')  # fmt: skip
    line = decode(body, q.InvoiceCreate).line_items[0].line()
    assert [str(value) for value in (line.quantity, line.unit_price, line.tax_rate, line.discount_rate)] == [
        "40",
        "125.00",
        "7.50",
        "0",
    ]


def test_read_only_fields_are_taken_and_ignored_and_left_out_is_not_null() -> None:
    sent_back = {"id": "x", "createdAt": "t", "updatedAt": None, "name": "Acme", "email": None, "isActive": True}
    fields = decode(sent_back, q.ClientCreate).fields()
    assert dict(fields.values) == {"name": "Acme", "email": None}
    update = decode(
        {"notes": None, "status": "DRAFT", "total": 5, "lineItems": [{**LINE, "amount": 9}]}, q.InvoiceUpdate
    )
    assert update.status == "DRAFT"
    changes = update.changes().values
    assert set(changes) == {"notes", "lineItems"} and changes["notes"] is None
    assert decode({}, q.InvoiceUpdate).invoice_number is UNSET
    paid = decode({"date": "2024-06-15", "amount": "10.50"}, q.PaymentCreate).input()
    assert (paid.paid_on, str(paid.amount)) == (date(2024, 6, 15), "10.50")

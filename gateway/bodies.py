"""Request bodies into the use cases' typed inputs: JSON types checked here, everything
else in ``usecases.inputs`` and the domain, so GraphQL's inputs meet the same checks.

Unknown fields are refused (a typo must not be silently dropped); fields that the API
itself returns and nobody can set (``id``, ``createdAt``, totals...) are ignored, so a
client may send back what it read.
"""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from domain.invoice import Sending
from gateway.problems import BadRequest
from usecases import inputs, wire
from usecases.inputs import ClientFields, InvoiceChanges, InvoiceInput, LineInput, PaymentInput

CLIENT_READ_ONLY = {"id", "createdAt", "updatedAt"}

INVOICE_READ_ONLY = {
    "id",
    "status",
    "subtotal",
    "taxTotal",
    "discountTotal",
    "total",
    "createdAt",
    "updatedAt",
    "client",
    "sentViaEmail",
    "sentAt",
    "paidAt",
    "amountPaid",
    "balanceDue",
    "viewedAt",
    "overdueAt",
    "voidedAt",
    "voidReason",
    "shareUrl",
    "emailStatus",
    "emailError",
    "pdfWarnings",
}
LINE_FIELDS = {"description", "quantity", "unitPrice", "taxRate", "discountRate"}
LINE_READ_ONLY = {"amount", "discount"}


def _safe(name: str) -> str:
    return name.encode("utf-8", "replace").decode("utf-8")[:64]


def _refuse_unknown(body: Mapping[str, Any], known: set[str], where: str = "") -> None:
    for name in body:
        if name not in known:
            raise BadRequest(f"Unknown field: {where}{_safe(name)}")


def _string(value: Any, name: str, *, nullable: bool = True) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"Field '{name}' must be a string" + (" or null" if nullable else ""))
    return value


def _required_string(value: Any, name: str) -> str:
    text = _string(value, name, nullable=False)
    assert text is not None
    return text


def _number(value: Any, name: str) -> Decimal:
    found = value if isinstance(value, Decimal) else wire.number_text(value)
    if found is None:
        raise BadRequest(f"Field '{name}' must be a number")
    return found


def _date(value: Any, name: str) -> date:
    found = wire.day(value)
    if found is None:
        raise BadRequest(f"Field '{name}' must be a date as YYYY-MM-DD")
    return found


def client_fields(body: Mapping[str, Any], *, creating: bool) -> ClientFields:
    """The client fields sent; on update ``isActive`` too."""
    _refuse_unknown(body, set(inputs.CLIENT_WIRE) | CLIENT_READ_ONLY | {"isActive"})
    values = {wire: _string(body[wire], wire) for wire in inputs.CLIENT_WIRE if wire in body}
    is_active = None
    if creating and "isActive" in body and body["isActive"] is not True:  # true is what it reads back
        raise BadRequest("Field 'isActive' cannot be set on create: a new client is active; deactivate it with DELETE")
    if not creating and "isActive" in body:
        if not isinstance(body["isActive"], bool):
            raise BadRequest("Field 'isActive' must be true or false")
        is_active = body["isActive"]
    return ClientFields(values, is_active)


def _lines(value: Any) -> list[LineInput]:
    if not isinstance(value, list):
        raise BadRequest("Field 'lineItems' must be an array of line items")
    lines = []
    for i, item in enumerate(value):
        where = f"lineItems[{i}]"
        if not isinstance(item, dict):
            raise BadRequest(f"Field '{where}' must be an object")
        _refuse_unknown(item, LINE_FIELDS | LINE_READ_ONLY, f"{where}.")
        for required in ("description", "quantity", "unitPrice"):
            if item.get(required) is None:
                raise BadRequest(f"Missing required field: {where}.{required}")
        tax, discount = item.get("taxRate"), item.get("discountRate")
        lines.append(
            LineInput(
                description=_required_string(item["description"], f"{where}.description"),
                quantity=_number(item["quantity"], f"{where}.quantity"),
                unit_price=_number(item["unitPrice"], f"{where}.unitPrice"),
                tax_rate=None if tax is None else _number(tax, f"{where}.taxRate"),
                discount_rate=None if discount is None else _number(discount, f"{where}.discountRate"),
            )
        )
    return lines


INVOICE_FIELDS = {"clientId", "invoiceNumber", "currency", "issueDate", "dueDate", "lineItems", "notes", "terms"}


def invoice_input(body: Mapping[str, Any]) -> InvoiceInput:
    _refuse_unknown(body, INVOICE_FIELDS | INVOICE_READ_ONLY)
    for required in ("clientId", "lineItems"):
        if body.get(required) is None:
            raise BadRequest(f"Missing required field: {required}")
    return InvoiceInput(
        client_id=inputs.client_ref(_required_string(body["clientId"], "clientId")),
        line_items=_lines(body["lineItems"]),
        invoice_number=_string(body.get("invoiceNumber"), "invoiceNumber"),
        currency=_string(body.get("currency"), "currency"),
        issue_date=None if body.get("issueDate") is None else _date(body["issueDate"], "issueDate"),
        due_date=None if body.get("dueDate") is None else _date(body["dueDate"], "dueDate"),
        notes=_string(body.get("notes"), "notes"),
        terms=_string(body.get("terms"), "terms"),
    )


def invoice_changes(body: Mapping[str, Any]) -> InvoiceChanges:
    """The fields sent, typed; only those."""
    _refuse_unknown(body, INVOICE_FIELDS | INVOICE_READ_ONLY)
    given: dict[str, Any] = {}
    if "clientId" in body:
        given["clientId"] = inputs.client_ref(_required_string(body["clientId"], "clientId"))
    for name in ("invoiceNumber", "currency"):
        if name in body:
            given[name] = _required_string(body[name], name)
    for name in ("issueDate", "dueDate"):
        if name in body:
            given[name] = _date(body[name], name)
    if "lineItems" in body:
        given["lineItems"] = _lines(body["lineItems"])
    for name in ("notes", "terms"):
        if name in body:
            given[name] = _string(body[name], name)
    return InvoiceChanges(given)


# --- the invoice's life ----------------------------------------------------------------

SEND_FIELDS = {"email", "to", "cc", "message"}
PAYMENT_FIELDS = {"amount", "date", "method", "reference"}
VOID_FIELDS = {"reason"}


def _addresses(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(f"Field '{name}' must be an array of email addresses")
    return tuple(value)


def sending(body: Mapping[str, Any]) -> Sending:
    """``{"email": bool, "to": [...], "cc": [...], "message": "..."}``; every field optional."""
    _refuse_unknown(body, SEND_FIELDS)
    email = body.get("email", False)
    if not isinstance(email, bool):
        raise BadRequest("Field 'email' must be true or false")
    to, cc = _addresses(body.get("to"), "to"), _addresses(body.get("cc"), "cc")
    return inputs.sending(email, to, cc, _string(body.get("message"), "message"))


def payment(body: Mapping[str, Any]) -> PaymentInput:
    """``{"amount", "date"?, "method"?, "reference"?}``."""
    _refuse_unknown(body, PAYMENT_FIELDS)
    if body.get("amount") is None:
        raise BadRequest("Missing required field: amount")
    return PaymentInput(
        amount=_number(body["amount"], "amount"),
        paid_on=None if body.get("date") is None else _date(body["date"], "date"),
        method=_string(body.get("method"), "method"),
        reference=_string(body.get("reference"), "reference"),
    )


def void_reason(body: Mapping[str, Any]) -> str | None:
    _refuse_unknown(body, VOID_FIELDS)
    return _string(body.get("reason"), "reason")

"""Request bodies into command values: JSON types checked here, business rules in the domain.

Unknown fields are refused (a typo must not be silently dropped); fields that the API
itself returns and nobody can set (``id``, ``createdAt``, totals...) are ignored, so a
client may send back what it read.
"""

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from domain.invoice import InvoiceDraft, Sending
from domain.money import LineItemDraft
from gateway.problems import BadRequest

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER_TEXT = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")

CLIENT_FIELDS = {
    "name": "name",
    "email": "email",
    "address": "address",
    "taxId": "tax_id",
    "phone": "phone",
    "notes": "notes",
}
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
    if "\x00" in value:
        raise BadRequest(f"Field '{name}' must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"Field '{name}' is not valid Unicode text") from None
    return value


def _required_string(value: Any, name: str) -> str:
    text = _string(value, name, nullable=False)
    assert text is not None
    return text


def _number(value: Any, name: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            pass
    raise BadRequest(f"Field '{name}' must be a number")


def _date(value: Any, name: str) -> date:
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise BadRequest(f"Field '{name}' must be a date as YYYY-MM-DD")


def _client_ref(value: Any) -> UUID:
    text = _required_string(value, "clientId")
    try:
        return UUID(text)
    except ValueError:
        raise BadRequest("Field 'clientId' must name an active client of this account") from None


def client_values(body: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Client fields keyed by domain name; on update ``isActive`` becomes ``is_active``."""
    settable = set(CLIENT_FIELDS) | ({"isActive"} if not creating else set())
    _refuse_unknown(body, settable | CLIENT_READ_ONLY | {"isActive"})
    values: dict[str, Any] = {}
    for wire, field in CLIENT_FIELDS.items():
        if wire in body:
            values[field] = _string(body[wire], wire)
    if not creating and "isActive" in body:
        if not isinstance(body["isActive"], bool):
            raise BadRequest("Field 'isActive' must be true or false")
        values["is_active"] = body["isActive"]
    return values


def _lines(value: Any) -> list[LineItemDraft]:
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
        tax = item.get("taxRate")
        discount = item.get("discountRate")
        lines.append(
            LineItemDraft(
                description=_required_string(item["description"], f"{where}.description"),
                quantity=_number(item["quantity"], f"{where}.quantity"),
                unit_price=_number(item["unitPrice"], f"{where}.unitPrice"),
                tax_rate=Decimal(0) if tax is None else _number(tax, f"{where}.taxRate"),
                discount_rate=Decimal(0) if discount is None else _number(discount, f"{where}.discountRate"),
            )
        )
    return lines


INVOICE_FIELDS = {"clientId", "invoiceNumber", "currency", "issueDate", "dueDate", "lineItems", "notes", "terms"}


def invoice_draft(body: Mapping[str, Any]) -> InvoiceDraft:
    _refuse_unknown(body, INVOICE_FIELDS | INVOICE_READ_ONLY)
    for required in ("clientId", "lineItems"):
        if body.get(required) is None:
            raise BadRequest(f"Missing required field: {required}")
    currency = _string(body.get("currency"), "currency")
    return InvoiceDraft(
        client_id=_client_ref(body["clientId"]),
        line_items=_lines(body["lineItems"]),
        invoice_number=_string(body.get("invoiceNumber"), "invoiceNumber"),
        currency=currency if currency is not None else "USD",
        issue_date=None if body.get("issueDate") is None else _date(body["issueDate"], "issueDate"),
        due_date=None if body.get("dueDate") is None else _date(body["dueDate"], "dueDate"),
        notes=_string(body.get("notes"), "notes"),
        terms=_string(body.get("terms"), "terms"),
    )


def invoice_changes(body: Mapping[str, Any]) -> dict[str, Any]:
    """Changes keyed as ``domain.invoice.EDITABLE``; only the fields sent."""
    _refuse_unknown(body, INVOICE_FIELDS | INVOICE_READ_ONLY)
    changes: dict[str, Any] = {}
    if "clientId" in body:
        changes["client_id"] = _client_ref(body["clientId"])
    if "invoiceNumber" in body:
        changes["invoice_number"] = _required_string(body["invoiceNumber"], "invoiceNumber")
    if "currency" in body:
        changes["currency"] = _required_string(body["currency"], "currency")
    for wire, field in (("issueDate", "issue_date"), ("dueDate", "due_date")):
        if wire in body:
            changes[field] = _date(body[wire], wire)
    if "lineItems" in body:
        changes["line_items"] = _lines(body["lineItems"])
    for name in ("notes", "terms"):
        if name in body:
            changes[name] = _string(body[name], name)
    return changes


# --- the invoice's life ----------------------------------------------------------------

SEND_FIELDS = {"email", "to", "cc", "message"}
PAYMENT_FIELDS = {"amount", "date", "method", "reference"}
VOID_FIELDS = {"reason"}


def _addresses(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(f"Field '{name}' must be an array of email addresses")
    if len(value) > 20:
        raise BadRequest(f"Field '{name}' must hold at most 20 addresses")
    return tuple(_required_string(item, name).strip() for item in value)


def sending(body: Mapping[str, Any]) -> Sending:
    """``{"email": bool, "to": [...], "cc": [...], "message": "..."}``; every field optional."""
    _refuse_unknown(body, SEND_FIELDS)
    email = body.get("email", False)
    if not isinstance(email, bool):
        raise BadRequest("Field 'email' must be true or false")
    to, cc = _addresses(body.get("to"), "to"), _addresses(body.get("cc"), "cc")
    if (to or cc) and not email:
        raise BadRequest("Fields 'to' and 'cc' need \"email\": true")
    return Sending(email=email, to=to, cc=cc, message=_string(body.get("message"), "message"))


def payment(body: Mapping[str, Any]) -> dict[str, Any]:
    """``{"amount", "date"?, "method"?, "reference"?}`` as ``record_payment`` arguments."""
    _refuse_unknown(body, PAYMENT_FIELDS)
    if body.get("amount") is None:
        raise BadRequest("Missing required field: amount")
    return {
        "amount": _number(body["amount"], "amount"),
        "paid_on": None if body.get("date") is None else _date(body["date"], "date"),
        "method": _string(body.get("method"), "method"),
        "reference": _string(body.get("reference"), "reference"),
    }


def void_reason(body: Mapping[str, Any]) -> str | None:
    _refuse_unknown(body, VOID_FIELDS)
    return _string(body.get("reason"), "reason")

"""What a client sends, declared once: the OpenAPI document's request schemas, and what
``decoding`` checks a body against. Each body turns into the use cases' typed input
(``usecases.inputs``, which GraphQL's arguments become too).

A field left out is ``UNSET``: on an update it stays as it is, while ``null`` clears it.
Fields the API returns and nobody sets (``id``, ``createdAt``, totals...) are declared
read-only: a client may send back what it read, and they are ignored.
"""

import dataclasses
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType, inspect

from domain.invoice import Sending
from domain.lifecycle import STATUSES
from gateway.rest.contract import fields as f
from usecases import inputs
from usecases.inputs import ClientFields, InvoiceChanges, InvoiceInput, LineInput, PaymentInput

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class Body(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """A request body: camelCase on the wire, unknown fields refused."""

    def sent(self) -> dict[str, Any]:
        """The fields the client sent (by wire name), read-only ones left out."""
        ignored = read_only_fields(type(self))
        return {
            field.encode_name: getattr(self, field.name)
            for field in msgspec.structs.fields(self)
            if getattr(self, field.name) is not UNSET and field.encode_name not in ignored
        }


@cache
def read_only_fields(kind: type[msgspec.Struct]) -> frozenset[str]:
    """The wire names of ``kind``'s read-only fields."""
    info = inspect.type_info(kind)
    assert isinstance(info, inspect.StructType)
    return frozenset(
        field.encode_name
        for field in info.fields
        if isinstance(field.type, inspect.Metadata) and (field.type.extra_json_schema or {}).get("readOnly")
    )


def _values(body: Body, into: type["DataclassInstance"]) -> dict[str, Any]:
    """``body``'s fields that ``into`` (a use case's input) has, by attribute name; None
    where left out."""
    given = {found.name: getattr(body, found.name) for found in dataclasses.fields(into)}
    return {name: None if value is UNSET else value for name, value in given.items()}


# --- clients ---------------------------------------------------------------------------------

NewClientActive = Annotated[
    Literal[True],
    Meta(
        description="A new client is active (true is what it reads back); deactivate it with DELETE.",
        extra={"message": "cannot be set on create: a new client is active; deactivate it with DELETE"},
    ),
]


class _ClientReadOnly(Body, kw_only=True):
    id: f.ReadOnly = UNSET
    created_at: f.ReadOnly = UNSET
    updated_at: f.ReadOnly = UNSET


class ClientCreate(_ClientReadOnly, kw_only=True):
    """A new client. Every text is trimmed; a blank optional field is none."""

    name: f.Name
    email: f.Email | None | UnsetType = UNSET
    address: f.Address | None | UnsetType = UNSET
    tax_id: f.TaxId | None | UnsetType = UNSET
    phone: f.Phone | None | UnsetType = UNSET
    notes: f.ClientNotes | None | UnsetType = UNSET
    is_active: NewClientActive | UnsetType = UNSET

    def fields(self) -> ClientFields:
        sent = self.sent()
        sent.pop("isActive", None)
        return ClientFields(sent)


class ClientUpdate(_ClientReadOnly, kw_only=True):
    """A client's new values: a field left out stays, null (or blank) clears an optional
    one. ``isActive`` deactivates or reactivates (reactivating counts against the plan)."""

    name: f.Name | UnsetType = UNSET
    email: f.Email | None | UnsetType = UNSET
    address: f.Address | None | UnsetType = UNSET
    tax_id: f.TaxId | None | UnsetType = UNSET
    phone: f.Phone | None | UnsetType = UNSET
    notes: f.ClientNotes | None | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET

    def fields(self) -> ClientFields:
        sent = self.sent()
        is_active = sent.pop("isActive", None)
        return ClientFields(sent, is_active)


# --- invoices --------------------------------------------------------------------------------


class LineItemInput(Body, kw_only=True):
    """A line: ``amount = quantity × unitPrice``, less ``discountRate`` percent, taxed at
    ``taxRate`` percent."""

    description: f.Description
    quantity: f.Quantity
    unit_price: f.UnitPrice
    tax_rate: f.Rate | None | UnsetType = UNSET
    discount_rate: f.Rate | None | UnsetType = UNSET
    amount: f.ReadOnly = UNSET
    discount: f.ReadOnly = UNSET

    def line(self) -> LineInput:
        return LineInput(**_values(self, LineInput))


class _InvoiceReadOnly(Body, kw_only=True):
    id: f.ReadOnly = UNSET
    subtotal: f.ReadOnly = UNSET
    tax_total: f.ReadOnly = UNSET
    discount_total: f.ReadOnly = UNSET
    total: f.ReadOnly = UNSET
    created_at: f.ReadOnly = UNSET
    updated_at: f.ReadOnly = UNSET
    client: f.ReadOnly = UNSET
    sent_via_email: f.ReadOnly = UNSET
    sent_at: f.ReadOnly = UNSET
    paid_at: f.ReadOnly = UNSET
    amount_paid: f.ReadOnly = UNSET
    balance_due: f.ReadOnly = UNSET
    viewed_at: f.ReadOnly = UNSET
    overdue_at: f.ReadOnly = UNSET
    voided_at: f.ReadOnly = UNSET
    void_reason: f.ReadOnly = UNSET
    share_url: f.ReadOnly = UNSET
    email_status: f.ReadOnly = UNSET
    email_error: f.ReadOnly = UNSET
    pdf_warnings: f.ReadOnly = UNSET


_LINES = "At least one line."
Lines = Annotated[list[LineItemInput], f.line_items(_LINES)]
StatusAsRead = Annotated[
    Any,
    Meta(
        description="Returned by the API; accepted when it equals the invoice's status (sent back as read), else"
        " 400: the status changes by POST .../send, .../payments or .../void.",
        # A status, as read (the document names it InvoiceStatus); decoding takes any value,
        # and the route compares it with the stored one.
        extra_json_schema={"readOnly": True, "enum": list(STATUSES)},
    ),
]


class InvoiceCreate(_InvoiceReadOnly, kw_only=True):
    """A new invoice, created as a DRAFT."""

    client_id: f.ClientRef
    line_items: Lines
    invoice_number: f.InvoiceNumber | None | UnsetType = UNSET
    currency: f.Currency | None | UnsetType = UNSET
    issue_date: f.Day | None | UnsetType = UNSET
    due_date: f.Day | None | UnsetType = UNSET
    notes: f.LongText | None | UnsetType = UNSET
    terms: f.LongText | None | UnsetType = UNSET
    po_number: f.Reference | None | UnsetType = UNSET
    status: f.ReadOnly = UNSET

    def input(self) -> InvoiceInput:
        """The use case's input: its same-named fields, None where left out."""
        lines = [line.line() for line in self.line_items]
        given = {**_values(self, InvoiceInput), "client_id": inputs.client_ref(self.client_id), "line_items": lines}
        return InvoiceInput(**given)


class InvoiceUpdate(_InvoiceReadOnly, kw_only=True):
    """A draft's new values: a field left out stays; ``notes`` and ``terms`` are cleared by
    null. Only a DRAFT changes (else 409)."""

    client_id: f.ClientRef | UnsetType = UNSET
    line_items: Lines | UnsetType = UNSET
    invoice_number: f.InvoiceNumber | UnsetType = UNSET
    currency: f.Currency | UnsetType = UNSET
    issue_date: f.Day | UnsetType = UNSET
    due_date: f.Day | UnsetType = UNSET
    notes: f.LongText | None | UnsetType = UNSET
    terms: f.LongText | None | UnsetType = UNSET
    po_number: f.Reference | None | UnsetType = UNSET
    status: StatusAsRead = UNSET

    def changes(self) -> InvoiceChanges:
        given = self.sent()
        if "clientId" in given:
            given["clientId"] = inputs.client_ref(given["clientId"])
        if "lineItems" in given:
            given["lineItems"] = [line.line() for line in given["lineItems"]]
        return InvoiceChanges(given)


# --- an invoice's life -------------------------------------------------------------------------


# (items: an array schema names its items, even inside an `if`: Spectral's array-items)
_NON_EMPTY = {"type": "array", "minItems": 1, "items": {"type": "string"}}


class SendInput(Body, kw_only=True):
    """How to send: by email (to the client's address, or ``to``), or only recorded as sent.
    The body may be left out."""

    # Recipients need "email": true (usecases.inputs.sending).
    schema_extra: ClassVar[dict[str, Any]] = {
        "allOf": [
            {
                "if": {"properties": {name: _NON_EMPTY}, "required": [name]},
                "then": {"properties": {"email": {"const": True}}, "required": ["email"]},
            }
            for name in ("to", "cc")
        ]
    }

    email: bool = False
    to: f.Recipients | None = None
    cc: f.Recipients | None = None
    message: f.LongText | None = None

    def sending(self) -> Sending:
        return inputs.sending(self.email, tuple(self.to or ()), tuple(self.cc or ()), self.message)


class VoidInput(Body, kw_only=True):
    """Why the invoice is voided. The body may be left out."""

    reason: f.LongText | None = None


class PaymentCreate(Body, kw_only=True):
    """A payment received."""

    amount: f.PaymentAmount
    date: f.Day | None = None
    method: f.ShortText | None = None
    reference: f.ShortText | None = None

    def input(self) -> PaymentInput:
        return PaymentInput(amount=self.amount, paid_on=self.date, method=self.method, reference=self.reference)

"""An ``InvoiceCreated`` read straight from its stored JSON, for a rebuild.

The event's handler (``handlers.invoices.invoice_created``) takes the event object, whose
twenty lines cost about 160 tagged objects, 140 Decimals and 20 ``LineItem``s to make. A
rebuild only writes them back as text: msgspec decodes the stored JSON into the structs
below (checked in C: each value's transcoding, ``_type_``, is the one the transcoder
writes for its field), and the numbers stay the text the transcoder stored. That text is
``str()`` of the event's Decimal (``DecimalAsStr``), which is what ``DecimalText`` writes
of the same Decimal, so the rows are the handler's. JSON of another shape (a transcoding
this does not know, fields a line does not have) raises ``msgspec.ValidationError``; the
caller then hands the event to its handler.
"""

from datetime import date, datetime
from typing import Any, Literal, cast
from uuid import UUID

import msgspec

from domain.invoice import TEXTS
from projections.folding import fold
from projections.handlers.invoices import text_columns
from projections.handlers.times import naive_utc

TAGS = {"kind": "_type_", "text": "_data_"}  # the transcoder's tagged values


class Number(msgspec.Struct, rename=TAGS, forbid_unknown_fields=True):
    kind: Literal["decimal_str"]
    text: str


class Id(msgspec.Struct, rename=TAGS, forbid_unknown_fields=True):
    kind: Literal["uuid_hex"]
    text: str


class Day(msgspec.Struct, rename=TAGS, forbid_unknown_fields=True):
    kind: Literal["date_iso"]
    text: str


class Moment(msgspec.Struct, rename=TAGS, forbid_unknown_fields=True):
    kind: Literal["datetime_iso"]
    text: str


def _zero() -> Number:
    return Number("decimal_str", "0")


class Line(msgspec.Struct, forbid_unknown_fields=True):
    """``LineItem``'s fields; a line recorded before discounts takes its defaults (0)."""

    description: str
    quantity: Number
    unit_price: Number
    tax_rate: Number
    amount: Number
    discount_rate: Number = msgspec.field(default_factory=_zero)
    discount: Number = msgspec.field(default_factory=_zero)


class StoredLine(msgspec.Struct, rename=TAGS, forbid_unknown_fields=True):
    kind: Literal["line_item"]
    text: Line


class Created(msgspec.Struct):
    """What the handler reads of an ``InvoiceCreated`` (its texts are read by name: ``texts``)."""

    timestamp: Moment
    account_id: Id
    client_id: Id
    number: str
    currency: str
    issue_date: Day
    due_date: Day
    line_items: list[StoredLine]
    subtotal: Number
    tax_total: Number
    discount_total: Number
    total: Number


# With the invoice's texts (``domain.invoice.TEXTS``), each absent from events recorded before it.
WithTexts = msgspec.defstruct("WithTexts", [(text.name, str | None, None) for text in TEXTS], bases=(Created,))
_decode = msgspec.json.Decoder(WithTexts).decode
LINE_COLUMNS = (
    "invoice_id",
    "position",
    "description",
    "quantity",
    "unit_price",
    "tax_rate",
    "amount",
    "discount_rate",
    "discount",
)


def decoded(stored: bytes) -> tuple[Created, dict[str, Any]]:
    """The event's fields and its texts' columns (values and folded copies); raises
    ``msgspec.ValidationError`` (or ``DecodeError``) for JSON of another shape."""
    e = cast(Created, _decode(stored))
    return e, text_columns({text.name: getattr(e, text.name) for text in TEXTS})


def invoice_row(invoice_id: str, version: int, e: Created, zero: str) -> dict[str, Any]:
    """The columns ``invoice_created`` writes of the event itself (``zero``: nothing paid,
    at the total's scale); the caller adds the texts and the client's columns."""
    at = naive_utc(datetime.fromisoformat(e.timestamp.text))
    total = e.total.text
    return {
        "id": invoice_id,
        "account_id": str(UUID(e.account_id.text)),
        "client_id": str(UUID(e.client_id.text)),
        "invoice_number": e.number,
        "currency": e.currency,
        "issue_date": date.fromisoformat(e.issue_date.text),
        "due_date": date.fromisoformat(e.due_date.text),
        "subtotal": e.subtotal.text,
        "tax_total": e.tax_total.text,
        "discount_total": e.discount_total.text,
        "total": total,
        "status": "DRAFT",
        "amount_paid": zero,
        "sends": 0,
        "balance_due": total,
        "sent_via_email": False,
        "version": version,
        "created_at": at,
        "updated_at": at,
        "number_folded": fold(e.number),
    }


def line_rows(invoice_id: str, e: Created) -> list[tuple[Any, ...]]:
    """The lines as the driver takes them, in the order of ``LINE_COLUMNS``."""
    return [
        (
            invoice_id,
            position,
            line.description,
            line.quantity.text,
            line.unit_price.text,
            line.tax_rate.text,
            line.amount.text,
            line.discount_rate.text,
            line.discount.text,
        )
        for position, stored in enumerate(e.line_items)
        for line in (stored.text,)
    ]

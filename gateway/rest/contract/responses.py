"""What the API answers, declared once: the OpenAPI document's response schemas, and what
``gateway.rest.render`` builds and ``gateway.http.jsonio`` encodes. Fields are written in the order
declared; every field is always present (``null`` when empty) unless said otherwise.
"""

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from gateway.http.codes import CODES
from gateway.rest.contract import fields as f
from gateway.rest.contract.enums import ActorType, EmailStatus, ResourceType


class Shape(msgspec.Struct, rename="camel", kw_only=True):
    """A response shape: camelCase on the wire."""


# The machine codes an error may carry, each stable once published (a client branches on
# it, never on the message): gateway.http.codes' table. More may be added, so the document lists
# them in the description of a string, not as an enum a generated client would refuse.
ERROR_CODES: tuple[str, ...] = CODES


ErrorCode = Annotated[
    str,
    Meta(
        description="What went wrong, for a program: stable, upper case. Known values: "
        + ", ".join(ERROR_CODES)
        + ". New ones may be added; treat an unknown one by the answer's status.",
        pattern="^[A-Z][A-Z0-9_]*$",
        examples=["VALIDATION_FAILED"],
    ),
]
FieldPath = Annotated[
    str,
    Meta(
        description="The path of the request field at fault, in its wire names: lineItems[0].quantity.",
        examples=["lineItems[0].quantity"],
    ),
]


class Problem(Shape, omit_defaults=True):
    """Every error: a human readable message, never a stack trace, with a machine code and,
    when one field is at fault, its path."""

    error: Annotated[str, Meta(description="What went wrong, for a person; its wording may change.")]
    code: ErrorCode | UnsetType = UNSET
    field: FieldPath | UnsetType = UNSET


# --- clients ---------------------------------------------------------------------------------


class Client(Shape):
    id: f.RecordId
    name: str
    email: str | None
    address: str | None
    tax_id: str | None
    phone: str | None
    notes: str | None
    is_active: Annotated[bool, Meta(description="False once deleted (soft delete).")]
    created_at: f.Timestamp
    updated_at: f.Timestamp


class ClientData(Shape):
    data: Client


class Page(Shape):
    total: Annotated[int, Meta(ge=0, description="How many match, on every page.")]
    page: Annotated[int, Meta(ge=1)]
    limit: Annotated[int, Meta(ge=1, le=100)]
    total_pages: Annotated[int, Meta(ge=0, description="ceil(total / limit).")]
    next_cursor: Annotated[
        str | None,
        Meta(
            description="The `after` of the following page (keyset: rows written meanwhile neither repeat nor"
            " skip a row); null on the last page. Opaque: send it back as it is."
        ),
    ] = None


class ClientPage(Page, kw_only=True):
    data: list[Client]


# --- invoices --------------------------------------------------------------------------------

Status = f.Status


class InvoiceBrief(Shape):
    """The reference's four fields; every write now answers the whole detail (``InvoiceData``),
    a superset of them. Kept for an answer rebuilt from events that has not moved to it."""

    id: f.RecordId
    invoice_number: str
    total: f.Money
    status: Status


class InvoiceBriefData(Shape):
    data: InvoiceBrief


class BilledClient(Shape):
    name: str
    email: str | None


class InvoiceSummary(Shape):
    id: f.RecordId
    client_id: f.RecordId
    invoice_number: str
    currency: f.Currency
    issue_date: f.DayText
    due_date: f.DayText
    subtotal: f.Money
    tax_total: f.Money
    discount_total: f.Money
    total: f.Money
    status: Status
    amount_paid: f.Money
    balance_due: Annotated[f.Money, Meta(description="0 on a void invoice.")]
    created_at: f.Timestamp
    updated_at: f.Timestamp
    client: BilledClient


class InvoicePage(Page, kw_only=True):
    data: list[InvoiceSummary]


class LineItem(Shape):
    description: str
    quantity: f.Amount
    unit_price: f.Money
    amount: Annotated[f.Money, Meta(description="quantity × unitPrice, in the currency's minor units.")]
    tax_rate: f.Percent
    discount_rate: f.Percent
    discount: f.Money


class InvoiceDetail(InvoiceSummary):
    line_items: list[LineItem]
    notes: str | None
    terms: str | None
    po_number: str | None
    sent_via_email: bool
    sent_at: f.Timestamp | None
    paid_at: f.Timestamp | None
    viewed_at: f.Timestamp | None
    overdue_at: f.Timestamp | None
    voided_at: f.Timestamp | None
    void_reason: str | None
    share_url: Annotated[str | None, Meta(description="The share link, once sent.")]
    email_status: EmailStatus | None
    email_error: str | None
    pdf_warnings: Annotated[
        list[str], Meta(description="Characters of the invoice no font of the PDF can draw (printed as U+FFFD).")
    ]


class InvoiceData(Shape):
    data: InvoiceDetail


# --- payments --------------------------------------------------------------------------------


class Payment(Shape):
    id: f.RecordId
    amount: f.Money
    date: f.DayText
    method: str | None
    reference: str | None
    created_at: f.Timestamp
    reversed_at: Annotated[f.Timestamp | None, Meta(description="When it was reversed; it stays on record.")]


class PaymentList(Shape):
    data: list[Payment]


class Standing(Shape):
    """Where the invoice stands after the payment or its reversal."""

    id: f.RecordId
    status: Status
    amount_paid: f.Money
    balance_due: f.Money
    paid_at: f.Timestamp | None


class PaymentAnswer(Payment):
    invoice: Standing


class PaymentData(Shape):
    data: PaymentAnswer


# --- history, the feed, the ledger -------------------------------------------------------------


class Actor(Shape, omit_defaults=True):
    """Who made a change: an API key (its id and label, never the key), the command line,
    a dashboard owner, or the system."""

    type: ActorType
    id: str | UnsetType = UNSET
    name: str | UnsetType = UNSET


class Resource(Shape):
    type: ResourceType
    id: f.RecordId


# History and feed entries: gateway.rest.contract.history_shapes, one Struct per event type.


class LedgerDigest(Shape):
    """What an auditor keeps, as it is (not wrapped in ``data``)."""

    account_id: f.RecordId
    position: Annotated[int, Meta(ge=0)]
    digest: Annotated[str, Meta(pattern="^[0-9a-f]{64}$")]
    at: f.Timestamp

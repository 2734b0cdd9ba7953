"""What each event's ``changes`` and ``previous`` hold (``usecases.history``), declared once
for both doors: one ``ChangeShape`` per event type of each kind of record, in ``SHAPES``.

A shape is made of two TypedDicts, in wire names with their wire types (the aliases below):

- ``fields``: the record's fields (``InvoiceFields``, ``ClientFields``, ``AccountFields``).
  ``created`` lists every one of them (``complete``); any other event lists only those it
  changed (status and balances included, since they follow from the facts), so each is
  optional there. ``previous`` holds the changed fields' old values: the same fields, each
  optional (nothing in ``created``'s).
- ``carries``: what the event itself holds that the record does not (a send's recipients, a
  payment), every key always present; None when the event carries nothing.

How a door derives its types from it (REST: ``gateway.rest.contract.history_shapes``):

- per shape, a changes type named ``shape.name + "Changes"`` (``InvoiceSentChanges``) with
  ``fields``' keys (required when ``complete``, else optional) and ``carries``' keys
  (required), and a previous type ``shape.name + "Previous"`` with ``fields``' keys, optional;
- per kind of record, a union of its shapes' entries, discriminated by the entry's ``type``
  (``shape.type``: a business word, unique within a kind, not across kinds: ``created`` is
  an invoice's, a client's and an account's). GraphQL: a union per kind
  (``InvoiceChange = InvoiceCreatedChanges | InvoiceUpdatedChanges | ...``) resolved by
  ``shape_of(kind, type)``, and the feed's union of all three kinds' members;
- field types from ``typing.get_type_hints(td, include_extras=True)``: compare each hint
  with the aliases here (``hint == Money``) to pick the scalar or enum: ``Money`` and
  ``Amount`` exact decimals, ``Timestamp`` and ``Day`` texts, ``Currency``,
  ``InvoiceStatus``, ``EmailStatus``, ``Plan``, ``Locale`` the named enums; ``X | None`` is
  nullable; a nested TypedDict (``LineItemFields``, ``PaymentFields``...) an object type.
"""

import builtins
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Annotated, Literal, NotRequired, TypedDict, get_args

from msgspec import Meta

from domain.account import LOCALES
from domain.currencies import MINOR_UNITS
from domain.lifecycle import STATUSES
from domain.plans import Plan as Plans

# --- the wire types ------------------------------------------------------------------------

RecordId = Annotated[str, Meta(description="A UUID.", extra_json_schema={"format": "uuid"})]
Money = Annotated[Decimal, Meta(description="An exact decimal amount, written with its scale (125.00).")]
Percent = Annotated[Decimal, Meta(description="A percentage, exact (10 or 7.5).")]
Amount = Annotated[Decimal, Meta(description="An exact decimal, written as given (40, 1.5).")]
Timestamp = Annotated[
    str,
    Meta(
        description="ISO 8601 UTC with milliseconds and Z: 2024-01-15T09:30:00.000Z.",
        extra_json_schema={"format": "date-time"},
    ),
]
Day = Annotated[str, Meta(description="YYYY-MM-DD.", extra_json_schema={"format": "date"})]
Currency = Annotated[
    str,
    Meta(description="An ISO 4217 code; upper case on the way out.", extra_json_schema={"enum": sorted(MINOR_UNITS)}),
]
InvoiceStatus = Annotated[str, Meta(extra_json_schema={"enum": list(STATUSES)})]
EmailStatus = Literal["queued", "delivered", "failed"]
Plan = Annotated[str, Meta(extra_json_schema={"enum": [plan.value for plan in Plans]})]
Locale = Annotated[str, Meta(extra_json_schema={"enum": list(LOCALES)})]

EMAIL_STATUSES: tuple[str, ...] = get_args(EmailStatus)


# --- what records hold -----------------------------------------------------------------------


class LineItemFields(TypedDict):
    description: str
    quantity: Amount
    unitPrice: Money
    amount: Money
    taxRate: Percent
    discountRate: Percent
    discount: Money


class InvoiceFields(TypedDict):
    clientId: RecordId
    invoiceNumber: str
    currency: Currency
    issueDate: Day
    dueDate: Day
    lineItems: list[LineItemFields]
    subtotal: Money
    taxTotal: Money
    discountTotal: Money
    total: Money
    notes: str | None
    terms: str | None
    poNumber: str | None
    status: InvoiceStatus
    amountPaid: Money
    balanceDue: Money
    sentViaEmail: bool
    sentAt: Timestamp | None
    paidAt: Timestamp | None
    viewedAt: Timestamp | None
    overdueAt: Timestamp | None
    voidedAt: Timestamp | None
    voidReason: str | None
    emailStatus: EmailStatus | None
    emailError: str | None


class ClientFields(TypedDict):
    name: str
    email: str | None
    address: str | None
    taxId: str | None
    phone: str | None
    notes: str | None
    isActive: bool


class AccountFields(TypedDict):
    name: str
    plan: Plan
    locale: Locale
    address: str | None
    email: str | None
    taxId: str | None
    phone: str | None


# --- what events carry beyond the record ----------------------------------------------------


class PaymentFields(TypedDict):
    id: RecordId
    amount: Money
    date: Day
    method: str | None
    reference: str | None
    createdAt: Timestamp
    reversedAt: Timestamp | None


class SentCarries(TypedDict):
    send: Annotated[int, Meta(ge=1, description="The invoice's sends counted from 1.")]
    email: bool
    to: list[str]
    cc: list[str]
    message: str | None


class PaymentCarries(TypedDict):
    payment: PaymentFields


class EmailDeliveredCarries(TypedDict):
    send: Annotated[int, Meta(ge=1)]
    recipients: list[str]


class EmailFailedCarries(TypedDict):
    send: Annotated[int, Meta(ge=1)]
    attempt: Annotated[int, Meta(ge=1)]
    error: str
    retryAt: Timestamp | None


class IssuedKey(TypedDict):
    id: RecordId
    name: str
    prefix: Annotated[str, Meta(description="What lists show of the key; never the key.")]


class RevokedKey(TypedDict):
    id: RecordId


class ApiKeyIssuedCarries(TypedDict):
    apiKey: IssuedKey


class ApiKeyRevokedCarries(TypedDict):
    apiKey: RevokedKey


class OwnerFields(TypedDict):
    id: RecordId
    email: str


class OwnerAddedCarries(TypedDict):
    owner: OwnerFields


# --- one shape per event type ------------------------------------------------------------------

ResourceKind = Literal["invoice", "client", "account"]


@dataclass(frozen=True)
class ChangeShape:
    resource: ResourceKind
    type: str  # the entry's ``type``: unique within ``resource``
    name: str  # the types' stem: InvoiceSent -> InvoiceSentChanges, InvoiceSentPrevious, InvoiceSentEntry
    fields: builtins.type  # the record's fields (a TypedDict)
    complete: bool  # every field present (created), else only the changed ones
    carries: builtins.type | None  # a TypedDict, every key present; None: nothing beyond the record
    description: str


def _shapes(
    resource: ResourceKind, stem: str, fields: type, table: dict[str, tuple[type | None, str]]
) -> list[ChangeShape]:
    return [
        ChangeShape(resource, word, stem + word[:1].upper() + word[1:], fields, word == "created", carries, about)
        for word, (carries, about) in table.items()
    ]


SHAPES: tuple[ChangeShape, ...] = (
    *_shapes(
        "invoice",
        "Invoice",
        InvoiceFields,
        {
            "created": (None, "The invoice was created; changes lists every field."),
            "updated": (None, "Fields were edited (lines, dates, notes...); totals and status follow."),
            "deleted": (None, "The draft was deleted."),
            "sent": (SentCarries, "It was sent (or only marked sent): the send's number and recipients."),
            "viewed": (None, "The client opened the share link for the first time."),
            "paymentRecorded": (PaymentCarries, "A payment was recorded; balance and status follow."),
            "paymentReversed": (PaymentCarries, "A payment was reversed; it stays on record with reversedAt."),
            "overdue": (None, "The due date passed with a balance due."),
            "voided": (None, "The invoice was voided."),
            "emailDelivered": (EmailDeliveredCarries, "The mail server took a send's email."),
            "emailFailed": (EmailFailedCarries, "A send's email failed; retryAt says when it is tried again."),
        },
    ),
    *_shapes(
        "client",
        "Client",
        ClientFields,
        {
            "created": (None, "The client was created; changes lists every field."),
            "updated": (None, "Fields were edited."),
            "deactivated": (None, "The client was deleted (soft delete)."),
            "reactivated": (None, "The client was restored."),
        },
    ),
    *_shapes(
        "account",
        "Account",
        AccountFields,
        {
            "created": (None, "The account was opened; changes lists every field."),
            "updated": (None, "Its name, locale or seller details were edited."),
            "planChanged": (None, "Its plan changed."),
            "apiKeyIssued": (ApiKeyIssuedCarries, "An API key was issued (its label and prefix, never the key)."),
            "apiKeyRevoked": (ApiKeyRevokedCarries, "An API key was revoked."),
            "ownerAdded": (OwnerAddedCarries, "A dashboard owner was added."),
        },
    ),
)


def shapes_of(resource: ResourceKind) -> tuple[ChangeShape, ...]:
    return tuple(shape for shape in SHAPES if shape.resource == resource)


def shape_of(resource: str, word: str) -> ChangeShape | None:
    return next((s for s in SHAPES if s.resource == resource and s.type == word), None)


@cache
def changes_type(shape: ChangeShape) -> type:
    """The TypedDict of ``shape``'s ``changes``: its record's fields (required when
    ``complete``) and what it carries (required)."""
    hints = dict(shape.fields.__annotations__)
    keys = {name: hint if shape.complete else NotRequired[hint] for name, hint in hints.items()}
    if shape.carries is not None:
        keys.update(shape.carries.__annotations__)
    made: type = TypedDict(shape.name + "Changes", keys)  # type: ignore[misc]
    return made


@cache
def previous_type(shape: ChangeShape) -> type:
    """The TypedDict of ``shape``'s ``previous``: the changed fields' old values (none in a
    ``complete`` shape)."""
    hints = {} if shape.complete else dict(shape.fields.__annotations__)
    made: type = TypedDict(shape.name + "Previous", {name: NotRequired[hint] for name, hint in hints.items()})  # type: ignore[misc]
    return made

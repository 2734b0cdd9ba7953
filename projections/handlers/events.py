"""The domain's event classes as the handlers see them: each handler's event parameter is
typed with what it reads of its event.

eventsourcing's ``@event`` makes each event class as its aggregate is defined, so a type
checker sees none of them: the aggregates are taken here untyped (``Account``, ``Client``,
``Invoice``), a handler is registered for the class itself (``Invoice.InvoiceCreated``),
and the protocols below declare the fields read. A test holds every protocol to the
fields of the class its handler is registered for (tests/integration/test_projection_handlers.py).
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from domain import account, client, invoice
from domain.money import LineItem

Account: Any = account.Account
Client: Any = client.Client
Invoice: Any = invoice.Invoice


class Recorded(Protocol):
    """What every event carries: its aggregate, the version it made and when it was recorded."""

    originator_id: UUID
    originator_version: int
    timestamp: datetime


class Happened(Recorded, Protocol):
    """An event of an invoice's life, with the moment it happened (``at``)."""

    at: datetime


class Changed(Recorded, Protocol):
    """An update: the fields that changed, by attribute name."""

    changes: dict[str, Any]


# --- accounts ------------------------------------------------------------------------------


class AccountOpened(Recorded, Protocol):
    name: str
    plan: str
    locale: str


class PlanChanged(Recorded, Protocol):
    plan: str


class ApiKeyIssued(Recorded, Protocol):
    key_id: UUID
    key_hash: str
    name: str
    prefix: str


class ApiKeyRevoked(Recorded, Protocol):
    key_id: UUID


# --- clients -------------------------------------------------------------------------------


class ClientCreated(Recorded, Protocol):
    account_id: UUID
    name: str
    email: str | None
    address: str | None
    tax_id: str | None
    phone: str | None
    notes: str | None


# --- invoices ------------------------------------------------------------------------------


class InvoiceCreated(Recorded, Protocol):
    account_id: UUID
    client_id: UUID
    number: str
    currency: str
    issue_date: date
    due_date: date
    line_items: list[LineItem]
    subtotal: Decimal
    tax_total: Decimal
    discount_total: Decimal
    total: Decimal
    notes: str | None
    terms: str | None


class InvoiceSent(Happened, Protocol):
    number: int
    email: bool
    share_token: str


class InvoiceVoided(Happened, Protocol):
    reason: str | None


class PaymentRecorded(Happened, Protocol):
    payment_id: UUID
    amount: Decimal
    paid_on: date
    method: str | None
    reference: str | None


class PaymentReversed(Happened, Protocol):
    payment_id: UUID


class EmailOutcome(Recorded, Protocol):
    """A delivery's outcome (``EmailDelivered``, ``EmailFailed``): which send it is about."""

    send: int

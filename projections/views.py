"""What read-model queries return: plain frozen records, not aggregates or ORM rows."""

from dataclasses import KW_ONLY, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from domain.invoice import InvoiceTexts

T = TypeVar("T")


@dataclass(frozen=True)
class SortKey:
    """Where a row stands in a list's order (newest first: ``created_at`` descending, then
    ``id`` descending, the id making the order total): what a keyset page starts after."""

    created_at: datetime  # naive UTC, as the read model stores it
    id: str

    @classmethod
    def of(cls, row: "ClientView | InvoiceSummary") -> "SortKey":
        return cls(row.created_at, row.id)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    limit: int
    # Whether rows follow this page; None: as the count says (an offset page). A keyset
    # page knows it from the row it read past its limit.
    more: bool | None = None

    @property
    def total_pages(self) -> int:
        return -(-self.total // self.limit)

    @property
    def has_next(self) -> bool:
        return self.more if self.more is not None else self.page * self.limit < self.total


@dataclass(frozen=True)
class AccountView:
    id: str
    name: str
    plan: str
    locale: str
    created_at: datetime
    updated_at: datetime
    address: str | None = None
    email: str | None = None
    tax_id: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class KeyView:
    id: str
    account_id: str
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class ClientView:
    id: str
    name: str
    email: str | None
    address: str | None
    tax_id: str | None
    phone: str | None
    notes: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class LineView:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    amount: Decimal
    discount_rate: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)


@dataclass(frozen=True)
class PaymentView:
    id: str
    invoice_id: str
    amount: Decimal
    paid_on: date
    method: str | None
    reference: str | None
    recorded_at: datetime
    reversed_at: datetime | None


@dataclass(frozen=True)
class InvoiceSummary:
    id: str
    account_id: str
    client_id: str
    invoice_number: str
    currency: str
    issue_date: date
    due_date: date
    subtotal: Decimal
    tax_total: Decimal
    discount_total: Decimal
    total: Decimal
    status: str
    created_at: datetime
    updated_at: datetime
    client_name: str
    client_email: str | None
    _: KW_ONLY
    amount_paid: Decimal = Decimal(0)
    balance_due: Decimal = Decimal(0)


@dataclass(frozen=True)
class InvoiceDetail(InvoiceSummary, InvoiceTexts):
    line_items: list[LineView]
    sent_via_email: bool
    sent_at: datetime | None
    paid_at: datetime | None
    version: int
    viewed_at: datetime | None = field(default=None, kw_only=True)
    overdue_at: datetime | None = field(default=None, kw_only=True)
    voided_at: datetime | None = field(default=None, kw_only=True)
    void_reason: str | None = field(default=None, kw_only=True)
    share_token: str | None = field(default=None, kw_only=True)
    email_status: str | None = field(default=None, kw_only=True)
    email_reply: str | None = field(default=None, kw_only=True)

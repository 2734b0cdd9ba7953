"""The schema's object types, with the REST JSON field names (strawberry writes
``tax_id`` as ``taxId``). Each is built from the read model's views; relations resolve
through the request's loaders, so a page and its relations cost a constant number of
queries."""

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any
from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.lifecycle import STATUSES
from pdf.coverage import pdf_warnings
from projections.views import AccountView, ClientView, InvoiceDetail, InvoiceSummary, LineView, Page, PaymentView
from usecases.inputs import InvoiceQuery

if TYPE_CHECKING:
    from gateway.graphql.context import Context

    GraphInfo = Info[Context, None]
else:
    GraphInfo = Info

Day = date  # a field named "date" must not shadow the type in its own annotation


@strawberry.enum(description="Derived from what was recorded; see the REST docs' lifecycle.")
class InvoiceStatus(Enum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    VIEWED = "VIEWED"
    PAID = "PAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    OVERDUE = "OVERDUE"
    VOID = "VOID"


assert [status.value for status in InvoiceStatus] == list(STATUSES), "the domain's statuses changed"


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@strawberry.type
class Actor:
    type: str
    id: str | None = None
    name: str | None = None


@strawberry.type
class HistoryEntry:
    version: int
    type: str
    occurred_at: datetime
    actor: Actor
    changes: JSON
    previous: JSON

    @classmethod
    def of(cls, entry: dict[str, Any]) -> "HistoryEntry":
        actor = entry["actor"]
        return cls(
            version=int(entry["version"]),
            type=str(entry["type"]),
            occurred_at=_moment(entry["occurredAt"]),
            actor=Actor(type=actor["type"], id=actor.get("id"), name=actor.get("name")),
            changes=_plain(entry["changes"]),
            previous=_plain(entry["previous"]),
        )


def _plain(value: Any) -> Any:
    """JSON as the REST door writes it; exact decimals as strings, like every Decimal here."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


@strawberry.type
class Resource:
    type: str
    id: strawberry.ID


@strawberry.type
class AccountEvent(HistoryEntry):
    position: int
    resource: Resource

    @classmethod
    def of(cls, entry: dict[str, Any]) -> "AccountEvent":
        told = HistoryEntry.of(entry)
        return cls(
            **vars(told),
            position=int(entry["position"]),
            resource=Resource(type=entry["resource"]["type"], id=strawberry.ID(entry["resource"]["id"])),
        )


@strawberry.type
class EventPage:
    data: list[AccountEvent]
    next: int


@strawberry.type
class LedgerDigest:
    account_id: strawberry.ID
    position: int
    digest: str
    at: datetime


@strawberry.type
class LineItem:
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    tax_rate: Decimal
    discount_rate: Decimal
    discount: Decimal

    @classmethod
    def of(cls, line: LineView) -> "LineItem":
        return cls(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=line.amount,
            tax_rate=line.tax_rate,
            discount_rate=line.discount_rate,
            discount=line.discount,
        )


@strawberry.type
class Payment:
    id: strawberry.ID
    amount: Decimal
    date: Day
    method: str | None
    reference: str | None
    created_at: datetime
    reversed_at: datetime | None
    invoice_id: strawberry.Private[str]
    answer: strawberry.Private[InvoiceDetail | None] = None

    @classmethod
    def of(cls, view: PaymentView, invoice: InvoiceDetail | None = None) -> "Payment":
        return cls(
            id=strawberry.ID(view.id),
            amount=view.amount,
            date=view.paid_on,
            method=view.method,
            reference=view.reference,
            created_at=view.recorded_at,
            reversed_at=view.reversed_at,
            invoice_id=view.invoice_id,
            answer=invoice,
        )

    @strawberry.field(description="The invoice the payment belongs to, as it stands after it.")
    async def invoice(self, info: GraphInfo) -> "Invoice | None":
        if self.answer is not None:
            return Invoice.of(self.answer)
        detail = await info.context.loaders.invoices.load(self.invoice_id)
        return Invoice.of(detail) if detail else None


@strawberry.type
class Client:
    id: strawberry.ID
    name: str
    email: str | None
    address: str | None
    tax_id: str | None
    phone: str | None
    notes: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: ClientView) -> "Client":
        return cls(
            id=strawberry.ID(view.id),
            name=view.name,
            email=view.email,
            address=view.address,
            tax_id=view.tax_id,
            phone=view.phone,
            notes=view.notes,
            is_active=view.is_active,
            created_at=view.created_at,
            updated_at=view.updated_at,
        )

    @strawberry.field(description="The client's invoices, newest first.")
    async def invoices(
        self,
        info: GraphInfo,
        page: int = 1,
        limit: int = 20,
        search: str | None = None,
        status: InvoiceStatus | None = None,
    ) -> "InvoicePage":
        ctx = info.context
        query = InvoiceQuery(page, limit, search, str(self.id), status.value if status else None)
        return InvoicePage.of(await run_in_threadpool(ctx.usecases.invoices.list, ctx.account, query))

    @strawberry.field(description="Every event of the client, oldest first.")
    async def history(self, info: GraphInfo) -> list[HistoryEntry]:
        ctx = info.context
        entries = await run_in_threadpool(ctx.usecases.auditing.client_history, ctx.account, _uuid(self.id))
        return [HistoryEntry.of(entry) for entry in entries]


def _uuid(value: str) -> UUID:
    return UUID(str(value))


@strawberry.type
class Invoice:
    """Summary fields are the row's; detail fields load in one batch for a whole page."""

    id: strawberry.ID
    client_id: strawberry.ID
    invoice_number: str
    currency: str
    issue_date: date
    due_date: date
    subtotal: Decimal
    tax_total: Decimal
    discount_total: Decimal
    total: Decimal
    status: InvoiceStatus
    amount_paid: Decimal
    balance_due: Decimal
    created_at: datetime
    updated_at: datetime
    known: strawberry.Private[InvoiceDetail | None] = None
    past_client: strawberry.Private[ClientView | None] = None
    past_account: strawberry.Private[AccountView | None] = None
    past_payments: strawberry.Private[list[PaymentView] | None] = None

    @classmethod
    def of(
        cls,
        view: InvoiceSummary,
        *,
        client: ClientView | None = None,
        account: AccountView | None = None,
        payments: list[PaymentView] | None = None,
    ) -> "Invoice":
        """From a list row, or from a detail (then its detail fields need no load; with
        ``payments``, a past version: its client, seller and payments are as they were)."""
        return cls(
            id=strawberry.ID(view.id),
            client_id=strawberry.ID(view.client_id),
            invoice_number=view.invoice_number,
            currency=view.currency,
            issue_date=view.issue_date,
            due_date=view.due_date,
            subtotal=view.subtotal,
            tax_total=view.tax_total,
            discount_total=view.discount_total,
            total=view.total,
            status=InvoiceStatus[view.status],
            amount_paid=view.amount_paid,
            balance_due=view.balance_due,
            created_at=view.created_at,
            updated_at=view.updated_at,
            known=view if isinstance(view, InvoiceDetail) else None,
            past_client=client,
            past_account=account,
            past_payments=payments,
        )

    async def _detail(self, info: GraphInfo) -> InvoiceDetail:
        if self.known is None:
            found = await info.context.loaders.invoices.load(str(self.id))
            if found is None:  # deleted between the page and this field
                raise LookupError("Invoice not found")
            self.known = found
        return self.known

    @strawberry.field
    async def line_items(self, info: GraphInfo) -> list[LineItem]:
        return [LineItem.of(line) for line in (await self._detail(info)).line_items]

    @strawberry.field
    async def notes(self, info: GraphInfo) -> str | None:
        return (await self._detail(info)).notes

    @strawberry.field
    async def terms(self, info: GraphInfo) -> str | None:
        return (await self._detail(info)).terms

    @strawberry.field
    async def sent_via_email(self, info: GraphInfo) -> bool:
        return (await self._detail(info)).sent_via_email

    @strawberry.field
    async def sent_at(self, info: GraphInfo) -> datetime | None:
        return (await self._detail(info)).sent_at

    @strawberry.field
    async def paid_at(self, info: GraphInfo) -> datetime | None:
        return (await self._detail(info)).paid_at

    @strawberry.field
    async def viewed_at(self, info: GraphInfo) -> datetime | None:
        return (await self._detail(info)).viewed_at

    @strawberry.field
    async def overdue_at(self, info: GraphInfo) -> datetime | None:
        return (await self._detail(info)).overdue_at

    @strawberry.field
    async def voided_at(self, info: GraphInfo) -> datetime | None:
        return (await self._detail(info)).voided_at

    @strawberry.field
    async def void_reason(self, info: GraphInfo) -> str | None:
        return (await self._detail(info)).void_reason

    @strawberry.field
    async def email_status(self, info: GraphInfo) -> str | None:
        return (await self._detail(info)).email_status

    @strawberry.field
    async def email_error(self, info: GraphInfo) -> str | None:
        return (await self._detail(info)).email_reply

    @strawberry.field(description="The invoice's version: how many events it has.")
    async def version(self, info: GraphInfo) -> int:
        return (await self._detail(info)).version

    @strawberry.field(description="Where the client views it online, once it was sent.")
    async def share_url(self, info: GraphInfo) -> str | None:
        token = (await self._detail(info)).share_token
        return f"{info.context.public_url}/i/{token}" if token else None

    @strawberry.field(description="Characters of the invoice that no font of its PDF can draw.")
    async def pdf_warnings(self, info: GraphInfo) -> list[str]:
        detail = await self._detail(info)
        account = self.past_account if self.past_payments is not None else await info.context.loaders.account()
        return pdf_warnings(detail, await self._client_view(info), account)

    async def _client_view(self, info: GraphInfo) -> ClientView | None:
        if self.past_payments is not None:
            return self.past_client
        return await info.context.loaders.clients.load(str(self.client_id))

    @strawberry.field(description="The client; of a past version, as it was then.")
    async def client(self, info: GraphInfo) -> Client | None:
        view = await self._client_view(info)
        return Client.of(view) if view else None

    @strawberry.field(description="Its payments, reversed ones too, oldest first.")
    async def payments(self, info: GraphInfo) -> list[Payment]:
        views = self.past_payments
        if views is None:
            views = await info.context.loaders.payments.load(str(self.id))
        return [Payment.of(view) for view in views]

    @strawberry.field(description="Every event of the invoice, oldest first.")
    async def history(self, info: GraphInfo) -> list[HistoryEntry]:
        ctx = info.context
        entries = await run_in_threadpool(ctx.usecases.auditing.invoice_history, ctx.account, _uuid(self.id))
        return [HistoryEntry.of(entry) for entry in entries]


@strawberry.type
class ClientPage:
    data: list[Client]
    total: int
    page: int
    limit: int
    total_pages: int

    @classmethod
    def of(cls, result: Page[ClientView]) -> "ClientPage":
        items = [Client.of(view) for view in result.items]
        return cls(data=items, total=result.total, page=result.page, limit=result.limit, total_pages=result.total_pages)


@strawberry.type
class InvoicePage:
    data: list[Invoice]
    total: int
    page: int
    limit: int
    total_pages: int

    @classmethod
    def of(cls, result: Page[InvoiceSummary]) -> "InvoicePage":
        items = [Invoice.of(view) for view in result.items]
        return cls(data=items, total=result.total, page=result.page, limit=result.limit, total_pages=result.total_pages)

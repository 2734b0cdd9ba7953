"""The schema's record types and their pages, with the REST JSON field names (strawberry
writes ``tax_id`` as ``taxId``). Each is built from the use cases' views; relations resolve
through the request's loaders, so a page and its relations cost a constant number of
queries. Every type, field and argument is described: GraphiQL's Docs panel and
generated clients show the text.

A client lists its invoices as a page, a page holds invoices and an invoice names its
client: the three refer to each other, so they live in this one module. The list types
carry today's page fields (``data``, ``total``, ``page``, ``limit``, ``totalPages``, as
REST's envelope) and, beside them, a Relay connection's (``edges``, ``pageInfo``,
``totalCount``), so a frontend library built on either reads them."""

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from gateway.graphql.enums import Currency, EmailStatus, InvoiceStatus
from gateway.graphql.history import HistoryEntry
from gateway.graphql.inputs import INVOICE_TEXTS
from gateway.graphql.lines import LineItem
from gateway.graphql.paging import AFTER, FIRST, LIMIT, PAGE, SEARCH, paged
from gateway.graphql.selection import wanted
from gateway.graphql.viewed import detail_fields, filled
from pdf.coverage import pdf_warnings
from usecases import cursors
from usecases.inputs import InvoiceQuery
from usecases.views import (
    AccountView,
    ClientView,
    InvoiceDetail,
    InvoiceSummary,
    LineView,
    Page,
    PaymentView,
    SortKey,
)

if TYPE_CHECKING:
    from gateway.graphql.context import Context

    GraphInfo = Info[Context, None]
else:
    GraphInfo = Info

Day = date  # a field named "date" must not shadow the type in its own annotation
field = strawberry.field
R = TypeVar("R")


class MissingRecord(RuntimeError):
    """A record that always exists is not there: a fault of the store, answered as INTERNAL
    (and logged), never as a null the schema says cannot happen."""


@strawberry.type(description="A payment of an invoice; a mistaken one is reversed, never erased.")
class Payment:
    id: strawberry.ID = field(description="The payment's id.")
    amount: Decimal = field(description="How much was paid, in the invoice's currency.")
    date: Day = field(description="When it was paid.")
    method: str | None = field(description="How it was paid, as recorded (bank transfer, card...).")
    reference: str | None = field(description="The payer's or bank's reference.")
    created_at: datetime = field(description="When it was recorded.")
    reversed_at: datetime | None = field(description="When it was reversed; null while it counts.")
    invoice_id: strawberry.Private[str]
    answer: strawberry.Private[InvoiceDetail | None] = None

    @classmethod
    def of(cls, view: PaymentView, invoice: InvoiceDetail | None = None) -> "Payment":
        return filled(cls, view, {"date": "paid_on", "created_at": "recorded_at"}, answer=invoice)

    @strawberry.field(description="The invoice the payment belongs to, as it stands after it.")
    async def invoice(self, info: GraphInfo) -> "Invoice":
        if self.answer is not None:
            return Invoice.of(self.answer)
        # Only a draft is ever deleted, and a draft has no payments: a payment's invoice
        # is always there. Its absence is a broken store, answered as a fault, never null.
        detail = await info.context.loaders.invoices.load(self.invoice_id)
        if detail is None:
            raise MissingRecord(f"Invoice {self.invoice_id} of payment {self.id} is not in the read model")
        return Invoice.of(detail)


@strawberry.type(description="Someone the account bills.")
class Client:
    id: strawberry.ID = field(description="The client's id.")
    name: str = field(description="The client's name, as it appears on invoices.")
    email: str | None = field(description="Where emailed invoices go, unless a send names other addresses.")
    address: str | None = field(description="The postal address, printed on invoices.")
    tax_id: str | None = field(description="The client's tax number (VAT, NIF...), printed on invoices.")
    phone: str | None = field(description="A phone number.")
    notes: str | None = field(description="Notes for the account; not printed.")
    is_active: bool = field(description="False once deleted (a soft delete: the client stays for its invoices).")
    created_at: datetime = field(description="When the client was created.")
    updated_at: datetime = field(description="When the client last changed.")

    @classmethod
    def of(cls, view: ClientView) -> "Client":
        return filled(cls, view)

    @strawberry.field(
        description="The client's invoices, newest first: a page by number (page, limit) or after a cursor"
        " (first, after)."
    )
    async def invoices(
        self,
        info: GraphInfo,
        page: PAGE = 1,
        limit: LIMIT = 20,
        search: SEARCH = None,
        status: Annotated[
            InvoiceStatus | None, strawberry.argument(description="Only the invoices in this status.")
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
    ) -> "InvoicePage":
        size, cursor = paged(page, limit, first, after)
        query = InvoiceQuery(page, size, search, str(self.id), status.name if status else None, after=cursor)
        return await InvoicePage.read(info, query)

    @strawberry.field(description="Every event of the client, oldest first.")
    async def history(self, info: GraphInfo) -> list[HistoryEntry]:
        ctx = info.context
        entries = await run_in_threadpool(ctx.usecases.auditing.client_history, ctx.account, _uuid(self.id))
        return [HistoryEntry.of(entry, "client") for entry in entries]


def _uuid(value: str) -> UUID:
    return UUID(str(value))


# The detail's fields, loaded in one batch for a whole page: name -> (description, type or
# None for the view's, the view's attribute or None for the same name).
DETAIL: dict[str, tuple[str, Any, str | None]] = {
    **{name: (about, None, None) for name, about in INVOICE_TEXTS.items()},
    "sent_via_email": ("Whether a send emailed it.", None, None),
    "sent_at": ("When it was first sent; null while a draft.", None, None),
    "paid_at": ("When it became paid in full; null otherwise.", None, None),
    "viewed_at": ("When its share link was first opened.", None, None),
    "overdue_at": ("When it fell overdue.", None, None),
    "voided_at": ("When it was voided.", None, None),
    "void_reason": ("Why it was voided, as given.", None, None),
    "email_status": ("How its last emailed send is doing; null if never emailed.", EmailStatus | None, None),
    "email_error": ("The mail server's reply when the last emailed send failed.", None, "email_reply"),
    "version": ("The invoice's version: how many events it has.", None, None),
}
# The fields of an invoice that read its detail, and those that read its client (GraphQL
# names): a page whose rows select one is read with its rows' details or clients.
DETAIL_NAMES = frozenset({*(to_camel_case(name) for name in DETAIL), "lineItems", "shareUrl", "pdfWarnings"})
CLIENT_NAMES = frozenset({"client", "pdfWarnings"})


@strawberry.type(description="An invoice: its lines and totals, where it stands, and its client.")
@detail_fields(InvoiceDetail, DETAIL, after="line_items")
class Invoice:
    """Summary fields are the row's; detail fields load in one batch for a whole page."""

    id: strawberry.ID = field(description="The invoice's id.")
    client_id: strawberry.ID = field(description="The client billed.")
    invoice_number: str = field(description="Unique in the account (case-insensitive), e.g. INV-0042.")
    currency: Currency = field(description="The currency of every amount of the invoice.")
    issue_date: date = field(description="The date the invoice is issued on.")
    due_date: date = field(description="The date payment is due by; on or after issueDate.")
    subtotal: Decimal = field(description="The sum of the lines' amounts.")
    tax_total: Decimal = field(description="The tax of every line, summed, then rounded once.")
    discount_total: Decimal = field(description="The sum of the lines' discounts.")
    total: Decimal = field(description="Subtotal − discountTotal + taxTotal.")
    status: InvoiceStatus = field(description="Where the invoice stands, derived from what was recorded.")
    amount_paid: Decimal = field(description="The payments that count (reversed ones do not), summed.")
    balance_due: Decimal = field(description="What is still due: total − amountPaid; 0 on a void invoice.")
    created_at: datetime = field(description="When the invoice was created.")
    updated_at: datetime = field(description="When the invoice last changed.")
    known: strawberry.Private[InvoiceDetail | None] = None
    known_client: strawberry.Private[ClientView | None] = None  # the client now, read with the page
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
        current_client: ClientView | None = None,
    ) -> "Invoice":
        """From a list row, or from a detail (then its detail fields need no load; with
        ``payments``, a past version: its client, seller and payments are as they were).
        ``current_client`` is the client as it is now, when read with the page."""
        known = view if isinstance(view, InvoiceDetail) else None
        return filled(
            cls,
            view,
            known=known,
            known_client=current_client,
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

    def _from_detail(self, info: GraphInfo, read: Callable[[InvoiceDetail], R]) -> R | Awaitable[R]:
        """``read`` of the detail: at once when it is at hand (a page read with its details,
        a single invoice), else once the request's loader has it. A resolver returning
        this is a plain function: GraphQL awaits only what is an awaitable, so a page read
        with its details makes no coroutine per field."""
        if self.known is not None:
            return read(self.known)

        async def later() -> R:
            return read(await self._detail(info))

        return later()

    @strawberry.field(description="The lines, in order.", graphql_type=list[LineItem])
    def line_items(self, info: GraphInfo) -> list[LineView] | Awaitable[list[LineView]]:
        # The views themselves: LineItem's fields are LineView's attributes by name (the
        # type has no interface, so GraphQL reads any object's attributes), and a page's
        # hundreds of lines need no copy each (tests/integration/test_graphql_page_reads.py).
        return self._from_detail(info, lambda detail: detail.line_items)

    @strawberry.field(description="Where the client views it online, once it was sent.", graphql_type=str | None)
    def share_url(self, info: GraphInfo) -> str | None | Awaitable[str | None]:
        base = info.context.public_url
        return self._from_detail(info, lambda detail: f"{base}/i/{detail.share_token}" if detail.share_token else None)

    @strawberry.field(description="Characters of the invoice that no font of its PDF can draw.")
    async def pdf_warnings(self, info: GraphInfo) -> list[str]:
        detail = await self._detail(info)
        account = self.past_account if self.past_payments is not None else await info.context.loaders.account()
        return pdf_warnings(detail, await self._client_view(info), account)

    async def _client_view(self, info: GraphInfo) -> ClientView | None:
        if self.past_payments is not None:
            return self.past_client
        if self.known_client is not None:
            return self.known_client
        return await info.context.loaders.clients.load(str(self.client_id))

    @strawberry.field(
        description="The client billed; of a past version, the client as it was then.", graphql_type=Client
    )
    def client(self, info: GraphInfo) -> Client | Awaitable[Client]:
        if self.past_payments is not None and self.past_client is not None:
            return Client.of(self.past_client)
        if self.known_client is not None:  # read with the page
            return Client.of(self.known_client)
        return self._load_client(info)

    async def _load_client(self, info: GraphInfo) -> Client:
        # A client is never removed (a delete is a soft one) and an invoice needs one to be
        # created, so the current client is always there; a past version whose client cannot
        # be rebuilt at that moment (a clock stepped back) shows the client as it is now.
        found = await info.context.loaders.clients.load(str(self.client_id))
        if found is None:
            raise MissingRecord(f"Client {self.client_id} of invoice {self.id} is not in the read model")
        return Client.of(found)

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
        return [HistoryEntry.of(entry, "invoice") for entry in entries]


@strawberry.type(description="Where a page of a connection stands (Relay's Cursor Connections Specification).")
class PageInfo:
    has_next_page: bool = field(description="Whether rows follow this page: ask for them with after: endCursor.")
    has_previous_page: bool = field(description="Whether rows come before this page (it started after a cursor).")
    start_cursor: str | None = field(description="The first edge's cursor; null on an empty page.")
    end_cursor: str | None = field(description="The last edge's cursor; null on an empty page.")


@strawberry.type(description="A client and where it stands in the list.")
class ClientEdge:
    node: Client = field(description="The client.")
    cursor: str = field(description="Pass as `after` for the rows that follow this one.")


@strawberry.type(description="An invoice and where it stands in the list.")
class InvoiceEdge:
    node: Invoice = field(description="The invoice.")
    cursor: str = field(description="Pass as `after` for the rows that follow this one.")


def _listed(result: Page[ClientView] | Page[InvoiceSummary]) -> dict[str, object]:
    """The fields both page types fill the same way, their rows' cursors included."""
    keys = [cursors.encode(SortKey.of(view)) for view in result.items]
    more = result.has_next and bool(keys)
    return {
        "total": result.total,
        "page": result.page,
        "limit": result.limit,
        "total_pages": result.total_pages,
        "next_cursor": keys[-1] if more else None,
        "total_count": result.total,
        "page_info": PageInfo(
            has_next_page=more,
            has_previous_page=result.page > 1 or result.more is not None,  # a keyset page starts after a row
            start_cursor=keys[0] if keys else None,
            end_cursor=keys[-1] if keys else None,
        ),
        "row_cursors": keys,
    }


@strawberry.type(description="A page of active clients, newest first.")
class ClientPage:
    data: list[Client] = field(description="The clients of this page.")
    total: int = field(description="How many match, on every page.")
    page: int = field(description="This page's number (1 for a page after a cursor).")
    limit: int = field(description="Rows per page.")
    total_pages: int = field(description="How many pages: ceil(total / limit).")
    next_cursor: str | None = field(description="The `after` of the following page; null on the last page.")
    total_count: int = field(description="How many match (the connection's name for total).")
    page_info: PageInfo = field(description="Where this page stands, for the following one.")
    row_cursors: strawberry.Private[list[str]]

    @strawberry.field(description="The clients of this page, each with its cursor.")
    def edges(self) -> list[ClientEdge]:
        return [ClientEdge(node=node, cursor=key) for node, key in zip(self.data, self.row_cursors, strict=True)]

    @classmethod
    def of(cls, result: Page[ClientView]) -> "ClientPage":
        nodes = [Client.of(view) for view in result.items]
        return cls(data=nodes, **_listed(result))  # type: ignore[arg-type]


@strawberry.type(description="A page of invoices, newest first.")
class InvoicePage:
    data: list[Invoice] = field(description="The invoices of this page.")
    total: int = field(description="How many match, on every page.")
    page: int = field(description="This page's number (1 for a page after a cursor).")
    limit: int = field(description="Rows per page.")
    total_pages: int = field(description="How many pages: ceil(total / limit).")
    next_cursor: str | None = field(description="The `after` of the following page; null on the last page.")
    total_count: int = field(description="How many match (the connection's name for total).")
    page_info: PageInfo = field(description="Where this page stands, for the following one.")
    row_cursors: strawberry.Private[list[str]]

    @strawberry.field(description="The invoices of this page, each with its cursor.")
    def edges(self) -> list[InvoiceEdge]:
        return [InvoiceEdge(node=node, cursor=key) for node, key in zip(self.data, self.row_cursors, strict=True)]

    @classmethod
    def of(cls, result: Page[InvoiceSummary], clients: dict[str, ClientView] | None = None) -> "InvoicePage":
        """From a page of rows (summaries or details), with their clients when read with it."""
        found = clients or {}
        nodes = [Invoice.of(view, current_client=found.get(view.client_id)) for view in result.items]
        return cls(data=nodes, **_listed(result))  # type: ignore[arg-type]

    @classmethod
    async def read(cls, info: GraphInfo, query: InvoiceQuery) -> "InvoicePage":
        """The page ``query`` names, read with the details and clients its rows select (one
        call, one snapshot), so the rows' fields resolve without loading anything more."""
        ctx = info.context
        want = wanted(info, DETAIL_NAMES, CLIENT_NAMES)
        if not (want.details or want.clients):
            return cls.of(await run_in_threadpool(ctx.usecases.invoices.list, ctx.account, query))
        listing = await run_in_threadpool(
            lambda: ctx.usecases.invoices.listing(ctx.account, query, details=want.details, clients=want.clients)
        )
        return cls.of(listing.page, listing.clients)

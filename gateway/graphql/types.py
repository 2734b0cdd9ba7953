"""The schema's object types, with the REST JSON field names (strawberry writes
``tax_id`` as ``taxId``). Each is built from the read model's views; relations resolve
through the request's loaders, so a page and its relations cost a constant number of
queries. Every type, field and argument is described: GraphiQL's Docs panel and
generated clients show the text."""

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON
from strawberry.types import Info

from gateway.graphql.changes import FeedChanges, HistoryChanges, typed_changes
from gateway.graphql.enums import ActorType, Currency, EmailStatus, HistoryEntryType, InvoiceStatus, ResourceType
from gateway.graphql.inputs import INVOICE_TEXTS
from gateway.graphql.lines import LineItem
from gateway.graphql.paging import AFTER, FIRST, LIMIT, PAGE, SEARCH, paged
from gateway.graphql.viewed import detail_fields, filled
from pdf.coverage import pdf_warnings
from usecases.inputs import InvoiceQuery
from usecases.views import AccountView, ClientView, InvoiceDetail, InvoiceSummary, PaymentView

if TYPE_CHECKING:
    from gateway.graphql.context import Context
    from gateway.graphql.pages import InvoicePage

    GraphInfo = Info[Context, None]
else:
    GraphInfo = Info

Day = date  # a field named "date" must not shadow the type in its own annotation
InvoicePageType = Annotated["InvoicePage", strawberry.lazy("gateway.graphql.pages")]
field = strawberry.field


class MissingRecord(RuntimeError):
    """A record that always exists is not there: a fault of the store, answered as INTERNAL
    (and logged), never as a null the schema says cannot happen."""


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


TYPED_CHANGES = (
    "The same changes and previous values, typed by the event: one type per record kind and event type"
    " (InvoiceSentChanges...), told apart by __typename."
)


@strawberry.type(description="Who made a change.")
class Actor:
    type: ActorType = field(description="What kind of actor.")
    id: str | None = field(default=None, description="The key's or owner's id, or the operating-system user.")
    name: str | None = field(
        default=None, description="The key's label, the owner's email, the command, or the part of the service."
    )


@strawberry.type(description="One event of a record: what changed, when, and who changed it.")
class HistoryEntry:
    version: int = field(description="The record's events counted from 1: this is the record at that version.")
    type: HistoryEntryType = field(description="What the event did, as a business word.")
    occurred_at: datetime = field(description="When the event was recorded.")
    actor: Actor = field(description="Who made the change.")
    changes: JSON = field(
        description="Every field the event changed, in the detail's wire names and formats, and what the event"
        " itself carries (a payment, a send's recipients...)."
    )
    previous: JSON = field(description="The old values of the changed fields.")
    kind: strawberry.Private[str]  # the record's kind: invoice, client or account
    told: strawberry.Private[dict[str, Any]]  # the entry as the use case told it

    @strawberry.field(description=TYPED_CHANGES)
    def typed_changes(self) -> HistoryChanges:
        return typed_changes(self.kind, self.told["type"], self.told["changes"], self.told["previous"])

    @classmethod
    def of(cls, entry: dict[str, Any], resource: str) -> "HistoryEntry":
        """An entry of the history of a record of kind ``resource`` (invoice, client)."""
        actor = entry["actor"]
        return cls(
            version=int(entry["version"]),
            type=HistoryEntryType(entry["type"]),
            occurred_at=_moment(entry["occurredAt"]),
            actor=Actor(type=ActorType(actor["type"]), id=actor.get("id"), name=actor.get("name")),
            changes=_plain(entry["changes"]),
            previous=_plain(entry["previous"]),
            kind=resource,
            told=entry,
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


@strawberry.type(description="The record an event belongs to.")
class Resource:
    type: ResourceType = field(description="The kind of record.")
    id: strawberry.ID = field(description="The record's id (the account's own for an account event).")


@strawberry.type(description="An event of the account's feed: a history entry, where it stands, and its record.")
class AccountEvent(HistoryEntry):
    position: int = field(description="The event's commit position: it only grows. Pass it as `after` to resume.")
    resource: Resource = field(description="The record the event belongs to.")

    @strawberry.field(description=TYPED_CHANGES)
    def typed_changes(self) -> FeedChanges:  # of any kind, the account's too
        return typed_changes(self.kind, self.told["type"], self.told["changes"], self.told["previous"])

    @classmethod
    def of(cls, entry: dict[str, Any]) -> "AccountEvent":  # type: ignore[override]  # the kind is the entry's
        told = HistoryEntry.of(entry, entry["resource"]["type"])
        return cls(
            **vars(told),
            position=int(entry["position"]),
            resource=Resource(type=ResourceType(entry["resource"]["type"]), id=strawberry.ID(entry["resource"]["id"])),
        )


@strawberry.type(description="A page of the account's events, in commit order.")
class EventPage:
    data: list[AccountEvent] = field(description="The events after the position asked for, oldest first.")
    next: int = field(
        description="The `after` of the following page; a page that comes back empty keeps it, to resume later."
    )


@strawberry.type(description="The account's ledger digest: what an auditor keeps to prove later that nothing changed.")
class LedgerDigest:
    account_id: strawberry.ID = field(description="The account.")
    position: int = field(description="The commit position of the account's latest event.")
    digest: str = field(description="The running SHA-256 digest over the account's events: 64 lowercase hex digits.")
    at: datetime = field(description="When that event was recorded.")


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
    ) -> InvoicePageType:
        from gateway.graphql.pages import InvoicePage

        ctx = info.context
        size, cursor = paged(page, limit, first, after)
        query = InvoiceQuery(page, size, search, str(self.id), status.name if status else None, after=cursor)
        return InvoicePage.of(await run_in_threadpool(ctx.usecases.invoices.list, ctx.account, query))

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
        known = view if isinstance(view, InvoiceDetail) else None
        return filled(cls, view, known=known, past_client=client, past_account=account, past_payments=payments)

    async def _detail(self, info: GraphInfo) -> InvoiceDetail:
        if self.known is None:
            found = await info.context.loaders.invoices.load(str(self.id))
            if found is None:  # deleted between the page and this field
                raise LookupError("Invoice not found")
            self.known = found
        return self.known

    @strawberry.field(description="The lines, in order.")
    async def line_items(self, info: GraphInfo) -> list[LineItem]:
        return [LineItem.of(line) for line in (await self._detail(info)).line_items]

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

    @strawberry.field(description="The client billed; of a past version, the client as it was then.")
    async def client(self, info: GraphInfo) -> Client:
        if self.past_payments is not None and self.past_client is not None:
            return Client.of(self.past_client)
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

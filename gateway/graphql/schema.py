"""The GraphQL schema: every query and mutation is one call of the same use cases REST
calls, so the two doors share rules, errors and data. ``schema.graphql`` at the
repository root is this schema's SDL (``python -m gateway.graphql.sdl`` writes it)."""

import asyncio
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

import strawberry
from starlette.concurrency import run_in_threadpool

from domain.errors import NotFound
from domain.versions import Expected
from gateway.graphql.context import Context
from gateway.graphql.costs import query_limits as query_limits  # where the app and tests look for it
from gateway.graphql.enums import InvoiceStatus
from gateway.graphql.errors import CodedSchema
from gateway.graphql.history import AccountEvent, EventPage, LedgerDigest
from gateway.graphql.inputs import (
    ClientInput,
    ClientUpdateInput,
    InvoiceInput,
    InvoiceUpdateInput,
    PaymentInput,
    SendInvoiceInput,
)
from gateway.graphql.keyed import CLIENT, DONE, INVOICE, KEY_DESCRIPTION, PAYMENT, keyed
from gateway.graphql.limits import GraphQLLimits, limit_extensions, strawberry_config
from gateway.graphql.paging import AFTER, FIRST, LIMIT, PAGE, SEARCH, paged
from gateway.graphql.scalars import SCALARS
from gateway.graphql.transport import OperationsFitTransport
from gateway.graphql.types import Client, ClientPage, GraphInfo, Invoice, InvoicePage, Payment
from usecases.auditing import FEED_LIMIT, FEED_MAX
from usecases.errors import Unauthenticated
from usecases.inputs import InvoiceQuery, ListQuery
from usecases.invoices import InvoiceRead, Moment

T = TypeVar("T")
FOLLOW_SECONDS = 0.5  # how often a subscription looks for new events


def _id(value: strawberry.ID, missing: str) -> UUID:
    """An id argument; one that is no UUID names nothing (NOT_FOUND, as REST's 404)."""
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(missing) from None


async def _run(use_case: Callable[..., T], *args: Any) -> T:
    return await run_in_threadpool(use_case, *args)


async def _still_valid(ctx: Context) -> None:
    """A subscription ends when the key that opened its socket is revoked."""
    if ctx.key_id is None:
        return
    key = await run_in_threadpool(ctx.usecases.keys.get, ctx.key_id)
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("Invalid or revoked API key")


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


INVOICE_ID = Annotated[strawberry.ID, _arg("The invoice's id.")]
CLIENT_ID = Annotated[strawberry.ID, _arg("The client's id.")]
IDEMPOTENCY_KEY = Annotated[str | None, _arg(KEY_DESCRIPTION)]
EXPECTED_VERSION = Annotated[
    int | None,
    _arg(
        "The record's version as last read (an invoice's `version`, the last `version` of a client's"
        " `history`): the change is refused with CONFLICT, changing nothing, if the record has changed"
        " since. REST's If-Match."
    ),
]


def _expected(version: int | None) -> Expected:
    return None if version is None else frozenset({version})


def _with(arguments: dict[str, Any], expected_version: int | None) -> dict[str, Any]:
    """The arguments an idempotency key is bound to: expectedVersion among them when given."""
    return arguments if expected_version is None else {**arguments, "expectedVersion": expected_version}


def _invoice(read: InvoiceRead, past: bool) -> Invoice:
    if past:
        return Invoice.of(read.invoice, client=read.client, account=read.account, payments=read.payments or [])
    return Invoice.of(read.invoice)


@strawberry.type(description="What the API key's account can read.")
class Query:
    @strawberry.field(
        description="Active clients, newest first: a page by number (page, limit) or after a cursor (first, after)."
    )
    async def clients(
        self,
        info: GraphInfo,
        page: PAGE = 1,
        limit: LIMIT = 20,
        search: SEARCH = None,
        first: FIRST = None,
        after: AFTER = None,
    ) -> ClientPage:
        ctx = info.context
        size, cursor = paged(page, limit, first, after)
        query = ListQuery(page, size, search, after=cursor)
        return ClientPage.of(await _run(ctx.usecases.clients.list, ctx.account, query))

    @strawberry.field(
        description="One client, deactivated ones too; null, with a NOT_FOUND error, when the id names none of the"
        " account's."
    )
    async def client(self, info: GraphInfo, id: CLIENT_ID) -> Client | None:
        ctx = info.context
        return Client.of(await _run(ctx.usecases.clients.get, ctx.account, _id(id, "Client not found")))

    @strawberry.field(
        description="Invoices, newest first: a page by number (page, limit) or after a cursor (first, after)."
    )
    async def invoices(
        self,
        info: GraphInfo,
        page: PAGE = 1,
        limit: LIMIT = 20,
        search: SEARCH = None,
        client_id: Annotated[
            strawberry.ID | None, _arg("Only this client's invoices (none for an unknown id).")
        ] = None,
        status: Annotated[InvoiceStatus | None, _arg("Only the invoices in this status.")] = None,
        first: FIRST = None,
        after: AFTER = None,
    ) -> InvoicePage:
        size, cursor = paged(page, limit, first, after)
        client = None if client_id is None else str(client_id)
        query = InvoiceQuery(page, size, search, client, status and status.name, after=cursor)
        return await InvoicePage.read(info, query)

    @strawberry.field(
        description="One invoice: now, at a version, or as of a moment (rebuilt from its events); null, with a"
        " NOT_FOUND error, when none of the account's is there."
    )
    async def invoice(
        self,
        info: GraphInfo,
        id: INVOICE_ID,
        version: Annotated[int | None, _arg("The invoice at this version (its events counted from 1).")] = None,
        as_of: Annotated[datetime | None, _arg("The invoice as it was at this moment (not with version).")] = None,
    ) -> Invoice | None:
        ctx = info.context
        moment = Moment(version, as_of)
        read = await _run(ctx.usecases.invoices.get, ctx.account, _id(id, "Invoice not found"), moment)
        return _invoice(read, moment.past)

    @strawberry.field(description="The account's events after a position, in commit order; pass `next` on.")
    async def events(
        self,
        info: GraphInfo,
        after: Annotated[int, _arg("The position to follow: 0, or a page's `next`.")] = 0,
        limit: Annotated[int, _arg(f"Events at most, 1 to {FEED_MAX}.")] = FEED_LIMIT,
    ) -> EventPage:
        ctx = info.context
        page = await _run(ctx.usecases.auditing.feed, ctx.account, after, limit)
        return EventPage(data=[AccountEvent.of(entry) for entry in page.data], next=page.next)

    @strawberry.field(description="The account's ledger digest after its latest event: keep it to verify later.")
    async def ledger_digest(self, info: GraphInfo) -> LedgerDigest:
        ctx = info.context
        found = await _run(ctx.usecases.auditing.digest, ctx.account)
        return LedgerDigest(
            account_id=strawberry.ID(str(ctx.account)), position=found.position, digest=found.digest, at=found.at
        )


NEW_CLIENT = Annotated[ClientInput, _arg("The new client.")]
CLIENT_CHANGES = Annotated[ClientUpdateInput, _arg("The fields to change.")]
NEW_INVOICE = Annotated[InvoiceInput, _arg("The new invoice.")]
INVOICE_CHANGES = Annotated[InvoiceUpdateInput, _arg("The fields to change.")]


@strawberry.type(description="What the API key's account can change. Each returns what it changed.")
class Mutation:
    @strawberry.mutation(description="A new client; subject to the plan's client limit.")
    async def create_client(
        self, info: GraphInfo, input: NEW_CLIENT, idempotency_key: IDEMPOTENCY_KEY = None
    ) -> Client:
        ctx = info.context
        run = lambda: _run(ctx.usecases.clients.create, ctx.account, input.use())  # noqa: E731
        return Client.of(await keyed(info, idempotency_key, "createClient", {"input": input}, CLIENT, run))

    @strawberry.mutation(description="Changes a client: the fields given; reactivating counts against the plan.")
    async def update_client(
        self,
        info: GraphInfo,
        id: CLIENT_ID,
        input: CLIENT_CHANGES,
        idempotency_key: IDEMPOTENCY_KEY = None,
        expected_version: EXPECTED_VERSION = None,
    ) -> Client:
        ctx = info.context
        client_id, expected = _id(id, "Client not found"), _expected(expected_version)
        run = lambda: _run(ctx.usecases.clients.update, ctx.account, client_id, input.use(), expected)  # noqa: E731
        arguments = _with({"id": id, "input": input}, expected_version)
        return Client.of(await keyed(info, idempotency_key, "updateClient", arguments, CLIENT, run))

    @strawberry.mutation(description="Soft delete: the client stays, inactive, for its invoices.")
    async def delete_client(
        self,
        info: GraphInfo,
        id: CLIENT_ID,
        idempotency_key: IDEMPOTENCY_KEY = None,
        expected_version: EXPECTED_VERSION = None,
    ) -> bool:
        ctx = info.context
        client_id, expected = _id(id, "Client not found"), _expected(expected_version)

        async def run() -> bool:
            await _run(ctx.usecases.clients.delete, ctx.account, client_id, expected)
            return True

        arguments = _with({"id": id}, expected_version)
        return await keyed(info, idempotency_key, "deleteClient", arguments, DONE, run)

    @strawberry.mutation(description="A DRAFT; the number is the account's next one when not given.")
    async def create_invoice(
        self, info: GraphInfo, input: NEW_INVOICE, idempotency_key: IDEMPOTENCY_KEY = None
    ) -> Invoice:
        ctx = info.context
        run = lambda: _run(ctx.usecases.invoices.create, ctx.account, input.use())  # noqa: E731
        return Invoice.of(await keyed(info, idempotency_key, "createInvoice", {"input": input}, INVOICE, run))

    @strawberry.mutation(description="Changes a DRAFT: the fields given, repriced.")
    async def update_invoice(
        self,
        info: GraphInfo,
        id: INVOICE_ID,
        input: INVOICE_CHANGES,
        idempotency_key: IDEMPOTENCY_KEY = None,
        expected_version: EXPECTED_VERSION = None,
    ) -> Invoice:
        ctx = info.context
        invoice_id, expected = _id(id, "Invoice not found"), _expected(expected_version)
        run = lambda: _run(ctx.usecases.invoices.update, ctx.account, invoice_id, input.use(), expected)  # noqa: E731
        arguments = _with({"id": id, "input": input}, expected_version)
        return Invoice.of(await keyed(info, idempotency_key, "updateInvoice", arguments, INVOICE, run))

    @strawberry.mutation(description="A DRAFT, for good with its PDF; its history stays in the ledger.")
    async def delete_invoice(
        self,
        info: GraphInfo,
        id: INVOICE_ID,
        idempotency_key: IDEMPOTENCY_KEY = None,
        expected_version: EXPECTED_VERSION = None,
    ) -> bool:
        ctx = info.context
        invoice_id, expected = _id(id, "Invoice not found"), _expected(expected_version)

        async def run() -> bool:
            await _run(ctx.usecases.invoices.delete, ctx.account, invoice_id, expected)
            return True

        arguments = _with({"id": id}, expected_version)
        return await keyed(info, idempotency_key, "deleteInvoice", arguments, DONE, run)

    @strawberry.mutation(description="DRAFT -> SENT, or a re-send; with email: true the workers email it.")
    async def send_invoice(
        self,
        info: GraphInfo,
        id: INVOICE_ID,
        input: Annotated[SendInvoiceInput | None, _arg("How to send it; none: mark it sent, no email.")] = None,
        idempotency_key: IDEMPOTENCY_KEY = None,
        expected_version: EXPECTED_VERSION = None,
    ) -> Invoice:
        ctx = info.context
        invoice_id, expected = _id(id, "Invoice not found"), _expected(expected_version)
        sending = (input or SendInvoiceInput()).use()
        run = lambda: _run(ctx.usecases.lifecycle.send, ctx.account, invoice_id, sending, expected)  # noqa: E731
        arguments = _with({"id": id, "input": input}, expected_version)
        return Invoice.of(await keyed(info, idempotency_key, "sendInvoice", arguments, INVOICE, run))

    @strawberry.mutation(description="Records a payment of an issued invoice: at most its balance due.")
    async def record_payment(
        self,
        info: GraphInfo,
        id: INVOICE_ID,
        input: Annotated[PaymentInput, _arg("The payment.")],
        idempotency_key: IDEMPOTENCY_KEY = None,
        expected_version: EXPECTED_VERSION = None,
    ) -> Payment:
        ctx = info.context
        invoice_id, expected = _id(id, "Invoice not found"), _expected(expected_version)
        record = ctx.usecases.lifecycle.record_payment
        run = lambda: _run(record, ctx.account, invoice_id, input.use(), expected)  # noqa: E731
        arguments = _with({"id": id, "input": input}, expected_version)
        answer = await keyed(info, idempotency_key, "recordPayment", arguments, PAYMENT, run)
        return Payment.of(answer.payment, answer.invoice)

    @strawberry.mutation(description="Records that a payment was a mistake; the payment stays on record.")
    async def reverse_payment(
        self,
        info: GraphInfo,
        id: INVOICE_ID,
        payment_id: Annotated[strawberry.ID, _arg("The payment's id.")],
        idempotency_key: IDEMPOTENCY_KEY = None,
        expected_version: EXPECTED_VERSION = None,
    ) -> Payment:
        ctx = info.context
        invoice_id, paid = _id(id, "Invoice not found"), _id(payment_id, "Payment not found")
        expected = _expected(expected_version)
        reverse = ctx.usecases.lifecycle.reverse_payment
        run = lambda: _run(reverse, ctx.account, invoice_id, paid, expected)  # noqa: E731
        arguments = _with({"id": id, "paymentId": payment_id}, expected_version)
        answer = await keyed(info, idempotency_key, "reversePayment", arguments, PAYMENT, run)
        return Payment.of(answer.payment, answer.invoice)

    @strawberry.mutation(description="Voids an issued, not fully paid invoice: final, kept on record.")
    async def void_invoice(
        self,
        info: GraphInfo,
        id: INVOICE_ID,
        reason: Annotated[str | None, _arg("Why, for the record.")] = None,
        idempotency_key: IDEMPOTENCY_KEY = None,
        expected_version: EXPECTED_VERSION = None,
    ) -> Invoice:
        ctx = info.context
        invoice_id, expected = _id(id, "Invoice not found"), _expected(expected_version)
        run = lambda: _run(ctx.usecases.lifecycle.void, ctx.account, invoice_id, reason, expected)  # noqa: E731
        arguments = _with({"id": id, "reason": reason}, expected_version)
        return Invoice.of(await keyed(info, idempotency_key, "voidInvoice", arguments, INVOICE, run))


@strawberry.type(description="What the API key's account can follow as it happens (over a websocket).")
class Subscription:
    @strawberry.subscription(
        description="The account's events as they are recorded, after a position: resume from the last one seen."
    )
    async def account_events(
        self, info: GraphInfo, after: Annotated[int, _arg("The position to follow: 0, or the last one seen.")] = 0
    ) -> AsyncGenerator[AccountEvent, None]:
        ctx = info.context
        feed = ctx.usecases.auditing.feed
        cursor = after
        while True:
            page = await _run(feed, ctx.account, cursor, FEED_LIMIT)
            for entry in page.data:
                yield AccountEvent.of(entry)
            cursor = page.next
            if not page.data:
                await _still_valid(ctx)
                await asyncio.sleep(FOLLOW_SECONDS)


def build_schema(limits: GraphQLLimits | None = None) -> strawberry.Schema:
    """The schema, every error coded, every operation measured against ``limits`` before
    it runs (the defaults when None)."""
    limits = limits or query_limits()
    return CodedSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[OperationsFitTransport, *limit_extensions(limits)],
        config=strawberry_config(limits, auto_camel_case=True, scalar_map=SCALARS),
    )

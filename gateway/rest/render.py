"""Read-model records as the contract's response Structs (``gateway.rest.contract.responses``)."""

from typing import Any, TypeVar

import msgspec

from gateway.rest.contract import history_shapes as h
from gateway.rest.contract import responses as r
from pdf.coverage import pdf_warnings
from projections.ledger_index import LedgerDigest
from projections.views import AccountView, ClientView, InvoiceDetail, InvoiceSummary, LineView, PaymentView, SortKey
from projections.views import Page as ViewPage
from usecases import cursors
from usecases.lifecycle import PaymentAnswer
from usecases.wire import timestamp

P = TypeVar("P", r.ClientPage, r.InvoicePage)


def _at(moment: Any) -> str:
    stamped = timestamp(moment)
    assert stamped is not None
    return stamped


def client(view: ClientView) -> r.Client:
    return r.Client(
        id=view.id,
        name=view.name,
        email=view.email,
        address=view.address,
        tax_id=view.tax_id,
        phone=view.phone,
        notes=view.notes,
        is_active=view.is_active,
        created_at=_at(view.created_at),
        updated_at=_at(view.updated_at),
    )


def next_cursor(result: ViewPage[ClientView] | ViewPage[InvoiceSummary]) -> str | None:
    """The ``after`` of the page that follows ``result``: its last row's key; None on the last page."""
    if not result.has_next or not result.items:
        return None
    return cursors.encode(SortKey.of(result.items[-1]))


def _page(result: ViewPage[Any], data: list[Any], kind: type[P]) -> P:
    return kind(
        data=data,
        total=result.total,
        page=result.page,
        limit=result.limit,
        total_pages=result.total_pages,
        next_cursor=next_cursor(result),
    )


def client_page(result: ViewPage[ClientView]) -> r.ClientPage:
    return _page(result, [client(row) for row in result.items], r.ClientPage)


def invoice_brief(view: InvoiceSummary) -> r.InvoiceBrief:
    return r.InvoiceBrief(id=view.id, invoice_number=view.invoice_number, total=view.total, status=view.status)


def _summary_fields(view: InvoiceSummary) -> dict[str, Any]:
    return {
        "id": view.id,
        "client_id": view.client_id,
        "invoice_number": view.invoice_number,
        "currency": view.currency,
        "issue_date": view.issue_date.isoformat(),
        "due_date": view.due_date.isoformat(),
        "subtotal": view.subtotal,
        "tax_total": view.tax_total,
        "discount_total": view.discount_total,
        "total": view.total,
        "status": view.status,
        "amount_paid": view.amount_paid,
        "balance_due": view.balance_due,
        "created_at": _at(view.created_at),
        "updated_at": _at(view.updated_at),
        "client": r.BilledClient(name=view.client_name, email=view.client_email),
    }


def invoice_summary(view: InvoiceSummary) -> r.InvoiceSummary:
    return r.InvoiceSummary(**_summary_fields(view))


def invoice_page(result: ViewPage[InvoiceSummary]) -> r.InvoicePage:
    return _page(result, [invoice_summary(row) for row in result.items], r.InvoicePage)


def line_item(line: LineView) -> r.LineItem:
    return r.LineItem(
        description=line.description,
        quantity=line.quantity,
        unit_price=line.unit_price,
        amount=line.amount,
        tax_rate=line.tax_rate,
        discount_rate=line.discount_rate,
        discount=line.discount,
    )


def share_url(view: InvoiceDetail, public_url: str) -> str | None:
    return f"{public_url}/i/{view.share_token}" if view.share_token else None


def invoice_detail(
    view: InvoiceDetail, public_url: str, client: ClientView | None = None, account: AccountView | None = None
) -> r.InvoiceDetail:
    """The detail; ``client`` and ``account`` let pdfWarnings cover what the PDF shows of them."""
    return r.InvoiceDetail(
        **_summary_fields(view),
        line_items=[line_item(line) for line in view.line_items],
        notes=view.notes,
        terms=view.terms,
        sent_via_email=view.sent_via_email,
        sent_at=timestamp(view.sent_at),
        paid_at=timestamp(view.paid_at),
        viewed_at=timestamp(view.viewed_at),
        overdue_at=timestamp(view.overdue_at),
        voided_at=timestamp(view.voided_at),
        void_reason=view.void_reason,
        share_url=share_url(view, public_url),
        email_status=view.email_status,  # type: ignore[arg-type]  # the read model holds one of the three
        email_error=view.email_reply,
        # characters of the invoice's own fields its PDF draws as U+FFFD (pdf/coverage.py)
        pdf_warnings=pdf_warnings(view, client, account),
    )


def _payment_fields(view: PaymentView) -> dict[str, Any]:
    return {
        "id": view.id,
        "amount": view.amount,
        "date": view.paid_on.isoformat(),
        "method": view.method,
        "reference": view.reference,
        "created_at": _at(view.recorded_at),
        "reversed_at": timestamp(view.reversed_at),
    }


def payment(view: PaymentView) -> r.Payment:
    return r.Payment(**_payment_fields(view))


def payment_answer(answer: PaymentAnswer) -> r.PaymentAnswer:
    """The payment, with where its invoice now stands."""
    invoice = answer.invoice
    standing = r.Standing(
        id=invoice.id,
        status=invoice.status,
        amount_paid=invoice.amount_paid,
        balance_due=invoice.balance_due,
        paid_at=timestamp(invoice.paid_at),
    )
    return r.PaymentAnswer(**_payment_fields(answer.payment), invoice=standing)


def history(kind: str, entries: list[dict[str, Any]]) -> h.InvoiceHistory | h.ClientHistory:
    """A record's history entries as the use cases tell them (``usecases.history``), each
    checked on the way out against its event type's shape (``usecases.change_shapes``)."""
    answer = h.HISTORIES[kind]
    return answer(data=msgspec.convert(entries, answer.__annotations__["data"]))


def feed(entries: list[dict[str, Any]], next_after: int) -> h.Feed:
    tagged = [{"event": h.feed_event(entry["resource"]["type"], entry["type"]), **entry} for entry in entries]
    return h.Feed(data=msgspec.convert(tagged, list[h.FEED_ENTRY]), next=next_after)


def digest(account_id: str, found: LedgerDigest) -> r.LedgerDigest:
    return r.LedgerDigest(account_id=account_id, position=found.position, digest=found.digest, at=_at(found.at))

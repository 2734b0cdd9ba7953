"""Invoices as drafted: the rows of ``invoices`` and their lines, made, changed and
deleted, and the lists' counts they enter and leave. What happens to an invoice once it
is sent is ``projections.handlers.lifecycle``."""

from typing import Any

from sqlalchemy import Connection, delete, select, update

from domain.invoice import TEXTS
from domain.money import LineItem
from projections.folding import fold
from projections.handlers.events import Changed, Invoice, InvoiceCreated, Recorded
from projections.handlers.registry import Handlers
from projections.handlers.rows import Rows
from projections.handlers.times import naive_utc, zero_like

handlers = Handlers()


def texts(e: object) -> dict[str, str | None]:
    """An invoice's texts (``domain.invoice.TEXTS``) and the folded copies search reads; an
    event recorded before a text existed has none."""
    return text_columns({text.name: getattr(e, text.name, None) for text in TEXTS})


def text_columns(values: dict[str, Any]) -> dict[str, Any]:
    """The texts' columns from their values by name (``texts``; a rebuild reads them from
    the stored JSON: ``handlers.replay_rows``)."""
    return {**values, **folded(values)}


def folded(values: dict[str, Any]) -> dict[str, str]:
    """The folded copies of the searchable texts among ``values``."""
    return {f"{text.name}_folded": fold(values[text.name]) for text in TEXTS if text.searchable and text.name in values}


def line_rows(invoice_id: str, lines: list[LineItem]) -> list[dict[str, Any]]:
    return [
        {
            "invoice_id": invoice_id,
            "position": position,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "tax_rate": line.tax_rate,
            "amount": line.amount,
            "discount_rate": line.discount_rate,
            "discount": line.discount,
        }
        for position, line in enumerate(lines)
    ]


@handlers.handles(Invoice.InvoiceCreated, adds_only=True)
def invoice_created(rows: Rows, conn: Connection, e: InvoiceCreated) -> None:
    at = naive_utc(e.timestamp)
    invoice_id = str(e.originator_id)
    rows.new["invoices"].append(
        {
            "id": invoice_id,
            "account_id": str(e.account_id),
            "client_id": str(e.client_id),
            "invoice_number": e.number,
            "currency": e.currency,
            "issue_date": e.issue_date,
            "due_date": e.due_date,
            "subtotal": e.subtotal,
            "tax_total": e.tax_total,
            "discount_total": e.discount_total,
            "total": e.total,
            "status": "DRAFT",
            "amount_paid": zero_like(e.total),
            "sends": 0,
            "balance_due": e.total,
            **texts(e),
            "sent_via_email": False,
            "version": e.originator_version,
            "created_at": at,
            "updated_at": at,
            "number_folded": fold(e.number),
            **rows.client_columns(conn, str(e.client_id)),
        }
    )
    rows.new["lines"].extend(line_rows(invoice_id, e.line_items))
    rows.count_invoice({"account_id": e.account_id, "client_id": e.client_id, "status": "DRAFT"}, 1)


@handlers.handles(Invoice.InvoiceUpdated)
def invoice_updated(rows: Rows, conn: Connection, e: Changed) -> None:
    t = rows.t
    invoice_id = str(e.originator_id)
    values: dict[str, Any] = dict(e.changes)
    if "number" in values:
        values["invoice_number"] = values.pop("number")
        values["number_folded"] = fold(values["invoice_number"])
    values.update(folded(values))
    moved = "client_id" in values
    if moved:
        values["client_id"] = str(values["client_id"])
        values.update(rows.client_columns(conn, values["client_id"]))
        before = conn.execute(
            select(t.invoices.c.account_id, t.invoices.c.client_id, t.invoices.c.status).where(
                t.invoices.c.id == invoice_id
            )
        ).one()
        rows.count_invoice(before._mapping, -1)
        rows.count_invoice({**before._mapping, "client_id": values["client_id"]}, 1)
    searched = moved or "invoice_number" in values or any(f"{text.name}_folded" in values for text in TEXTS)
    if searched:
        rows.unindex(conn, t.invoices, "id", invoice_id)
    if "total" in values:  # only a draft changes, and a draft has nothing paid
        values["balance_due"] = values["total"]
    lines = values.pop("line_items", None)
    if lines is not None:
        conn.execute(delete(t.line_items).where(t.line_items.c.invoice_id == invoice_id))
        rows.insert(conn, t.line_items, line_rows(invoice_id, lines))
    conn.execute(
        update(t.invoices)
        .where(t.invoices.c.id == invoice_id)
        .values(**values, version=e.originator_version, updated_at=naive_utc(e.timestamp))
    )
    if searched:
        rows.reindex(conn, t.invoices, "id", invoice_id)


@handlers.handles(Invoice.InvoiceDeleted)
def invoice_deleted(rows: Rows, conn: Connection, e: Recorded) -> None:
    t = rows.t
    invoice_id = str(e.originator_id)
    listed = select(t.invoices.c.account_id, t.invoices.c.client_id, t.invoices.c.status)
    row = conn.execute(listed.where(t.invoices.c.id == invoice_id)).one()
    rows.count_invoice(row._mapping, -1)
    rows.unindex(conn, t.invoices, "id", invoice_id)
    conn.execute(delete(t.line_items).where(t.line_items.c.invoice_id == invoice_id))
    conn.execute(delete(t.payments).where(t.payments.c.invoice_id == invoice_id))
    conn.execute(delete(t.invoices).where(t.invoices.c.id == invoice_id))

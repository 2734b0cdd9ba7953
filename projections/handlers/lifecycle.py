"""An invoice's life once drafted: sent, viewed, overdue, voided, paid and reversed, and
its email's outcome. Each event writes its new facts and the status and balance that
follow from all of them (``domain.lifecycle``) in one UPDATE."""

from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import NoResultFound

from domain.lifecycle import Facts, derive_status
from projections.handlers.events import (
    EmailOutcome,
    Happened,
    Invoice,
    InvoiceSent,
    InvoiceVoided,
    PaymentRecorded,
    PaymentReversed,
)
from projections.handlers.registry import Handlers
from projections.handlers.rows import Rows
from projections.handlers.times import naive_utc, zero_like

handlers = Handlers()


def _lifecycle(
    rows: Rows,
    conn: Connection,
    e: Happened,
    values: dict[str, Any],
    *,
    sent_at: datetime | None = None,
    settle: bool = False,
) -> None:
    """Writes new facts, then the status and balance that follow from all of them, in one
    UPDATE. ``sent_at``: the moment of a send, kept only if it is the first. ``settle``:
    ``paidAt`` follows the balance (when it reached zero; a reversal that reopens it clears it)."""
    invoice_id = str(e.originator_id)
    known = rows.invoice_facts(conn, invoice_id)
    if known is None:
        raise NoResultFound(f"No invoice {invoice_id} in the read model for {type(e).__qualname__}")
    found, amounts = known
    if sent_at is not None:
        settle = found["sent_at"] is None  # issued with nothing to pay (a zero total): paid as it is sent
        values["sent_at"] = found["sent_at"] or sent_at
    row = {**found, **values}
    total = row["total"]
    amount_paid = sum(amounts, zero_like(total))
    facts = Facts(row["sent_at"], row["viewed_at"], row["overdue_at"], row["voided_at"], amount_paid, total)
    balance_due = zero_like(total) if row["voided_at"] is not None else total - amount_paid  # void: none
    status = derive_status(facts)
    if status != row["status"]:
        rows.count_invoice(row, -1)
        rows.count_invoice({**row, "status": status}, 1)
    values.update(
        status=status,
        amount_paid=amount_paid,
        balance_due=balance_due,
        version=e.originator_version,
        updated_at=naive_utc(e.timestamp),
    )
    if settle:
        values["paid_at"] = naive_utc(e.at) if balance_due <= 0 else None
    rows.write_invoice(conn, invoice_id, values)


@handlers.handles(Invoice.InvoiceSent, buffered=True)
def invoice_sent(rows: Rows, conn: Connection, e: InvoiceSent) -> None:
    values: dict[str, Any] = {"share_token": e.share_token, "sends": e.number}
    if e.email:
        values.update(sent_via_email=True, emailed_send=e.number, email_status="queued", email_reply=None)
    _lifecycle(rows, conn, e, values, sent_at=naive_utc(e.at))


@handlers.handles(Invoice.InvoiceViewed, buffered=True)
def invoice_viewed(rows: Rows, conn: Connection, e: Happened) -> None:
    _lifecycle(rows, conn, e, {"viewed_at": naive_utc(e.at)})


@handlers.handles(Invoice.InvoiceMarkedOverdue, buffered=True)
def invoice_overdue(rows: Rows, conn: Connection, e: Happened) -> None:
    _lifecycle(rows, conn, e, {"overdue_at": naive_utc(e.at)})


@handlers.handles(Invoice.InvoiceVoided, buffered=True)
def invoice_voided(rows: Rows, conn: Connection, e: InvoiceVoided) -> None:
    _lifecycle(rows, conn, e, {"voided_at": naive_utc(e.at), "void_reason": e.reason})


@handlers.handles(Invoice.PaymentRecorded, buffered=True)
def payment_recorded(rows: Rows, conn: Connection, e: PaymentRecorded) -> None:
    row = {
        "id": str(e.payment_id),
        "invoice_id": str(e.originator_id),
        "amount": e.amount,
        "paid_on": e.paid_on,
        "method": e.method,
        "reference": e.reference,
        "recorded_at": naive_utc(e.at),
    }
    rows.add_payment(conn, row)
    _lifecycle(rows, conn, e, {}, settle=True)


@handlers.handles(Invoice.PaymentReversed, buffered=True)
def payment_reversed(rows: Rows, conn: Connection, e: PaymentReversed) -> None:
    rows.reverse_payment(conn, str(e.originator_id), str(e.payment_id), naive_utc(e.at))
    _lifecycle(rows, conn, e, {}, settle=True)


@handlers.handles(Invoice.EmailDelivered, buffered=True)
def email_delivered(rows: Rows, conn: Connection, e: EmailOutcome) -> None:
    _email_outcome(rows, conn, e, "delivered")


@handlers.handles(Invoice.EmailFailed, buffered=True)
def email_failed(rows: Rows, conn: Connection, e: EmailOutcome) -> None:
    _email_outcome(rows, conn, e, "failed")


def _email_outcome(rows: Rows, conn: Connection, e: EmailOutcome, outcome: str) -> None:
    reply = getattr(e, "reply", None)
    rows.email_outcome(conn, str(e.originator_id), e.originator_version, e.send, outcome, reply)

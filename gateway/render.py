"""Read-model records as the API's wire shapes (API.md)."""

from collections.abc import Callable
from typing import Any, TypeVar

from pdf.coverage import pdf_warnings
from projections.views import AccountView, ClientView, InvoiceDetail, InvoiceSummary, Page, PaymentView
from usecases.wire import line_item, timestamp

V = TypeVar("V")


def page(result: Page[V], item: Callable[[V], dict[str, Any]]) -> dict[str, Any]:
    return {
        "data": [item(row) for row in result.items],
        "total": result.total,
        "page": result.page,
        "limit": result.limit,
        "totalPages": result.total_pages,
    }


def client(view: ClientView) -> dict[str, Any]:
    return {
        "id": view.id,
        "name": view.name,
        "email": view.email,
        "address": view.address,
        "taxId": view.tax_id,
        "phone": view.phone,
        "notes": view.notes,
        "isActive": view.is_active,
        "createdAt": timestamp(view.created_at),
        "updatedAt": timestamp(view.updated_at),
    }


def invoice_brief(view: InvoiceSummary) -> dict[str, Any]:
    return {"id": view.id, "invoiceNumber": view.invoice_number, "total": view.total, "status": view.status}


def invoice_summary(view: InvoiceSummary) -> dict[str, Any]:
    return {
        "id": view.id,
        "clientId": view.client_id,
        "invoiceNumber": view.invoice_number,
        "currency": view.currency,
        "issueDate": view.issue_date.isoformat(),
        "dueDate": view.due_date.isoformat(),
        "subtotal": view.subtotal,
        "taxTotal": view.tax_total,
        "discountTotal": view.discount_total,
        "total": view.total,
        "status": view.status,
        "amountPaid": view.amount_paid,
        "balanceDue": view.balance_due,
        "createdAt": timestamp(view.created_at),
        "updatedAt": timestamp(view.updated_at),
        "client": {"name": view.client_name, "email": view.client_email},
    }


def share_url(view: InvoiceDetail, public_url: str) -> str | None:
    return f"{public_url}/i/{view.share_token}" if view.share_token else None


def invoice_detail(
    view: InvoiceDetail, public_url: str, client: ClientView | None = None, account: AccountView | None = None
) -> dict[str, Any]:
    """The detail; ``client`` and ``account`` let pdfWarnings cover what the PDF shows of them."""
    return {
        **invoice_summary(view),
        "lineItems": [line_item(line) for line in view.line_items],
        "notes": view.notes,
        "terms": view.terms,
        "sentViaEmail": view.sent_via_email,
        "sentAt": timestamp(view.sent_at),
        "paidAt": timestamp(view.paid_at),
        "viewedAt": timestamp(view.viewed_at),
        "overdueAt": timestamp(view.overdue_at),
        "voidedAt": timestamp(view.voided_at),
        "voidReason": view.void_reason,
        "shareUrl": share_url(view, public_url),
        "emailStatus": view.email_status,
        "emailError": view.email_reply,
        # characters of the invoice's own fields its PDF draws as U+FFFD (pdf/coverage.py)
        "pdfWarnings": pdf_warnings(view, client, account),
    }


def payment(view: PaymentView) -> dict[str, Any]:
    return {
        "id": view.id,
        "amount": view.amount,
        "date": view.paid_on.isoformat(),
        "method": view.method,
        "reference": view.reference,
        "createdAt": timestamp(view.recorded_at),
        "reversedAt": timestamp(view.reversed_at),
    }


def balance(view: InvoiceSummary) -> dict[str, Any]:
    """Where an invoice stands after a payment or a reversal."""
    return {"id": view.id, "status": view.status, "amountPaid": view.amount_paid, "balanceDue": view.balance_due}

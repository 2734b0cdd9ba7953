"""Helpers for the lifecycle tests: an account's books driven through the application's
commands, and an invoice brought into any status the way a user would get it there."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.application import CleverInvo
from domain.invoice import Invoice, InvoiceDraft, Sending
from domain.lifecycle import DRAFT, OVERDUE, PAID, PARTIALLY_PAID, SENT, VIEWED, VOID
from domain.money import LineItemDraft
from gateway.services import Services
from projections.views import InvoiceDetail
from tests.conftest import FakeClock

# 40 x 125.00 at 10 % tax: 5500.00 in USD.
TOTAL = Decimal("5500.00")
# Before the FakeClock's today (2024-06-15): a sent invoice with these dates may be marked overdue.
PAST_ISSUE, PAST_DUE = date(2024, 5, 1), date(2024, 5, 31)


def web_line(price: str = "125.00", discount: str = "0", tax: str = "10", quantity: str = "40") -> LineItemDraft:
    return LineItemDraft("Web Development", Decimal(quantity), Decimal(price), Decimal(tax), Decimal(discount))


@dataclass
class Books:
    """One account with one client, on the real Services with a FakeClock."""

    services: Services
    clock: FakeClock
    account: UUID
    client: UUID

    @classmethod
    def open(cls, services: Services, clock: FakeClock, plan: str = "pro", email: str | None = "billing@acme.test"):
        account = services.execute(lambda: services.app.open_account("Seller", plan))
        client = services.execute(lambda: services.app.create_client(account, {"name": "Acme Corp", "email": email}))
        return cls(services, clock, account, client)

    @property
    def app(self) -> CleverInvo:
        return self.services.app

    def run(self, command: Any) -> Any:
        return self.services.execute(command)

    def events(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    # --- commands ----------------------------------------------------------------------

    def draft(self, *lines: LineItemDraft, currency: str = "USD", past_due: bool = False, **fields: Any) -> UUID:
        if past_due:
            fields = {"issue_date": PAST_ISSUE, "due_date": PAST_DUE, **fields}
        draft = InvoiceDraft(self.client, list(lines or [web_line()]), currency=currency, **fields)
        return self.run(lambda: self.app.create_invoice(self.account, draft))  # type: ignore[no-any-return]

    def send(self, invoice_id: UUID, sending: Sending | None = None) -> None:
        self.run(lambda: self.app.send_invoice(self.account, invoice_id, sending or Sending()))

    def pay(self, invoice_id: UUID, amount: str | Decimal, **fields: Any) -> UUID:
        value = Decimal(amount)
        return self.run(lambda: self.app.record_payment(self.account, invoice_id, value, **fields))  # type: ignore[no-any-return]

    def reverse(self, invoice_id: UUID, payment_id: UUID) -> None:
        self.run(lambda: self.app.reverse_payment(self.account, invoice_id, payment_id))

    def void(self, invoice_id: UUID, reason: str | None = None) -> None:
        self.run(lambda: self.app.void_invoice(self.account, invoice_id, reason))

    def view(self, invoice_id: UUID) -> bool:
        return self.run(lambda: self.app.record_view(invoice_id))  # type: ignore[no-any-return]

    def mark_overdue(self, invoice_id: UUID) -> bool:
        return self.run(lambda: self.app.mark_overdue(invoice_id))  # type: ignore[no-any-return]

    # --- reading ------------------------------------------------------------------------

    def invoice(self, invoice_id: UUID) -> Invoice:
        return self.app.get_invoice(self.account, invoice_id)

    def row(self, invoice_id: UUID) -> InvoiceDetail:
        view = self.services.read.invoice(str(self.account), str(invoice_id))
        assert view is not None
        return view

    def status(self, invoice_id: UUID) -> str:
        """The status, which the aggregate and the read model must agree on."""
        status = self.invoice(invoice_id).status
        assert self.row(invoice_id).status == status
        return status

    # --- an invoice in any status ---------------------------------------------------------

    def in_status(self, status: str, *, with_payment: bool = False, past_due: bool = True) -> tuple[UUID, UUID | None]:
        """A new invoice in ``status``; ``with_payment`` gives it a live payment (not for
        DRAFT, SENT or VIEWED, where a live payment cannot be). Returns (invoice, payment)."""
        invoice_id = self.draft(past_due=past_due)
        payment: UUID | None = None
        if status == DRAFT:
            assert not with_payment
            return invoice_id, None
        self.send(invoice_id)
        if status == SENT:
            assert not with_payment
        elif status == VIEWED:
            assert not with_payment
            assert self.view(invoice_id)
        elif status == PARTIALLY_PAID:
            payment = self.pay(invoice_id, "1000.00")
        elif status == PAID:
            payment = self.pay(invoice_id, TOTAL)
        elif status == OVERDUE:
            assert past_due and self.mark_overdue(invoice_id)
            if with_payment:
                payment = self.pay(invoice_id, "1000.00")
        elif status == VOID:
            if with_payment:
                payment = self.pay(invoice_id, "1000.00")
            self.void(invoice_id, "Issued by mistake")
        assert self.status(invoice_id) == status
        return invoice_id, payment

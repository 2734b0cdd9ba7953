"""An invoice's life: send, void, payments and their reversal, and the overdue sweep."""

import threading
from dataclasses import dataclass
from uuid import UUID

from domain.application import CleverInvo
from domain.errors import NotFound
from domain.invoice import Sending
from domain.versions import Expected
from projections.projector import ReadModelProjector
from projections.queries import ReadModel
from projections.views import InvoiceDetail, PaymentView
from usecases.core import Core
from usecases.inputs import PaymentInput
from usecases.invoices import Invoices

BATCH = 1000  # invoices the sweep marks between two catch-ups of the read model


def mark_overdue(
    app: CleverInvo, projector: ReadModelProjector, read: ReadModel, stop: threading.Event | None = None
) -> int:
    """Marks every sent invoice with a balance past its due date (today by the application's
    clock) as overdue, a batch at a time, until none is left or ``stop`` is set; how many it
    marked. Racing sweeps are harmless: the command re-checks the invoice and records nothing
    the second time. Run by the overdue follower (``followers.overdue``) and, through
    ``Lifecycle.mark_overdue``, by `cleverinvo invoices mark-overdue`."""
    marked = 0
    while not (stop and stop.is_set()):
        projector.catch_up()
        candidates = read.overdue_candidates(app.clock().date(), BATCH)
        done = sum(app.mark_overdue(UUID(invoice_id)) for invoice_id in candidates)
        marked += done
        if len(candidates) < BATCH or not done:
            break
    projector.catch_up()
    return marked


@dataclass(frozen=True)
class PaymentAnswer:
    """A payment with where its invoice now stands."""

    payment: PaymentView
    invoice: InvoiceDetail


class Lifecycle:
    def __init__(self, core: Core, invoices: Invoices) -> None:
        self.core = core
        self.invoices = invoices

    def send(self, account: UUID, invoice_id: UUID, sending: Sending, expected: Expected = None) -> InvoiceDetail:
        self.core.execute(lambda: self.core.app.send_invoice(account, invoice_id, sending, expected))
        return self.invoices.detail(account, invoice_id)

    def void(self, account: UUID, invoice_id: UUID, reason: str | None, expected: Expected = None) -> InvoiceDetail:
        self.core.execute(lambda: self.core.app.void_invoice(account, invoice_id, reason, expected))
        return self.invoices.detail(account, invoice_id)

    def payments(self, account: UUID, invoice_id: UUID) -> list[PaymentView]:
        """The invoice's payments, reversed ones too, oldest first."""
        listed = self.core.read.payments(str(account), str(invoice_id))
        if listed is None:
            raise NotFound("Invoice not found")
        return listed

    def payments_of(self, account: UUID, invoice_ids: list[str]) -> dict[str, list[PaymentView]]:
        """The payments of the account's invoices among ``invoice_ids``, by invoice, oldest
        first, in one read (a page's relations); an invoice without any is left out."""
        return self.core.read.payments_in(str(account), invoice_ids)

    def payment_at_version(
        self, account: UUID, invoice_id: UUID, version: int, payment_id: UUID
    ) -> PaymentAnswer | None:
        """The payment with its invoice exactly as the invoice's ``version`` left them,
        rebuilt from the events; None if either was not there then."""
        then = self.invoices.at_version(account, invoice_id, version)
        if then is None or then.payments is None:
            return None
        wanted = str(payment_id)
        payment = next((p for p in then.payments if p.id == wanted), None)
        return None if payment is None else PaymentAnswer(payment, then.invoice)

    def mark_overdue(self) -> int:
        """Marks the invoices that are overdue today (`cleverinvo invoices mark-overdue`:
        the overdue follower's sweep, once, now); how many."""
        return mark_overdue(self.core.app, self.core.projector, self.core.read)

    def record_payment(
        self, account: UUID, invoice_id: UUID, given: PaymentInput, expected: Expected = None
    ) -> PaymentAnswer:
        p = given.checked()
        app = self.core.app
        payment_id = self.core.execute(
            lambda: app.record_payment(account, invoice_id, p.amount, p.paid_on, p.method, p.reference, expected)
        )
        return self._answer(account, invoice_id, payment_id)

    def reverse_payment(
        self, account: UUID, invoice_id: UUID, payment_id: UUID, expected: Expected = None
    ) -> PaymentAnswer:
        """Records that a payment was a mistake; the payment itself stays on record."""
        self.core.execute(lambda: self.core.app.reverse_payment(account, invoice_id, payment_id, expected))
        return self._answer(account, invoice_id, payment_id)

    def _answer(self, account: UUID, invoice_id: UUID, payment_id: UUID) -> PaymentAnswer:
        wanted = str(payment_id)
        payment = next((p for p in self.payments(account, invoice_id) if p.id == wanted), None)
        if payment is None:
            raise NotFound("Payment not found")
        return PaymentAnswer(payment, self.invoices.detail(account, invoice_id))

"""An invoice's life: send, void, payments and their reversal."""

from dataclasses import dataclass
from uuid import UUID

from domain.errors import NotFound
from domain.invoice import Sending
from domain.versions import Expected
from projections.views import InvoiceDetail, PaymentView
from usecases.core import Core
from usecases.inputs import PaymentInput
from usecases.invoices import Invoices


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

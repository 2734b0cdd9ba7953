"""The commands of an invoice's life: send, the share link's view, payments and their
reversal, void, overdue, and what the mail server said of an emailed send."""

import secrets
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from domain.client import Client, is_email
from domain.errors import PlanLimitReached, ValidationError
from domain.integrity import Unverified
from domain.invoice import Invoice, Sending
from domain.invoice_checks import check_text
from domain.plans import limits_of
from domain.saving import Saving
from domain.versions import Expected, expect


def _short_text(value: str | None, field: str, most: int = 255) -> str | None:
    """Stripped, blank as None, at most ``most`` characters: like every other text field."""
    text = value.strip() if value is not None else None
    if not text:
        return None
    if len(text) > most:
        raise ValidationError.about(f"Field '{{0}}' must be at most {most} characters", field)
    return text


class LifecycleCommands(Saving):
    # --- the invoice's life --------------------------------------------------------------

    def send_invoice(self, account_id: UUID, invoice_id: UUID, sending: Sending, expected: Expected = None) -> None:
        """DRAFT -> SENT, or a re-send; with ``email`` the email follower delivers it."""
        recipients = [*sending.to, *sending.cc]
        for address in recipients:
            if not is_email(address):
                raise ValidationError(f"'{address}' is not a valid email address")
        message = check_text(sending.message, "message")
        token = secrets.token_urlsafe(24)  # 192 bits: the share link cannot be guessed

        def command() -> None:
            invoice = self.get_invoice(account_id, invoice_id)
            expect(invoice, expected, "Invoice")
            if sending.email:
                if not limits_of(self.get_account(account_id).plan).email_sending:
                    raise PlanLimitReached("Plan limit reached: this plan has no email sending")
                if not sending.to and not self._load(Client, invoice.client_id).email:
                    raise ValidationError("The client has no email address; give one in 'to'")
            invoice.send(self.now(), Sending(sending.email, sending.to, sending.cc, message), token)
            self.save(invoice)

        self._retrying(command, account_id)

    def record_view(self, invoice_id: UUID) -> bool:
        """The share link was opened; the first time, SENT -> VIEWED. True if recorded."""

        def command() -> bool:
            invoice = self._load(Invoice, invoice_id)
            if invoice.is_deleted or invoice.viewed_at is not None or invoice.sent_at is None:
                return False
            recorded = invoice.view(self.now())
            self.save(invoice)
            return recorded

        return self._retrying(command)

    def record_payment(
        self,
        account_id: UUID,
        invoice_id: UUID,
        amount: Decimal,
        paid_on: date | None = None,
        method: str | None = None,
        reference: str | None = None,
        expected: Expected = None,
    ) -> UUID:
        payment_id = uuid4()
        method, reference = _short_text(method, "method"), _short_text(reference, "reference")

        def command() -> UUID:
            invoice = self.get_invoice(account_id, invoice_id)
            expect(invoice, expected, "Invoice")
            today = self.clock().date()  # the business date is the clock's; the recorded time is held
            invoice.record_payment(payment_id, amount, paid_on or today, method, reference, self.now())
            self.save(invoice)
            return payment_id

        return self._retrying(command, account_id)

    def reverse_payment(self, account_id: UUID, invoice_id: UUID, payment_id: UUID, expected: Expected = None) -> None:
        def command() -> None:
            invoice = self.get_invoice(account_id, invoice_id)
            expect(invoice, expected, "Invoice")
            invoice.reverse_payment(payment_id, self.now())
            self.save(invoice)

        self._retrying(command, account_id)

    def void_invoice(
        self, account_id: UUID, invoice_id: UUID, reason: str | None = None, expected: Expected = None
    ) -> None:
        why = check_text(reason, "reason")

        def command() -> None:
            invoice = self.get_invoice(account_id, invoice_id)
            expect(invoice, expected, "Invoice")
            invoice.void(self.now(), why)
            self.save(invoice)

        self._retrying(command, account_id)

    def mark_overdue(self, invoice_id: UUID) -> bool:
        """Records that a sent invoice with a balance is past its due date; False when it
        is not (paid, voided or changed meanwhile), so a sweep can race safely, or when its
        stored events do not verify, so one such invoice does not stop the sweep."""

        def command() -> bool:
            invoice = self._get(Invoice, invoice_id)
            # Overdue by the clock's own date (a clock stepped forward and back must not make
            # invoices overdue early); the time recorded is held like every recorded time.
            if invoice is None or invoice.is_deleted or not invoice.is_overdue_on(self.clock().date()):
                return False
            invoice.mark_overdue(self.now())
            self.save(invoice)
            return True

        try:
            return self._retrying(command)
        except Unverified:  # recorded and logged where it was found: the sweep goes on with the others
            return False

    def record_email_outcome(
        self,
        invoice_id: UUID,
        send: int,
        recipients: list[str],
        reply: str | None,
        attempt: int,
        retry_at: datetime | None,
        refused: str | None = None,
    ) -> None:
        """What the mail server said of one send: delivered to ``recipients`` (``reply``
        None; ``refused`` names any recipient it refused meanwhile) or failed."""

        def command() -> None:
            invoice = self._load(Invoice, invoice_id)
            if reply is None:
                invoice.email_delivered(send=send, at=self.now(), recipients=recipients, reply=refused)
            else:
                invoice.email_failed(send=send, at=self.now(), reply=reply, attempt=attempt, retry_at=retry_at)
            self.save(invoice)

        self._retrying(command)

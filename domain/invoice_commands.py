"""The commands that draft invoices: create (numbered, counted against the plan), change
a draft, delete it."""

from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid4

from domain.client import Client
from domain.errors import ValidationError
from domain.invoice import TEXTS, Invoice, InvoiceDraft
from domain.invoice_checks import check_currency, check_dates, check_lines, check_number, default_due_date
from domain.money import price_lines
from domain.plans import limits_of
from domain.quotas import InvoiceNumber, InvoiceNumbering, InvoiceQuota, number_key
from domain.saving import Saving
from domain.versions import Expected, expect


class InvoiceCommands(Saving):
    def _active_client(self, account_id: UUID, client_id: UUID) -> Client:
        client = self._get(Client, client_id)
        if client is None or client.account_id != account_id or not client.is_active:
            raise ValidationError.about("Field '{0}' must name an active client of this account", "client_id")
        return client

    # --- invoices ----------------------------------------------------------------

    def _number_index(self, account_id: UUID, number: str) -> InvoiceNumber | None:
        return self._get(InvoiceNumber, InvoiceNumber.create_id(account_id, number_key(number)))

    def _claim(self, account_id: UUID, number: str, invoice_id: UUID, index: InvoiceNumber | None) -> InvoiceNumber:
        if index is None:
            return InvoiceNumber(account_id=account_id, key=number_key(number), number=number, invoice_id=invoice_id)
        index.take(number, invoice_id)
        return index

    def _reserve_number(self, account_id: UUID, number: str, invoice_id: UUID) -> InvoiceNumber:
        return self._claim(account_id, number, invoice_id, self._number_index(account_id, number))

    def _next_number(self, account_id: UUID, invoice_id: UUID) -> tuple[InvoiceNumbering, InvoiceNumber]:
        numbering = self._load(InvoiceNumbering, InvoiceNumbering.create_id(account_id))
        sequence = numbering.next_sequence
        while True:
            number = f"INV-{sequence:04d}"
            index = self._number_index(account_id, number)
            if index is None or not index.is_taken:
                numbering.assigned(number, sequence)
                # Claim the index just read: a second read could see a racing create's number
                # and refuse with Conflict, where a stale one fails the save and is retried.
                return numbering, self._claim(account_id, number, invoice_id, index)
            sequence += 1

    def create_invoice(self, account_id: UUID, draft: InvoiceDraft) -> UUID:
        currency = check_currency(draft.currency)
        drafts = check_lines(draft.line_items)
        lines, totals = price_lines(drafts, currency)
        number = check_number(draft.invoice_number) if draft.invoice_number is not None else None
        texts = {text.name: text.check(getattr(draft, text.name)) for text in TEXTS}

        def command() -> UUID:
            now = self.clock()  # business dates (issue date, quota month) are the clock's own
            issue_date = draft.issue_date or now.date()
            due_date = draft.due_date or default_due_date(issue_date)
            check_dates(issue_date, due_date)
            self._active_client(account_id, draft.client_id)
            limit = limits_of(self.get_account(account_id).plan).invoices_per_month
            month = now.strftime("%Y-%m")
            quota = self._get(InvoiceQuota, InvoiceQuota.create_id(account_id, month)) or InvoiceQuota(
                account_id=account_id, month=month
            )
            invoice_id = uuid4()
            numbering: InvoiceNumbering | None = None
            if number is None:
                numbering, index = self._next_number(account_id, invoice_id)
            else:
                index = self._reserve_number(account_id, number, invoice_id)
            quota.count(invoice_id, limit)
            invoice = Invoice(  # type: ignore[call-arg]  # eventsourcing accepts a chosen id
                id=invoice_id,
                account_id=account_id,
                client_id=draft.client_id,
                number=index.number,
                currency=currency,
                issue_date=issue_date,
                due_date=due_date,
                line_items=lines,
                subtotal=totals.subtotal,
                tax_total=totals.tax_total,
                discount_total=totals.discount_total,
                total=totals.total,
                **texts,
            )
            self.save(invoice, index, quota, numbering)
            return invoice.id

        return self._retrying(command, account_id)

    def update_invoice(
        self, account_id: UUID, invoice_id: UUID, values: Mapping[str, Any], expected: Expected = None
    ) -> None:
        """Changes a DRAFT invoice; ``values`` are keyed as ``domain.invoice.EDITABLE``."""

        def command() -> None:
            invoice = self.get_invoice(account_id, invoice_id)
            expect(invoice, expected, "Invoice")
            old_number = invoice.number
            if "client_id" in values and values["client_id"] != invoice.client_id:
                self._active_client(account_id, values["client_id"])
            invoice.revise(values)
            released: InvoiceNumber | None = None
            reserved: InvoiceNumber | None = None
            if number_key(invoice.number) != number_key(old_number):
                reserved = self._reserve_number(account_id, invoice.number, invoice.id)
                released = self._load(InvoiceNumber, InvoiceNumber.create_id(account_id, number_key(old_number)))
                released.release()
            self.save(invoice, reserved, released)

        self._retrying(command, account_id)

    def delete_invoice(self, account_id: UUID, invoice_id: UUID, expected: Expected = None) -> None:
        def command() -> None:
            invoice = self.get_invoice(account_id, invoice_id)
            expect(invoice, expected, "Invoice")
            invoice.delete()
            index = self._load(InvoiceNumber, InvoiceNumber.create_id(account_id, number_key(invoice.number)))
            index.release()
            self.save(invoice, index)

        self._retrying(command, account_id)

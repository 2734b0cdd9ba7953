"""The Invoice aggregate and the rules for drafting and changing one."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain import lifecycle
from domain.errors import NotFound, ValidationError
from domain.invoice_checks import (
    MAX_TEXT,
    check_currency,
    check_dates,
    check_lines,
    check_number,
    check_text,
)
from domain.lifecycle import STATUSES, Facts, derive_status
from domain.money import LineItem, LineItemDraft, check_payment_amount, price_lines
from domain.timeline import Stamped
from translations import N_

__all__ = ["STATUSES", "Invoice", "InvoiceDraft", "Payment", "Sending"]

DEFAULT_CURRENCY = "USD"



@dataclass(frozen=True)
class InvoiceText:
    """How one of an invoice's optional texts is shown and checked: every layer that does not
    need a shape of its own (the checks, the read model's column and search, the PDF, the
    share page, the dashboard's form and page, GraphQL, history) takes it from ``TEXTS``.

    ``one_line`` texts (a reference) are shown beside the invoice's number and dates, the
    others as labelled blocks under the lines; ``searchable`` ones are found by a list's
    ``q``. ``label`` is a catalog message (``translations``); ``description`` is what the
    field means, as the doors' schemas say it.
    """

    name: str
    label: str
    description: str
    max_length: int = MAX_TEXT
    one_line: bool = False
    searchable: bool = False

    def check(self, value: str | None) -> str | None:
        return check_text(value, self.name, self.max_length)


def _text(
    label: str, description: str, max_length: int = MAX_TEXT, one_line: bool = False, searchable: bool = False
) -> Any:
    """A field of ``InvoiceTexts``: None unless given, and how it is shown and checked."""
    return field(default=None, metadata={"text": (label, description, max_length, one_line, searchable)})


@dataclass(frozen=True, kw_only=True)
class InvoiceTexts:
    """An invoice's optional texts, declared once: a draft, a use case's input and the read
    model's detail are each these and more. The order is the order shown (the doors'
    schemas, the PDF, the pages, the form)."""

    notes: str | None = _text(N_("Notes"), "Notes printed on the invoice.")
    terms: str | None = _text(N_("Terms"), "Payment terms printed on the invoice.")
    po_number: str | None = _text(
        N_("PO number"), "The customer's purchase-order reference.", 64, one_line=True, searchable=True
    )


TEXTS = tuple(InvoiceText(each.name, *each.metadata["text"]) for each in fields(InvoiceTexts))
TEXT_NAMES = tuple(text.name for text in TEXTS)

# Which fields an update may carry (``Invoice.revise``).
EDITABLE = ("client_id", "invoice_number", "currency", "issue_date", "due_date", "line_items", *TEXT_NAMES)


@dataclass(frozen=True)
class Sending:
    """How an invoice is sent: by email (to the client, or ``to``) or only recorded as sent."""

    email: bool = False
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    message: str | None = None


@dataclass(frozen=True)
class Payment:
    id: UUID
    amount: Decimal
    paid_on: date
    method: str | None
    reference: str | None
    recorded_at: datetime
    reversed_at: datetime | None = None


@dataclass(frozen=True)
class InvoiceDraft(InvoiceTexts):
    client_id: UUID
    line_items: Sequence[LineItemDraft]
    invoice_number: str | None = None
    currency: str = DEFAULT_CURRENCY
    issue_date: date | None = None
    due_date: date | None = None


def _identical(old: Any, new: Any) -> bool:
    """Equal and written alike: Decimal("5500.00") == Decimal("5500"), yet a change to JPY
    must still record the total at the new currency's scale."""
    return bool(old == new) and repr(old) == repr(new)


class Invoice(Stamped):
    id: UUID  # lets a command choose the id, so index aggregates can name it in the same save

    @event("InvoiceCreated")
    def __init__(
        self,
        account_id: UUID,
        client_id: UUID,
        number: str,
        currency: str,
        issue_date: date,
        due_date: date,
        line_items: list[LineItem],
        subtotal: Decimal,
        tax_total: Decimal,
        discount_total: Decimal,
        total: Decimal,
        notes: str | None,
        terms: str | None,
        po_number: str | None = None,  # not in events recorded before it existed
    ) -> None:
        self.account_id = account_id
        self.client_id = client_id
        self.number = number
        self.currency = currency
        self.issue_date = issue_date
        self.due_date = due_date
        self.line_items = line_items
        self.subtotal = subtotal
        self.tax_total = tax_total
        self.discount_total = discount_total
        self.total = total
        self.notes = notes
        self.terms = terms
        self.po_number = po_number
        self.is_deleted = False
        self.sent_at: datetime | None = None
        self.sends = 0
        self.share_token: str | None = None
        self.viewed_at: datetime | None = None
        self.overdue_at: datetime | None = None
        self.voided_at: datetime | None = None
        self.void_reason: str | None = None
        self.paid_at: datetime | None = None
        self.payments: dict[str, Payment] = {}  # by str(id): a snapshot's JSON keys are strings
        self.email_status: str | None = None  # queued, delivered or failed: the last emailed send's
        self.emailed_send = 0
        self.email_reply: str | None = None

    # --- status ------------------------------------------------------------------------

    @property
    def amount_paid(self) -> Decimal:
        paid = sum((p.amount for p in self.payments.values() if p.reversed_at is None), Decimal(0))
        return paid if paid else Decimal(0).quantize(self.total)

    @property
    def balance_due(self) -> Decimal:
        """What is still owed: nothing on a void invoice, whatever was paid before."""
        if self.voided_at is not None:
            return Decimal(0).quantize(self.total)
        return self.total - self.amount_paid

    @property
    def status(self) -> str:
        facts = Facts(self.sent_at, self.viewed_at, self.overdue_at, self.voided_at, self.amount_paid, self.total)
        return derive_status(facts)

    def revise(self, values: Mapping[str, Any]) -> None:
        """Applies checked changes; lines and currency are re-priced together.

        ``values`` holds already-typed values keyed as in ``EDITABLE``.
        """
        lifecycle.check(lifecycle.EDIT, self.status)
        unknown = set(values) - set(EDITABLE)
        if unknown:
            raise ValidationError.about("Unknown field: {0}", sorted(unknown)[0])
        changes: dict[str, Any] = {}
        if "currency" in values:
            changes["currency"] = check_currency(values["currency"])
        for text in TEXTS:
            if text.name in values:
                changes[text.name] = text.check(values[text.name])
        for name in ("client_id", "issue_date", "due_date"):
            if name in values:
                changes[name] = values[name]
        if "invoice_number" in values:
            changes["invoice_number"] = check_number(values["invoice_number"])
        issue_date = changes.get("issue_date", self.issue_date)
        check_dates(issue_date, changes.get("due_date", self.due_date))
        currency = changes.get("currency", self.currency)
        if "line_items" in values or "currency" in changes:
            drafts = (
                check_lines(values["line_items"])
                if "line_items" in values
                else [
                    LineItemDraft(li.description, li.quantity, li.unit_price, li.tax_rate, li.discount_rate)
                    for li in self.line_items
                ]
            )
            lines, totals = price_lines(drafts, currency)
            changes.update(
                line_items=lines,
                subtotal=totals.subtotal,
                tax_total=totals.tax_total,
                discount_total=totals.discount_total,
                total=totals.total,
            )
        if "invoice_number" in changes:
            changes["number"] = changes.pop("invoice_number")
        real = {name: value for name, value in changes.items() if not _identical(getattr(self, name), value)}
        if "currency" not in real:
            # A value equal to the recorded one is no change, however it is written: a client
            # that reads 125.00 as a float sends 125.0 back. Only a new currency records
            # equal amounts again, at its own scale.
            real = {name: value for name, value in real.items() if getattr(self, name) != value}
        if real:
            self._updated(real)

    @event("InvoiceUpdated")
    def _updated(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    def delete(self) -> None:
        lifecycle.check(lifecycle.DELETE, self.status)
        self._deleted()

    @event("InvoiceDeleted")
    def _deleted(self) -> None:
        self.is_deleted = True

    # --- lifecycle ------------------------------------------------------------------------

    def send(self, at: datetime, sending: Sending, share_token: str) -> None:
        """Issues a draft (DRAFT -> SENT) or records a re-send, which keeps the status."""
        lifecycle.check(lifecycle.SEND, self.status)
        self._sent(
            at=at,
            number=self.sends + 1,
            email=sending.email,
            to=list(sending.to),
            cc=list(sending.cc),
            message=sending.message,
            share_token=self.share_token or share_token,
        )

    @event("InvoiceSent")
    def _sent(
        self,
        at: datetime,
        number: int,
        email: bool,
        to: list[str],
        cc: list[str],
        message: str | None,
        share_token: str,
    ) -> None:
        if self.sent_at is None and self.balance_due <= 0:
            self.paid_at = at  # nothing to pay (a zero total): settled as it is issued
        self.sent_at = self.sent_at or at
        self.sends = number
        self.share_token = share_token
        if email:
            self.emailed_send = self.sends
            self.email_status, self.email_reply = "queued", None

    # The email follower records each delivery's outcome; ``send`` is the number of the send.

    @event("EmailDelivered")
    def email_delivered(self, send: int, at: datetime, recipients: list[str], reply: str | None = None) -> None:
        """``recipients`` got it; ``reply`` names those the server refused, if any."""
        if send == self.emailed_send:
            self.email_status, self.email_reply = "delivered", reply

    @event("EmailFailed")
    def email_failed(self, send: int, at: datetime, reply: str, attempt: int, retry_at: datetime | None) -> None:
        if send == self.emailed_send:
            self.email_status, self.email_reply = "failed", reply

    def view(self, at: datetime) -> bool:
        """Records the first view through the share link; True if this was it."""
        lifecycle.check(lifecycle.VIEW, self.status)
        if self.viewed_at is not None:
            return False
        self._viewed(at=at)
        return True

    @event("InvoiceViewed")
    def _viewed(self, at: datetime) -> None:
        self.viewed_at = at

    def record_payment(
        self, payment_id: UUID, amount: Decimal, paid_on: date, method: str | None, reference: str | None, at: datetime
    ) -> None:
        lifecycle.check(lifecycle.RECORD_PAYMENT, self.status)
        amount = check_payment_amount(amount, self.currency, self.balance_due)
        self._payment_recorded(
            payment_id=payment_id, amount=amount, paid_on=paid_on, method=method, reference=reference, at=at
        )

    @event("PaymentRecorded")
    def _payment_recorded(
        self, payment_id: UUID, amount: Decimal, paid_on: date, method: str | None, reference: str | None, at: datetime
    ) -> None:
        self.payments[str(payment_id)] = Payment(payment_id, amount, paid_on, method, reference, at)
        if self.balance_due <= 0:
            self.paid_at = at

    def reverse_payment(self, payment_id: UUID, at: datetime) -> None:
        """Records that a payment was a mistake; the payment itself stays on record."""
        payment = self.payments.get(str(payment_id))
        if payment is None:
            raise NotFound("Payment not found")
        lifecycle.check(lifecycle.REVERSE_PAYMENT, self.status)
        if payment.reversed_at is not None:
            raise lifecycle.refusal(lifecycle.REVERSE_PAYMENT, self.status, "this payment was already reversed")
        self._payment_reversed(payment_id=payment_id, at=at)

    @event("PaymentReversed")
    def _payment_reversed(self, payment_id: UUID, at: datetime) -> None:
        payment = self.payments[str(payment_id)]
        self.payments[str(payment_id)] = Payment(
            payment.id, payment.amount, payment.paid_on, payment.method, payment.reference, payment.recorded_at, at
        )
        if self.balance_due > 0:
            self.paid_at = None

    def is_overdue_on(self, today: date) -> bool:
        return self.status in lifecycle.MARK_OVERDUE.allowed and self.due_date < today

    def mark_overdue(self, at: datetime) -> None:
        lifecycle.check(lifecycle.MARK_OVERDUE, self.status)
        if self.due_date >= at.date():
            raise ValidationError(f"Invoice {self.number} is not past its due date {self.due_date.isoformat()}")
        self._marked_overdue(at=at)

    @event("InvoiceMarkedOverdue")
    def _marked_overdue(self, at: datetime) -> None:
        self.overdue_at = at

    def void(self, at: datetime, reason: str | None) -> None:
        lifecycle.check(lifecycle.VOID_INVOICE, self.status)
        self._voided(at=at, reason=reason)

    @event("InvoiceVoided")
    def _voided(self, at: datetime, reason: str | None) -> None:
        self.voided_at = at
        self.void_reason = reason


# An invoice recorded before one of its texts existed (its events and snapshots lack it)
# reads it as None: the class holds the fallback, an instance its own value.
for _each in TEXTS:
    setattr(Invoice, _each.name, None)

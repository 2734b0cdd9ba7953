"""The Invoice aggregate and the rules for drafting and changing one."""

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, ValidationError
from domain.money import LineItem, LineItemDraft, check_line, is_currency, price_lines

STATUSES = ("DRAFT", "SENT", "VIEWED", "PAID", "PARTIALLY_PAID", "OVERDUE")
DEFAULT_CURRENCY = "USD"
DEFAULT_PAYMENT_DAYS = 30
MAX_LINE_ITEMS = 500
MAX_TEXT = 5000
MAX_NUMBER = 64

# Which fields an update may carry, and how the wire names them in messages.
EDITABLE = {
    "client_id": "clientId",
    "invoice_number": "invoiceNumber",
    "currency": "currency",
    "issue_date": "issueDate",
    "due_date": "dueDate",
    "line_items": "lineItems",
    "notes": "notes",
    "terms": "terms",
}


@dataclass(frozen=True)
class InvoiceDraft:
    client_id: UUID
    line_items: Sequence[LineItemDraft]
    invoice_number: str | None = None
    currency: str = DEFAULT_CURRENCY
    issue_date: date | None = None
    due_date: date | None = None
    notes: str | None = None
    terms: str | None = None


def check_number(number: str) -> str:
    number = number.strip()
    if not number:
        raise ValidationError("Field 'invoiceNumber' must not be empty")
    if len(number) > MAX_NUMBER:
        raise ValidationError(f"Field 'invoiceNumber' must be at most {MAX_NUMBER} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in number):
        raise ValidationError("Field 'invoiceNumber' must not contain control characters")
    return number


def check_currency(currency: str) -> str:
    code = currency.strip().upper()
    if not is_currency(code):
        raise ValidationError(f"Field 'currency' must be an ISO 4217 currency code, not '{currency}'")
    return code


def check_text(value: str | None, wire: str) -> str | None:
    text = value.strip() if value is not None else None
    if not text:
        return None
    if len(text) > MAX_TEXT:
        raise ValidationError(f"Field '{wire}' must be at most {MAX_TEXT} characters")
    return text


def check_lines(lines: Sequence[LineItemDraft]) -> list[LineItemDraft]:
    if not lines:
        raise ValidationError("Field 'lineItems' must hold at least one line item")
    if len(lines) > MAX_LINE_ITEMS:
        raise ValidationError(f"Field 'lineItems' must hold at most {MAX_LINE_ITEMS} line items")
    return [check_line(line, f"lineItems[{i}]") for i, line in enumerate(lines)]


def check_dates(issue_date: date, due_date: date) -> None:
    if due_date < issue_date:
        raise ValidationError("Field 'dueDate' must be on or after 'issueDate'")


def _identical(old: Any, new: Any) -> bool:
    """Equal and written alike: Decimal("5500.00") == Decimal("5500"), yet a change to JPY
    must still record the total at the new currency's scale."""
    return bool(old == new) and repr(old) == repr(new)


class Invoice(Aggregate):
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
        self.status = "DRAFT"
        self.is_deleted = False

    def revise(self, values: Mapping[str, Any]) -> None:
        """Applies checked changes; lines and currency are re-priced together.

        ``values`` holds already-typed values keyed as in ``EDITABLE``.
        """
        if self.status != "DRAFT":
            raise Conflict(f"Only DRAFT invoices can be changed; this one is {self.status}")
        unknown = set(values) - set(EDITABLE)
        if unknown:
            raise ValidationError(f"Unknown field: {sorted(unknown)[0]}")
        changes: dict[str, Any] = {}
        if "currency" in values:
            changes["currency"] = check_currency(values["currency"])
        for name in ("notes", "terms"):
            if name in values:
                changes[name] = check_text(values[name], name)
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
                else [LineItemDraft(li.description, li.quantity, li.unit_price, li.tax_rate) for li in self.line_items]
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
        if real:
            self._updated(real)

    @event("InvoiceUpdated")
    def _updated(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    @event("InvoiceDeleted")
    def delete(self) -> None:
        self.is_deleted = True


def default_due_date(issue_date: date) -> date:
    try:
        return issue_date + timedelta(days=DEFAULT_PAYMENT_DAYS)
    except OverflowError:  # an issueDate in the last days of 9999 has no date 30 days on
        raise ValidationError("Field 'dueDate' is required when 'issueDate' is this late") from None

"""Typed inputs of the use cases, and the checks every door's values go through.

A door turns its wire format into these (REST from JSON bodies and query strings,
GraphQL from its arguments), checking only what its format allows to be wrong (a number
sent as an object, say). Everything else is checked here or in the domain, each value
once, where its rule lives (a currency, free text and a void's reason in the domain), so
the same bad value gets the same message through either door. These inputs are keyed by
wire names (``usecases.wire_names``), which both doors share, and name fields by them.
"""

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.client import CLIENT_FIELDS
from domain.errors import ValidationError
from domain.invoice import DEFAULT_CURRENCY, EDITABLE, STATUSES, TEXT_NAMES, InvoiceDraft, InvoiceTexts, Sending
from domain.money import LineItemDraft
from domain.texts import storable
from projections.views import SortKey
from usecases import cursors
from usecases.wire_names import wire_name

MAX_SEARCH = 255
MAX_LIMIT = 100
NO_MATCH = "-"  # a clientId filter that names no client: matches nothing

# Wire name -> attribute name, of the fields a client's and a draft's changes may carry.
CLIENT_WIRE = {wire_name(name): name for name in CLIENT_FIELDS}
INVOICE_WIRE = {wire_name(name): name for name in EDITABLE}


def text(value: str | None, wire: str) -> str | None:
    """A text value as the domain may keep it (``domain.texts``), for the fields whose
    domain check does not start with that rule."""
    return None if value is None else storable(value, wire)


def record_id(value: str, wire: str, message: str) -> UUID:
    """An id sent as text; one that is no UUID names nothing of this account."""
    try:
        return UUID(required_text(value, wire))
    except ValueError:
        raise ValidationError(message) from None


def client_ref(value: str) -> UUID:
    return record_id(value, "clientId", "Field 'clientId' must name an active client of this account")


def required_text(value: str | None, wire: str) -> str:
    checked = text(value, wire)
    if checked is None:  # sent as null: REST's and GraphQL's words for it are the same
        raise ValidationError(f"Field '{wire}' must be a string")
    return checked


# --- lists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """A page of a list: by number (``page``), or after a cursor (``after``, a keyset page
    that neither repeats nor skips rows while others are written). ``start`` is ``after``
    decoded, filled by ``checked``."""

    page: int = 1
    limit: int = 20
    search: str | None = None
    _: KW_ONLY
    after: str | None = None
    start: SortKey | None = None

    def checked(self) -> "ListQuery":
        paging = self._paging()
        return ListQuery(self.page, self.limit, search_term(self.search), **paging)

    def _paging(self) -> dict[str, Any]:
        if self.page < 1:
            raise ValidationError("Parameter 'page' must be an integer >= 1")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValidationError(f"Parameter 'limit' must be an integer from 1 to {MAX_LIMIT}")
        if self.after is None:
            return {}
        if self.page != 1:
            raise ValidationError("Give parameter 'page' or 'after', not both")
        return {"after": self.after, "start": cursors.decode(self.after)}


def search_term(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    if len(raw) > MAX_SEARCH:
        raise ValidationError(f"Parameter 'search' must be at most {MAX_SEARCH} characters")
    if "\x00" in raw:
        raise ValidationError("Parameter 'search' must not contain NUL characters")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: GraphQL strings can carry one
        raise ValidationError("Parameter 'search' is not valid Unicode text") from None
    return raw.strip()


def status_filter(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if raw not in STATUSES:
        raise ValidationError(f"Parameter 'status' must be one of {', '.join(STATUSES)}")
    return raw


def client_filter(raw: str | None) -> str | None:
    """A clientId that names nothing simply matches nothing (the contract: an empty list)."""
    if raw is None or raw == "":
        return None
    try:
        return str(UUID(raw))
    except ValueError:
        return NO_MATCH


@dataclass(frozen=True)
class InvoiceQuery(ListQuery):
    client_id: str | None = None
    status: str | None = None

    def checked(self) -> "InvoiceQuery":
        paging = self._paging()
        return InvoiceQuery(
            self.page,
            self.limit,
            search_term(self.search),
            client_filter(self.client_id),
            status_filter(self.status),
            **paging,
        )


# --- clients ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientFields:
    """Client fields given, by wire name (only those sent); ``is_active`` on updates."""

    values: Mapping[str, str | None] = field(default_factory=dict)
    is_active: bool | None = None

    def domain_values(self) -> dict[str, Any]:
        unknown = set(self.values) - set(CLIENT_WIRE)
        if unknown:
            raise ValidationError(f"Unknown field: {sorted(unknown)[0]}")
        return {CLIENT_WIRE[wire]: text(value, wire) for wire, value in self.values.items()}


# --- invoices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal | None = None
    discount_rate: Decimal | None = None

    def draft(self, where: str) -> LineItemDraft:
        return LineItemDraft(
            description=required_text(self.description, f"{where}.description"),
            quantity=self.quantity,
            unit_price=self.unit_price,
            tax_rate=Decimal(0) if self.tax_rate is None else self.tax_rate,
            discount_rate=Decimal(0) if self.discount_rate is None else self.discount_rate,
        )


def line_drafts(lines: list[LineInput]) -> list[LineItemDraft]:
    return [line.draft(f"lineItems[{i}]") for i, line in enumerate(lines)]


@dataclass(frozen=True)
class InvoiceInput(InvoiceTexts):
    client_id: UUID
    line_items: list[LineInput]
    invoice_number: str | None = None
    currency: str | None = None
    issue_date: date | None = None
    due_date: date | None = None

    def draft(self) -> InvoiceDraft:
        """The currency and the texts are the domain's to check (``create_invoice``)."""
        return InvoiceDraft(
            client_id=self.client_id,
            line_items=line_drafts(self.line_items),
            invoice_number=text(self.invoice_number, "invoiceNumber"),
            currency=self.currency if self.currency is not None else DEFAULT_CURRENCY,
            issue_date=self.issue_date,
            due_date=self.due_date,
            **{name: getattr(self, name) for name in TEXT_NAMES},
        )


@dataclass(frozen=True)
class InvoiceChanges:
    """The fields of a draft to change, keyed by wire name: only those sent."""

    values: Mapping[str, Any]

    def domain_values(self) -> dict[str, Any]:
        """Keyed by attribute (``domain.invoice.EDITABLE``); what only null can get wrong
        is checked here, the values themselves by ``Invoice.revise``."""
        given = self.values
        changes: dict[str, Any] = {}
        if "clientId" in given:
            changes["client_id"] = given["clientId"]
        if "invoiceNumber" in given:
            changes["invoice_number"] = required_text(given["invoiceNumber"], "invoiceNumber")
        if "currency" in given:
            changes["currency"] = _given(given["currency"], "currency")
        for wire in ("issueDate", "dueDate"):
            if wire in given:
                if given[wire] is None:
                    raise ValidationError(f"Field '{wire}' must be a date as YYYY-MM-DD")
                changes[INVOICE_WIRE[wire]] = given[wire]
        if "lineItems" in given:
            changes["line_items"] = line_drafts(given["lineItems"])
        for name in TEXT_NAMES:
            if wire_name(name) in given:
                changes[name] = given[wire_name(name)]
        return changes


def _given(value: str | None, wire: str) -> str:
    """A text field that may not be null (its value is the domain's to check)."""
    if value is None:  # sent as null: REST's and GraphQL's words for it are the same
        raise ValidationError(f"Field '{wire}' must be a string")
    return value


# --- the invoice's life -----------------------------------------------------------------------


def sending(email: bool, to: tuple[str, ...], cc: tuple[str, ...], message: str | None) -> Sending:
    if (to or cc) and not email:
        raise ValidationError("Fields 'to' and 'cc' need \"email\": true")
    for name, addresses in (("to", to), ("cc", cc)):
        if len(addresses) > 20:
            raise ValidationError(f"Field '{name}' must hold at most 20 addresses")
        for address in addresses:
            text(address, name)
    return Sending(email=email, to=tuple(a.strip() for a in to), cc=tuple(a.strip() for a in cc), message=message)


@dataclass(frozen=True)
class PaymentInput:
    amount: Decimal
    paid_on: date | None = None
    method: str | None = None
    reference: str | None = None

    def checked(self) -> "PaymentInput":
        return PaymentInput(self.amount, self.paid_on, text(self.method, "method"), text(self.reference, "reference"))

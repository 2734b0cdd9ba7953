"""Events told in the API's words: each event of an invoice, client or account becomes
``{"version", "type", "occurredAt", "actor", "changes", "previous"}``.

``type`` is a business word, not an event class. ``changes`` holds, in wire names and wire
formats, every field of the record that the event changed (status and balance included,
since they follow from the facts) plus what the event itself carries that the record does
not (a payment, a send's recipients); ``previous`` holds the changed fields' old values.
The record is stepped through its events one by one, so no rule of the domain is
restated here.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate, CanMutateProtocol, DomainEventProtocol

from domain.account import Account
from domain.client import Client
from domain.invoice import Invoice, Payment
from domain.ledger import recorded_on
from usecases.wire import line_item, timestamp

UNRECORDED_ACTOR = {"type": "system", "name": "unrecorded"}  # events stored before actors were kept


def _day(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def _text(value: Any) -> Any:
    return None if value is None else str(value)


def _lines(lines: Any) -> list[dict[str, Any]]:
    return [line_item(line) for line in lines]


def payment(paid: Payment) -> dict[str, Any]:
    return {
        "id": str(paid.id),
        "amount": paid.amount,
        "date": paid.paid_on.isoformat(),
        "method": paid.method,
        "reference": paid.reference,
        "createdAt": timestamp(paid.recorded_at),
        "reversedAt": timestamp(paid.reversed_at),
    }


def _same(old: Any, new: Any) -> bool:
    """Unchanged: the very object, or equal and written alike (5500.00 is not 5500)."""
    return old is new or (type(old) is type(new) and old == new and repr(old) == repr(new))


@dataclass(frozen=True)
class Field:
    wire: str
    read: Callable[[Any], Any]
    show: Callable[[Any], Any] = lambda value: value


INVOICE_FIELDS = (
    Field("clientId", lambda i: i.client_id, _text),
    Field("invoiceNumber", lambda i: i.number),
    Field("currency", lambda i: i.currency),
    Field("issueDate", lambda i: i.issue_date, _day),
    Field("dueDate", lambda i: i.due_date, _day),
    Field("lineItems", lambda i: i.line_items, _lines),
    Field("subtotal", lambda i: i.subtotal),
    Field("taxTotal", lambda i: i.tax_total),
    Field("discountTotal", lambda i: i.discount_total),
    Field("total", lambda i: i.total),
    Field("notes", lambda i: i.notes),
    Field("terms", lambda i: i.terms),
    Field("status", lambda i: i.status),
    Field("amountPaid", lambda i: i.amount_paid),
    Field("balanceDue", lambda i: i.balance_due),
    Field("sentViaEmail", lambda i: i.emailed_send > 0),
    Field("sentAt", lambda i: i.sent_at, timestamp),
    Field("paidAt", lambda i: i.paid_at, timestamp),
    Field("viewedAt", lambda i: i.viewed_at, timestamp),
    Field("overdueAt", lambda i: i.overdue_at, timestamp),
    Field("voidedAt", lambda i: i.voided_at, timestamp),
    Field("voidReason", lambda i: i.void_reason),
    Field("emailStatus", lambda i: i.email_status),
    Field("emailError", lambda i: i.email_reply),
)
CLIENT_FIELDS = (
    Field("name", lambda c: c.name),
    Field("email", lambda c: c.email),
    Field("address", lambda c: c.address),
    Field("taxId", lambda c: c.tax_id),
    Field("phone", lambda c: c.phone),
    Field("notes", lambda c: c.notes),
    Field("isActive", lambda c: c.is_active),
)
ACCOUNT_FIELDS = (
    Field("name", lambda a: a.name),
    Field("plan", lambda a: a.plan),
    Field("locale", lambda a: a.locale),
    Field("address", lambda a: a.address),
    Field("email", lambda a: a.email),
    Field("taxId", lambda a: a.tax_id),
    Field("phone", lambda a: a.phone),
)


def _sent(e: Any, _record: Any) -> dict[str, Any]:
    return {"send": e.number, "email": e.email, "to": list(e.to), "cc": list(e.cc), "message": e.message}


def _payment(e: Any, record: Any) -> dict[str, Any]:
    return {"payment": payment(record.payments[str(e.payment_id)])}


def _delivered(e: Any, _record: Any) -> dict[str, Any]:
    return {"send": e.send, "recipients": list(e.recipients)}


def _failed(e: Any, _record: Any) -> dict[str, Any]:
    return {"send": e.send, "attempt": e.attempt, "error": e.reply, "retryAt": timestamp(e.retry_at)}


def _key(e: Any, _record: Any) -> dict[str, Any]:
    found = {"id": str(e.key_id)}
    if hasattr(e, "prefix"):  # issued: its label and the prefix shown in lists, never the hash
        found.update(name=e.name, prefix=e.prefix)
    return {"apiKey": found}


def _owner(e: Any, _record: Any) -> dict[str, Any]:
    return {"owner": {"id": str(e.owner_id), "email": e.email}}


Extra = Callable[[Any, Any], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    """One kind of record: its wire name, its fields, and its events' business words."""

    name: str
    record: type[Aggregate]
    fields: tuple[Field, ...]
    types: dict[str, tuple[str, Extra | None]]


INVOICE = Kind(
    "invoice",
    Invoice,
    INVOICE_FIELDS,
    {
        "InvoiceCreated": ("created", None),
        "InvoiceUpdated": ("updated", None),
        "InvoiceDeleted": ("deleted", None),
        "InvoiceSent": ("sent", _sent),
        "InvoiceViewed": ("viewed", None),
        "PaymentRecorded": ("paymentRecorded", _payment),
        "PaymentReversed": ("paymentReversed", _payment),
        "InvoiceMarkedOverdue": ("overdue", None),
        "InvoiceVoided": ("voided", None),
        "EmailDelivered": ("emailDelivered", _delivered),
        "EmailFailed": ("emailFailed", _failed),
    },
)
CLIENT = Kind(
    "client",
    Client,
    CLIENT_FIELDS,
    {
        "ClientCreated": ("created", None),
        "ClientUpdated": ("updated", None),
        "ClientDeactivated": ("deactivated", None),
        "ClientReactivated": ("reactivated", None),
    },
)
ACCOUNT = Kind(
    "account",
    Account,
    ACCOUNT_FIELDS,
    {
        "AccountOpened": ("created", None),
        "AccountUpdated": ("updated", None),
        "PlanChanged": ("planChanged", None),
        "ApiKeyIssued": ("apiKeyIssued", _key),
        "ApiKeyRevoked": ("apiKeyRevoked", _key),
        "OwnerAdded": ("ownerAdded", _owner),
    },
)
KINDS = (INVOICE, CLIENT, ACCOUNT)


def kind_of(event: DomainEventProtocol[Any]) -> Kind | None:
    """The kind of record an event belongs to; None for the bookkeeping aggregates (quotas,
    number indexes) that no one reads as records."""
    owner = type(event).__qualname__.split(".", 1)[0]
    return next((kind for kind in KINDS if kind.record.__name__ == owner), None)


class Narrator:
    """Steps one record through its events, telling each as a history entry."""

    def __init__(self, kind: Kind, record: Aggregate | None = None) -> None:
        self.kind = kind
        self.record = record
        self.values = self._read(record) if record is not None else None

    def _read(self, record: Any) -> list[Any]:
        return [field.read(record) for field in self.kind.fields]

    def tell(self, event: DomainEventProtocol[Any], ledger: dict[str, Any] | None) -> dict[str, Any]:
        if not isinstance(event, CanMutateProtocol):
            raise TypeError(f"{type(event).__qualname__} cannot be replayed")
        self.record = event.mutate(self.record)
        values = self._read(self.record)
        before = self.values
        changes: dict[str, Any] = {}
        previous: dict[str, Any] = {}
        for index, field in enumerate(self.kind.fields):
            if before is None or not _same(before[index], values[index]):
                changes[field.wire] = field.show(values[index])
                if before is not None:
                    previous[field.wire] = field.show(before[index])
        self.values = values
        name = type(event).__qualname__.rsplit(".", 1)[-1]
        word, extra = self.kind.types.get(name, (name[:1].lower() + name[1:], None))
        if extra is not None:
            changes.update(extra(event, self.record))
        return {
            "version": event.originator_version,
            "type": word,
            "occurredAt": timestamp(recorded_on(event)),
            "actor": (ledger or {}).get("actor") or UNRECORDED_ACTOR,
            "changes": changes,
            "previous": previous,
        }


def narrate(
    kind: Kind, events: Iterable[tuple[DomainEventProtocol[Any], dict[str, Any] | None]]
) -> Iterator[dict[str, Any]]:
    """A whole record's history, oldest first."""
    narrator = Narrator(kind)
    for event, ledger in events:
        yield narrator.tell(event, ledger)

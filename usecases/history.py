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
from operator import attrgetter
from typing import Any, get_type_hints

from eventsourcing.domain import Aggregate, CanMutateProtocol, DomainEventProtocol

from domain.account import Account
from domain.client import Client
from domain.invoice import Invoice, Payment
from domain.ledger import recorded_on
from usecases import change_shapes as shapes
from usecases.wire import attribute, line_item, timestamp

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


def _as_is(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Field:
    wire: str
    read: Callable[[Any], Any]
    show: Callable[[Any], Any] = _as_is


# How a record's field is read, where it is not its attribute named by the wire name in
# snake_case (clientId: client_id); the fields themselves are the change shapes' (usecases.change_shapes).
READS: dict[str, Callable[[Any], Any]] = {
    "invoiceNumber": attrgetter("number"),
    "sentViaEmail": lambda i: i.emailed_send > 0,
    "emailError": attrgetter("email_reply"),
}
# How a value is written, by its wire type; any other as it is.
SHOWS: tuple[tuple[Any, Callable[[Any], Any]], ...] = (
    (shapes.RecordId, _text),
    (shapes.Day, _day),
    (shapes.Timestamp, timestamp),
    (shapes.Timestamp | None, timestamp),
    (list[shapes.LineItemFields], _lines),
)


def fields_of(record: type) -> tuple[Field, ...]:
    """The history's fields of a record, from its change shape's TypedDict, in its order."""
    return tuple(
        Field(wire, READS.get(wire) or attrgetter(attribute(wire)), next((s for t, s in SHOWS if t == hint), _as_is))
        for wire, hint in get_type_hints(record, include_extras=True).items()
    )


INVOICE_FIELDS = fields_of(shapes.InvoiceFields)
CLIENT_FIELDS = fields_of(shapes.ClientFields)
ACCOUNT_FIELDS = fields_of(shapes.AccountFields)


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

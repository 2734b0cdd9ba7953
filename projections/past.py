"""Records as they were: an invoice, its client and its seller at a past version or moment.

Rebuilt from the events (from the latest snapshot at or before the version, where the
aggregate has them) into the very views the read model serves, so a past detail has the
shape and the values the live detail had then: ``createdAt`` and ``updatedAt`` are the
times the events were recorded, as the projection writes them.
"""

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from domain.account import Account
from domain.application import CleverInvo
from domain.client import Client
from domain.invoice import Invoice
from domain.ledger import recorded_on
from projections.views import AccountView, ClientView, InvoiceDetail, LineView, PaymentView

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

A = TypeVar("A", bound=Aggregate)
V = TypeVar("V", bound="DataclassInstance")

# Events that the read model records without touching a row's ``updated_at``.
QUIET_EVENTS = {
    Invoice: ("Invoice.EmailDelivered", "Invoice.EmailFailed"),
    Account: ("Account.ApiKeyIssued", "Account.ApiKeyRevoked"),
}
LOOK_BACK = 16


def naive_utc(moment: datetime | None) -> datetime | None:
    """As the read model stores times: UTC without a zone."""
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class PastInvoice:
    invoice: InvoiceDetail
    client: ClientView | None
    account: AccountView | None
    recorded_at: datetime  # when its version was recorded (aware, UTC)
    payments: list[PaymentView]  # as they stood then, oldest first


class Past:
    """Reads any aggregate of the application as of a version or a moment."""

    def __init__(self, app: CleverInvo) -> None:
        self.app = app

    # --- versions and moments --------------------------------------------------------

    def latest_version(self, aggregate_id: UUID) -> int | None:
        found = self.app.recorder.select_events(aggregate_id, desc=True, limit=1)
        return found[0].originator_version if found else None

    def recorded_at(self, aggregate_id: UUID, version: int) -> datetime | None:
        """When the aggregate's ``version`` was recorded."""
        found = self.app.recorder.select_events(aggregate_id, gt=version - 1, lte=version)
        if not found:
            return None
        return recorded_on(self.app.mapper.to_domain_event(found[0]))

    def version_at(self, aggregate_id: UUID, moment: datetime) -> int | None:
        """The aggregate's last version recorded at or before ``moment`` (None: none was).

        Times compare at the API's precision, milliseconds, so the ``occurredAt`` of a
        history entry names that entry's version. A binary search over the versions'
        times: a few indexed reads, however long the aggregate's history."""
        high = self.latest_version(aggregate_id)
        first = self.recorded_at(aggregate_id, 1) if high else None
        if high is None or first is None or _millis(first) > moment:
            return None
        low = 1
        while low < high:
            middle = (low + high + 1) // 2
            at = self.recorded_at(aggregate_id, middle)
            if at is not None and _millis(at) <= moment:
                low = middle
            else:
                high = middle - 1
        return low

    def load(self, cls: type[A], aggregate_id: UUID, version: int) -> A | None:
        """The aggregate exactly at ``version``; None if it never had that version."""
        if version < 1:
            return None
        try:
            aggregate: Aggregate = self.app.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            return None
        if not isinstance(aggregate, cls) or aggregate.version != version:
            return None
        return aggregate

    def load_at(self, cls: type[A], aggregate_id: UUID, moment: datetime) -> A | None:
        version = self.version_at(aggregate_id, moment)
        return None if version is None else self.load(cls, aggregate_id, version)

    def _updated_on(self, aggregate: Aggregate) -> datetime:
        """When the read model last moved the row's ``updated_at``: the last event that is
        not one of the row's quiet events."""
        quiet = QUIET_EVENTS.get(type(aggregate), ())
        version = aggregate.version
        while version > 0 and quiet:
            found = self.app.recorder.select_events(aggregate.id, lte=version, desc=True, limit=LOOK_BACK)
            for stored in found:
                if not stored.topic.endswith(quiet):
                    return recorded_on(self.app.mapper.to_domain_event(stored))
            version -= LOOK_BACK
        return aggregate.modified_on

    # --- views ----------------------------------------------------------------------

    def invoice(
        self, account_id: UUID, invoice_id: UUID, *, version: int | None = None, moment: datetime | None = None
    ) -> PastInvoice | None:
        """The invoice at ``version`` (or as of ``moment``), with its client and seller as
        they were when that version was recorded (or at ``moment``). None if the account
        has no such invoice, the version never existed, or the invoice was deleted then."""
        if version is None:
            if moment is None:
                raise ValueError("give a version or a moment")
            version = self.version_at(invoice_id, moment)
            if version is None:
                return None
        invoice = self.load(Invoice, invoice_id, version)
        if invoice is None or invoice.account_id != account_id or invoice.is_deleted:
            return None
        recorded = invoice.modified_on
        then = moment or recorded
        client = self.load_at(Client, invoice.client_id, then)
        account = self.load_at(Account, account_id, then)
        detail = invoice_detail(invoice, client, self._updated_on(invoice))
        return PastInvoice(
            detail,
            client_view(client) if client else None,
            self.account_view(account) if account else None,
            recorded,
            payment_views(invoice),
        )

    def account_view(self, account: Account) -> AccountView:
        return viewed(AccountView, account, updated_at=_naive(self._updated_on(account)))


def _millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def viewed(view: type[V], record: Aggregate, **derived: Any) -> V:
    """``view`` filled from ``record``: each field the record's same-named attribute (a time
    as the read model stores it), but ``id``, ``created_at`` and those ``derived``."""
    derived = {"id": str(record.id), "created_at": _naive(record.created_on), **derived}
    return view(
        **{
            name: derived[name] if name in derived else _as_stored(getattr(record, name))
            for name in (found.name for found in fields(view))
        }
    )


def _as_stored(value: Any) -> Any:
    return naive_utc(value) if isinstance(value, datetime) else value


def client_view(client: Client) -> ClientView:
    return viewed(ClientView, client, updated_at=_naive(client.modified_on))


def invoice_detail(invoice: Invoice, client: Client | None, updated_on: datetime) -> InvoiceDetail:
    """The detail: the invoice's same-named attributes, and these that are not."""
    return viewed(
        InvoiceDetail,
        invoice,
        account_id=str(invoice.account_id),
        client_id=str(invoice.client_id),
        invoice_number=invoice.number,
        updated_at=_naive(updated_on),
        client_name=client.name if client else "",
        client_email=client.email if client else None,
        line_items=[LineView(**vars(line)) for line in invoice.line_items],
        sent_via_email=invoice.emailed_send > 0,
    )


def payment_views(invoice: Invoice) -> list[PaymentView]:
    """The invoice's payments as its aggregate holds them, ordered as the read model lists them."""
    views = [
        PaymentView(
            id=str(paid.id),
            invoice_id=str(invoice.id),
            amount=paid.amount,
            paid_on=paid.paid_on,
            method=paid.method,
            reference=paid.reference,
            recorded_at=_naive(paid.recorded_at),
            reversed_at=naive_utc(paid.reversed_at),
        )
        for paid in invoice.payments.values()
    ]
    return sorted(views, key=lambda view: (view.recorded_at, view.id))

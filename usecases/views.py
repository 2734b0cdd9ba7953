"""What the use cases answer with: the read model's plain frozen records (``projections.views``)
and the ledger's digest, named here so that a door takes its shapes from the layer it calls
and never imports the read side behind it (the doors' import contract, ``.importlinter``).

``MarkedEvent`` is one event a keyed request recorded, as the idempotency keys hand them to
a door rebuilding a dead run's answer (it reads the event's kind, record and version, then
asks a use case for the record at that version: ``usecases.invoices.Invoices.at_version``)."""

from projections.ledger_index import LedgerDigest
from projections.marked_events import MarkedEvent
from projections.views import (
    AccountView,
    ClientView,
    InvoiceDetail,
    InvoiceSummary,
    KeyView,
    LineView,
    Page,
    PaymentView,
    SortKey,
)

__all__ = [
    "AccountView",
    "ClientView",
    "InvoiceDetail",
    "InvoiceSummary",
    "KeyView",
    "LedgerDigest",
    "LineView",
    "MarkedEvent",
    "Page",
    "PaymentView",
    "SortKey",
]

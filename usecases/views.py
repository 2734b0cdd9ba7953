"""What the use cases answer with: the read model's plain frozen records (``projections.views``)
and the ledger's digest, named here so that a door takes its shapes from the layer it calls
and never imports the read side behind it (the doors' import contract, ``.importlinter``)."""

from projections.ledger_index import LedgerDigest
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
    "Page",
    "PaymentView",
    "SortKey",
]

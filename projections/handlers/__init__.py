"""The projection's handlers: one per event class that makes read-model rows, typed with
what it reads of its event (``events``), in modules named for the rows they write
(``accounts``, ``clients``, ``invoices``, ``lifecycle``), writing through ``rows.Rows``."""

from projections.handlers import accounts, clients, invoices, lifecycle
from projections.handlers.registry import Handlers

HANDLERS = Handlers.union(module.handlers for module in (accounts, clients, invoices, lifecycle))

"""The event-sourced application: each public method is one command, one atomic save.

The commands are grouped by what they act on (``account_commands``, ``client_commands``,
``invoice_commands``, ``lifecycle_commands``), each over the machinery they all share
(``saving``: the sealed store, the stamping clock, loading and retrying)."""

from domain.account_commands import AccountCommands
from domain.client_commands import ClientCommands
from domain.invoice import Invoice
from domain.invoice_commands import InvoiceCommands
from domain.lifecycle_commands import LifecycleCommands
from domain.quotas import ClientQuota, InvoiceNumbering, InvoiceQuota
from domain.saving import Clock, replay, utc_now

__all__ = ["CleverInvo", "Clock", "replay", "utc_now"]


class CleverInvo(AccountCommands, ClientCommands, InvoiceCommands, LifecycleCommands):
    name = "CleverInvo"
    # Long-lived aggregates load from their latest snapshot; an invoice's past versions too.
    snapshotting_intervals = {ClientQuota: 50, InvoiceQuota: 50, InvoiceNumbering: 50, Invoice: 50}

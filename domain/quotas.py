"""Aggregates that make plan limits and invoice numbers exact under concurrency.

Each is saved in the same atomic ``save()`` as the client or invoice it counts, so two
racing commands conflict on its version and the loser is reloaded and re-checked.
"""

from uuid import UUID

from eventsourcing.domain import event

from domain.errors import Conflict, PlanLimitReached
from domain.ids import derived_id
from domain.timeline import Stamped


class ClientQuota(Stamped):
    """Counts an account's active clients."""

    @staticmethod
    def create_id(account_id: UUID) -> UUID:
        return derived_id("client-quota", account_id)

    @event("ClientQuotaOpened")
    def __init__(self, account_id: UUID) -> None:
        self.active = 0

    def take(self, client_id: UUID, limit: int | None) -> None:
        if limit is not None and self.active >= limit:
            raise PlanLimitReached(f"Plan limit reached: at most {limit} active clients")
        self._taken(client_id)

    @event("ClientSlotTaken")
    def _taken(self, client_id: UUID) -> None:
        self.active += 1

    @event("ClientSlotReleased")
    def release(self, client_id: UUID) -> None:
        self.active -= 1


class InvoiceQuota(Stamped):
    """Counts the invoices an account creates in one calendar month (UTC)."""

    @staticmethod
    def create_id(account_id: UUID, month: str) -> UUID:
        return derived_id("invoice-quota", account_id, month)

    @event("InvoiceQuotaOpened")
    def __init__(self, account_id: UUID, month: str) -> None:
        self.created = 0

    def count(self, invoice_id: UUID, limit: int | None) -> None:
        if limit is not None and self.created >= limit:
            raise PlanLimitReached(f"Plan limit reached: at most {limit} invoices per month")
        self._counted(invoice_id)

    @event("InvoiceCounted")
    def _counted(self, invoice_id: UUID) -> None:
        self.created += 1


class InvoiceNumbering(Stamped):
    """An account's sequence for numbers it assigns: INV-0001, INV-0002, ..."""

    @staticmethod
    def create_id(account_id: UUID) -> UUID:
        return derived_id("invoice-numbering", account_id)

    @event("NumberingOpened")
    def __init__(self, account_id: UUID) -> None:
        self.next_sequence = 1

    @event("NumberAssigned")
    def assigned(self, number: str, sequence: int) -> None:
        self.next_sequence = sequence + 1


def number_key(number: str) -> str:
    """Numbers are unique regardless of case: INV-0042 and inv-0042 are one number."""
    return number.casefold()


class InvoiceNumber(Stamped):
    """Holds one invoice number of one account; its id is derived from both."""

    @staticmethod
    def create_id(account_id: UUID, key: str) -> UUID:
        return derived_id("invoice-number", account_id, key)

    @event("NumberReserved")
    def __init__(self, account_id: UUID, key: str, number: str, invoice_id: UUID) -> None:
        self.holder: UUID | None = invoice_id
        self.number = number

    @property
    def is_taken(self) -> bool:
        return self.holder is not None

    def take(self, number: str, invoice_id: UUID) -> None:
        if self.holder is not None:
            raise Conflict(f"Invoice number already exists: {number}")
        self._reassigned(number, invoice_id)

    @event("NumberReassigned")
    def _reassigned(self, number: str, invoice_id: UUID) -> None:
        self.holder = invoice_id
        self.number = number

    @event("NumberReleased")
    def release(self) -> None:
        self.holder = None

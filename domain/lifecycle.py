"""An invoice's life: which action is allowed in which status, and how status follows
from the recorded facts. The only place that decides either.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain.errors import Conflict

DRAFT, SENT, VIEWED, PAID, PARTIALLY_PAID, OVERDUE, VOID = (
    "DRAFT",
    "SENT",
    "VIEWED",
    "PAID",
    "PARTIALLY_PAID",
    "OVERDUE",
    "VOID",
)
STATUSES = (DRAFT, SENT, VIEWED, PAID, PARTIALLY_PAID, OVERDUE, VOID)
ISSUED = frozenset({SENT, VIEWED, PARTIALLY_PAID, OVERDUE})  # sent, with a balance, not void


@dataclass(frozen=True)
class Action:
    verb: str  # as in "Cannot {verb} a {status} invoice"
    allowed: frozenset[str]


EDIT = Action("change", frozenset({DRAFT}))
DELETE = Action("delete", frozenset({DRAFT}))
SEND = Action("send", frozenset({DRAFT}) | ISSUED)
VIEW = Action("view", ISSUED | {PAID, VOID})
RECORD_PAYMENT = Action("record a payment on", ISSUED)
REVERSE_PAYMENT = Action("reverse a payment on", ISSUED | {PAID})
VOID_INVOICE = Action("void", ISSUED)
MARK_OVERDUE = Action("mark as overdue", frozenset({SENT, VIEWED, PARTIALLY_PAID}))


def _hint(action: Action, status: str) -> str:
    """What to do instead."""
    if status == DRAFT:
        return "a draft is deleted, not voided" if action is VOID_INVOICE else "send it first"
    if action is DELETE:
        return "issued invoices stay in the books" + ("; void it instead" if status in VOID_INVOICE.allowed else "")
    if action is EDIT:
        return "only DRAFT invoices can be changed"
    return "it is paid in full" if status == PAID else "it is void" if status == VOID else f"it is {status}"


def refusal(action: Action, status: str, why: str) -> Conflict:
    """The 409 every refusal is: "Cannot {verb} a {status} invoice; {why}"."""
    article = "an" if status[0] in "AEIOU" else "a"
    return Conflict(f"Cannot {action.verb} {article} {status} invoice; {why}")


def check(action: Action, status: str) -> None:
    """Raises Conflict naming the status and the action unless ``action`` is allowed now."""
    if status not in action.allowed:
        raise refusal(action, status, _hint(action, status))


@dataclass(frozen=True)
class Facts:
    """What has been recorded of an invoice, as far as its status depends on it."""

    sent_at: datetime | None
    viewed_at: datetime | None
    overdue_at: datetime | None
    voided_at: datetime | None
    amount_paid: Decimal
    total: Decimal


def derive_status(facts: Facts) -> str:
    """Void; else paid when nothing is due; else overdue once recorded; else partly paid;
    else viewed; else sent; else draft. Only a sent invoice can be anything but a draft."""
    if facts.voided_at is not None:
        return VOID
    if facts.sent_at is None:
        return DRAFT
    if facts.amount_paid >= facts.total:
        return PAID
    if facts.overdue_at is not None:
        return OVERDUE
    if facts.amount_paid > 0:
        return PARTIALLY_PAID
    if facts.viewed_at is not None:
        return VIEWED
    return SENT

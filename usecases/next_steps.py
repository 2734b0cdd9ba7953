"""What can be done next with an invoice in a given status, as the domain's lifecycle
allows it: a page offers these actions and no others (the commands check again)."""

from domain import lifecycle

ACTIONS = {
    "edit": lifecycle.EDIT,
    "delete": lifecycle.DELETE,
    "send": lifecycle.SEND,
    "record_payment": lifecycle.RECORD_PAYMENT,
    "reverse_payment": lifecycle.REVERSE_PAYMENT,
    "void": lifecycle.VOID_INVOICE,
}


def next_steps(status: str) -> frozenset[str]:
    """The names of ``ACTIONS`` allowed in ``status``."""
    return frozenset(name for name, action in ACTIONS.items() if status in action.allowed)

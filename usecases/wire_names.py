"""The doors' names for the domain's fields, in one table: the domain names a field by its
attribute (``due_date``, ``line_items[0].unit_price``), REST and GraphQL by their wire name
(``dueDate``, ``lineItems[0].unitPrice``). A name not in the table is the same on both
sides (``notes``, ``currency``).

The use cases take wire-keyed values through it (``usecases.inputs``), and every door
words a refusal with it where the refusal becomes an answer: ``wire_message`` and
``wire_field`` (REST's ``gateway.http.errors``, GraphQL's errors, the dashboard's problems)."""

import re
from collections.abc import Mapping

from domain.errors import DomainError

WIRE_NAMES: Mapping[str, str] = {
    "client_id": "clientId",
    "invoice_number": "invoiceNumber",
    "issue_date": "issueDate",
    "due_date": "dueDate",
    "line_items": "lineItems",
    "unit_price": "unitPrice",
    "tax_rate": "taxRate",
    "discount_rate": "discountRate",
    "tax_id": "taxId",
}
_NAME = re.compile(r"[A-Za-z_]\w*")


def wire_name(name: str) -> str:
    """``due_date`` -> ``dueDate``; a wire name, or one the same on both sides, as it is."""
    return WIRE_NAMES.get(name, name)


def wire_path(path: str) -> str:
    """``line_items[0].unit_price`` -> ``lineItems[0].unitPrice``: each name of the path."""
    return _NAME.sub(lambda found: wire_name(found[0]), path)


def wire_message(error: DomainError) -> str:
    """The refusal's message with every field it names by its wire name."""
    return error.worded(wire_path)


def wire_field(error: DomainError) -> str | None:
    """The path of the field at fault, by wire names (None: not about one field)."""
    return wire_path(error.field) if error.field is not None else None

"""The doors' names for the domain's fields, by one rule: the domain names a field by its
attribute (``due_date``, ``line_items[0].unit_price``), REST and GraphQL by its camelCase
(``dueDate``, ``lineItems[0].unitPrice``), the inverse of ``usecases.wire.attribute``. A
name without an underscore is the same on both sides (``notes``, ``currency``), and a wire
name stays as it is.

The use cases take wire-keyed values through it (``usecases.inputs``), and every door
words a refusal with it where the refusal becomes an answer: ``wire_message`` and
``wire_field`` (REST's ``gateway.http.errors``, GraphQL's errors, the dashboard's
problems, the command line)."""

import re

from domain.errors import DomainError

_NAME = re.compile(r"[A-Za-z_]\w*")


def wire_name(name: str) -> str:
    """``due_date`` -> ``dueDate``; a wire name, or one the same on both sides, as it is."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def wire_path(path: str) -> str:
    """``line_items[0].unit_price`` -> ``lineItems[0].unitPrice``: each name of the path."""
    return _NAME.sub(lambda found: wire_name(found[0]), path)


def wire_message(error: DomainError) -> str:
    """The refusal's message with every field it names by its wire name."""
    return error.worded(wire_path)


def wire_field(error: DomainError) -> str | None:
    """The path of the field at fault, by wire names (None: not about one field)."""
    return wire_path(error.field) if error.field is not None else None

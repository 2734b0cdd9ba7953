"""The domain's error hierarchy. Each carries a machine ``code`` that every door reports
as it is (GraphQL's ``extensions.code``) or maps to its own terms (an HTTP status, and
the finer code of ``gateway.http.codes``), and, when the refusal is about one field of the
input, that field's path.

The domain names fields by their attribute names (``line_items[0].unit_price``,
``due_date``); a door names them by its own (``lineItems[0].unitPrice``). A refusal about
fields is made with ``about``, which keeps the message's template, so a door words it
again with its names (``worded``, given ``usecases.wire_names.wire_path``)."""

import re
from collections.abc import Callable
from typing import Self

# The contract's words for a refusal about one field (docs/api.md, "Requests are refused in
# these words"): the field's path is the quoted name, or what follows the colon.
_NAMES_A_FIELD = re.compile(r"Field '([^']+)'|(?:Missing required field|Unknown field): (\S+)$")


def field_named(message: str) -> str | None:
    """The path of the field a refusal's message names (``Field 'lineItems[0].quantity'
    must be ...``, ``Missing required field: clientId``, ``Unknown field: bogus``), if any."""
    found = _NAMES_A_FIELD.match(message)
    return (found.group(1) or found.group(2)) if found else None


class DomainError(Exception):
    """Base of every error a command can refuse with."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field if field is not None else field_named(message)
        self.template: str | None = None  # the message, its fields as {0}, {1}... (``about``)
        self.paths: tuple[str, ...] = ()
        self.values: dict[str, str] = {}

    @classmethod
    def about(cls, template: str, *paths: str, **values: str) -> Self:
        """A refusal about the fields at ``paths`` (attribute paths; the first is the one at
        fault), named in ``template`` as {0}, {1}...; ``values`` fill its other places
        ({given}) as they are: ``about("Field '{0}' must be on or after '{1}'", "due_date", "issue_date")``."""
        error = cls(template.format(*paths, **values), paths[0])
        error.template, error.paths, error.values = template, paths, values
        return error

    def worded(self, name: Callable[[str], str]) -> str:
        """The message with each field it names called ``name(path)`` (a door's names)."""
        if self.template is None:
            return self.message
        return self.template.format(*(name(path) for path in self.paths), **self.values)


class NotFound(DomainError):
    """The resource does not exist, or belongs to another account."""

    code = "NOT_FOUND"


class ValidationError(DomainError):
    """The command's values break a rule of the domain."""

    code = "BAD_REQUEST"


class Conflict(DomainError):
    """The command clashes with the current state (a taken number, a non-draft invoice)."""

    code = "CONFLICT"


class PlanLimitReached(DomainError):
    """The account's plan does not allow this (a limit or a feature)."""

    code = "FORBIDDEN"

"""The scalars the schema adds: exact money, the API's timestamps and dates, free-form JSON.

Each takes exactly what REST takes for the same field: a number as written (never through
a binary float), a numeric string of digits, a date as YYYY-MM-DD, a timestamp with a time.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import strawberry
from graphql import FloatValueNode, IntValueNode, StringValueNode, ValueNode
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

from gateway.http.problems import BadRequest
from usecases.wire import day, number_text, timestamp
from usecases.wire_values import moment, timestamp_problem

__all__ = ["JSON", "SCALARS", "DateScalar", "DateTimeScalar", "DecimalScalar"]

NUMBER_PROBLEM = 'Decimal must be a number, or a string of digits such as "5500.00"'


def _exact(text: str) -> Decimal:
    try:
        found = Decimal(text)
    except InvalidOperation:
        raise ValueError(NUMBER_PROBLEM) from None
    if not found.is_finite():
        raise ValueError(NUMBER_PROBLEM)
    return found


def _decimal(value: Any) -> Decimal:
    """A variable: a JSON number (read exactly: the door parses JSON numbers as Decimal) or
    a string of digits."""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return _exact(str(value))
    written = number_text(value)  # a string of digits, as REST takes it
    if written is None:
        raise ValueError(NUMBER_PROBLEM)
    return written


def _decimal_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> Decimal:
    """A literal in the query: the number's own text, so 0.1 stays 0.1."""
    if isinstance(node, IntValueNode | FloatValueNode):
        return _exact(node.value)
    if isinstance(node, StringValueNode):
        return _decimal(node.value)
    raise ValueError(NUMBER_PROBLEM)


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description=(
        'An exact decimal number, written as a JSON string ("5500.00") so no client rounds it through a '
        "binary float; amounts carry the currency's minor unit. Inputs take a number (read exactly as "
        "written) or a string of digits."
    ),
    serialize=lambda value: format(value, "f"),
    parse_value=_decimal,
    parse_literal=_decimal_literal,
)


def _datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 timestamp such as 2026-03-31T23:59:59Z")
    found = moment(value)  # exactly as REST takes it
    if found is None:
        raise BadRequest(timestamp_problem("asOf"))
    return found


DateTimeScalar = strawberry.scalar(
    name="DateTime",
    description="A moment: ISO 8601 in UTC with milliseconds, 2024-01-15T09:30:00.000Z (inputs: any offset).",
    serialize=timestamp,
    parse_value=_datetime,
)


def _date(value: Any) -> date:
    found = day(value)  # exactly as REST takes it
    if found is None:
        raise ValueError("Date must be a date as YYYY-MM-DD")
    return found


DateScalar = strawberry.scalar(
    name="Date",
    description="A calendar date, YYYY-MM-DD.",
    serialize=lambda value: value.isoformat(),
    parse_value=_date,
)

SCALARS: dict[object, ScalarDefinition] = {Decimal: DecimalScalar, datetime: DateTimeScalar, date: DateScalar}

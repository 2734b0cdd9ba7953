"""The scalars the schema adds: exact money, the API's timestamps, free-form JSON."""

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition

from usecases.wire import timestamp

__all__ = ["JSON", "SCALARS", "DateScalar", "DateTimeScalar", "DecimalScalar"]


def _decimal(value: Any) -> Decimal:
    """From a string ("5500.00", exact) or a number literal (as written in the query)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('Decimal must be a string such as "5500.00" or a number')
    try:
        found = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"Decimal must be a number, not {str(value)[:40]!r}") from None
    if not found.is_finite():
        raise ValueError("Decimal must be a finite number")
    return found


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description=(
        'An exact decimal number, written as a JSON string ("5500.00") so no client rounds it through a '
        "binary float; amounts carry the currency's minor unit. Inputs take a string or a number."
    ),
    serialize=lambda value: format(value, "f"),
    parse_value=_decimal,
)


def _datetime(value: Any) -> datetime:
    if not isinstance(value, str) or "T" not in value.upper():
        raise ValueError("DateTime must be an ISO 8601 timestamp such as 2026-03-31T23:59:59Z")
    moment = datetime.fromisoformat(value.strip())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


DateTimeScalar = strawberry.scalar(
    name="DateTime",
    description="A moment: ISO 8601 in UTC with milliseconds, 2024-01-15T09:30:00.000Z (inputs: any offset).",
    serialize=timestamp,
    parse_value=_datetime,
)


def _date(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("Date must be YYYY-MM-DD")
    return date.fromisoformat(value)


DateScalar = strawberry.scalar(
    name="Date",
    description="A calendar date, YYYY-MM-DD.",
    serialize=lambda value: value.isoformat(),
    parse_value=_date,
)

SCALARS: dict[object, ScalarDefinition] = {Decimal: DecimalScalar, datetime: DateTimeScalar, date: DateScalar}

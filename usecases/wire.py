"""How values are written on the wire, the same through every door: timestamps ISO 8601
UTC with milliseconds and Z, dates YYYY-MM-DD, line items with the API's field names."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.money import LineItem
from projections.views import LineView
from usecases.change_shapes import LineItemFields


def timestamp(moment: datetime | None) -> str | None:
    """2024-01-15T00:00:00.000Z; an aware time is converted to UTC, a naive one is UTC."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    m = moment  # the fields formatted directly: a third faster than strftime, 40 a page
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}."
        f"{m.microsecond // 1000:03d}Z"
    )


def attribute(wire: str) -> str:
    """The attribute a wire name names: its snake_case (unitPrice: unit_price)."""
    return re.sub("[A-Z]", lambda upper: "_" + upper[0].lower(), wire)


def line_item(line: LineView | LineItem) -> dict[str, Any]:
    """A line as read (``LineView``) or as recorded in an event (``LineItem``), with the
    fields of its change shape (``usecases.change_shapes.LineItemFields``)."""
    return {wire: getattr(line, attribute(wire)) for wire in LineItemFields.__annotations__}


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# As JSON writes a number (RFC 8259 §6), without exponent: no sign but "-", no spaces, no
# leading zeros ("0.50" yes; " 10 ", "010", "+1" no), so both doors take the same strings.
_NUMBER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]{0,29})(?:\.[0-9]{1,30})?")


def day(value: object) -> date | None:
    """A date written exactly as YYYY-MM-DD (no week dates, no compact forms); None if not."""
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:  # 2024-02-30
            return None
    return None


def number_text(value: object) -> Decimal | None:
    """A number written as a string of digits ("5500.00", "-1.5"); None if not."""
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None

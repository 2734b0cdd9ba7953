"""The rules a draft's values meet, each checked once, here: an invoice's number, currency,
free texts, lines and dates, and the due date a draft gets when it names none."""

import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta

from domain.errors import ValidationError
from domain.money import LineItemDraft, check_line, is_currency
from domain.texts import storable

DEFAULT_PAYMENT_DAYS = 30
MAX_LINE_ITEMS = 500
MAX_TEXT = 5000
MAX_NUMBER = 64


def check_number(number: str) -> str:
    number = number.strip()
    if not number:
        raise ValidationError.about("Field '{0}' must not be empty", "invoice_number")
    if len(number) > MAX_NUMBER:
        raise ValidationError.about(f"Field '{{0}}' must be at most {MAX_NUMBER} characters", "invoice_number")
    if any(unicodedata.category(ch).startswith("C") for ch in number):
        raise ValidationError.about("Field '{0}' must not contain control characters", "invoice_number")
    return number


def check_currency(currency: str) -> str:
    """The ISO 4217 code ``currency`` names (any case, spaces around it): the one place a
    currency is checked, for a draft's quote as for a saved invoice."""
    code = storable(currency, "currency").strip().upper()
    if not is_currency(code):
        raise ValidationError.about(
            "Field '{0}' must be an ISO 4217 currency code, not '{given}'", "currency", given=currency
        )
    return code


def check_text(value: str | None, field: str, max_length: int = MAX_TEXT) -> str | None:
    """Free text (an invoice's texts, a send's message, a void's reason): storable, trimmed,
    blank as None, at most ``max_length`` characters."""
    text = storable(value, field).strip() if value is not None else None
    if not text:
        return None
    if len(text) > max_length:
        raise ValidationError.about(f"Field '{{0}}' must be at most {max_length} characters", field)
    return text


def check_lines(lines: Sequence[LineItemDraft]) -> list[LineItemDraft]:
    if not lines:
        raise ValidationError.about("Field '{0}' must hold at least one line item", "line_items")
    if len(lines) > MAX_LINE_ITEMS:
        raise ValidationError.about(f"Field '{{0}}' must hold at most {MAX_LINE_ITEMS} line items", "line_items")
    return [check_line(line, f"line_items[{i}]") for i, line in enumerate(lines)]


def check_dates(issue_date: date, due_date: date) -> None:
    if due_date < issue_date:
        raise ValidationError.about("Field '{0}' must be on or after '{1}'", "due_date", "issue_date")


def default_due_date(issue_date: date) -> date:
    try:
        return issue_date + timedelta(days=DEFAULT_PAYMENT_DAYS)
    except OverflowError:  # an issueDate in the last days of 9999 has no date 30 days on
        raise ValidationError.about(
            "Field '{0}' is required when '{1}' is this late", "due_date", "issue_date"
        ) from None

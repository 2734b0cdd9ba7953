"""Reading what a form sent: URL-encoded, UTF-8, bounded like every body."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qsl

from starlette.requests import Request

from domain.errors import ValidationError
from gateway.http.jsonio import read_body
from gateway.http.problems import BadRequest, HttpProblem
from usecases.wire import day, number_text

MAX_FIELDS = 5000  # 500 lines of 5 fields, and the rest of the form


class UnsupportedForm(HttpProblem):
    status = 415


@dataclass(frozen=True)
class Form:
    pairs: list[tuple[str, str]]

    def get(self, name: str, default: str = "") -> str:
        for key, value in self.pairs:
            if key == name:
                return value
        return default

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.pairs)

    def optional(self, name: str) -> str | None:
        """The field's text, or None when it was left blank."""
        value = self.get(name)
        return value if value.strip() else None

    def values(self, *names: str) -> dict[str, str | None]:
        """Each named field as given; blank ones as None (which clears an optional field)."""
        return {name: self.optional(name) for name in names}


async def read_form(request: Request, limit: int) -> Form:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise UnsupportedForm("Forms must be sent as application/x-www-form-urlencoded")
    body = await read_body(request, limit)
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The form could not be read") from None
    return Form([(name, newlines(value)) for name, value in pairs])


def newlines(value: str) -> str:
    """Line breaks as ``\n``: a browser sends a textarea's as CRLF (HTML Living Standard,
    4.10.21.8 "converting an entry list to a list of name-value pairs"), the API takes LF,
    and the two must store the same text."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def decimal_field(value: str, wire: str, *, blank: Decimal | None = None) -> Decimal:
    """A number typed in a form (a number input sends 12.5 whatever the language)."""
    if not value.strip():
        if blank is not None:
            return blank
        raise ValidationError(f"Field '{wire}' must be a number")
    found = number_text(value.strip())
    if found is None:
        raise ValidationError(f"Field '{wire}' must be a number")
    return found


def date_field(value: str, wire: str) -> date | None:
    """A date from a date input (YYYY-MM-DD), None when left blank."""
    if not value.strip():
        return None
    found = day(value.strip())
    if found is None:
        raise ValidationError(f"Field '{wire}' must be a date")
    return found

"""Every problem of a refused form at once.

The use cases stop at the first thing they refuse, as the API answers; a person filling in a
form wants all of them at once (a missing client no longer hides a line's bad quantity). Once
a use case has refused a form, each field is checked again on its own here, by the same
checks the use case runs (the domain's, with its messages), beside known-good values for the
rest; the use case's own refusal is kept among them, so nothing it said is lost.
"""

from collections.abc import Callable, Iterable
from decimal import Decimal

from domain.client import check_client_fields
from domain.errors import DomainError, ValidationError
from gateway.dashboard.forms import date_field, decimal_field
from usecases.inputs import CLIENT_WIRE, ClientFields, LineInput, client_ref
from usecases.owners import MAX_PASSWORD, MIN_PASSWORD
from usecases.pricing import known_currency, quote
from usecases.wire_names import wire_message

LINE_FIELDS = ("description", "quantity", "unitPrice", "discountRate", "taxRate")
# a line every check takes, beside which one field as typed is checked
GOOD_LINE = {"description": "x", "quantity": "1", "unitPrice": "1", "discountRate": "", "taxRate": ""}


def _refusal(check: Callable[[], object]) -> DomainError | None:
    try:
        check()
    except DomainError as exc:
        return exc
    return None


def merged(found: Iterable[DomainError | None], refused: DomainError) -> list[DomainError]:
    """The refusals found, in the form's order, each once, with the use case's own among them."""
    kept: list[DomainError] = []
    for error in [*found, refused]:
        if error is not None and all(wire_message(error) != wire_message(seen) for seen in kept):
            kept.append(error)
    return kept


# --- clients ----------------------------------------------------------------------------------


def client_refusals(values: dict[str, str | None], refused: DomainError, *, creating: bool) -> list[DomainError]:
    """Each client field checked on its own (the name as required when creating)."""

    def one(wire: str, value: str | None) -> Callable[[], object]:
        return lambda: check_client_fields(
            ClientFields({wire: value}).domain_values(), creating=creating and CLIENT_WIRE[wire] == "name"
        )

    return merged((_refusal(one(wire, value)) for wire, value in values.items() if wire in CLIENT_WIRE), refused)


# --- invoices ---------------------------------------------------------------------------------


def _line_check(currency: str, row: dict[str, str], index: int, name: str) -> DomainError | None:
    """One cell of line ``index`` checked beside a good line's other cells, named as that line's."""
    where = f"lineItems[{index}]"
    cell = {**GOOD_LINE, name: row.get(name, "")}

    def check() -> object:
        line = LineInput(
            description=cell["description"],
            quantity=decimal_field(cell["quantity"], f"{where}.quantity"),
            unit_price=decimal_field(cell["unitPrice"], f"{where}.unitPrice"),
            tax_rate=decimal_field(cell["taxRate"], f"{where}.taxRate", blank=Decimal(0)),
            discount_rate=decimal_field(cell["discountRate"], f"{where}.discountRate", blank=Decimal(0)),
        )
        return quote(currency, [line])

    error = _refusal(check)
    if error is not None:  # quote names the one line it was given as the first
        error = type(error)(wire_message(error).replace("lineItems[0]", where))
    return error


def invoice_refusals(values: dict[str, str], rows: list[dict[str, str]], refused: DomainError) -> list[DomainError]:
    """The client, the currency, the dates and every cell of every line, each on its own."""
    currency = values.get("currency") or "USD"
    found: list[DomainError | None] = [
        _refusal(lambda: client_ref(values.get("clientId", ""))),
        _refusal(lambda: quote(currency, [])) if not rows else None,
        _refusal(lambda: date_field(values.get("issueDate", ""), "issueDate")),
        _refusal(lambda: date_field(values.get("dueDate", ""), "dueDate")),
    ]
    priced_in = currency if known_currency(currency) is not None else "USD"
    if priced_in != currency:
        found.append(_refusal(lambda: quote(currency, [])))
    for index, row in enumerate(rows):
        found += [_line_check(priced_in, row, index, name) for name in LINE_FIELDS]
    return merged(found, refused)


# --- passwords --------------------------------------------------------------------------------


def password_refusals(password: str, email: str | None, refused: DomainError) -> list[DomainError]:
    """Each of usecases.owners.check_password's rules on its own: long enough, not too long,
    not only spaces, not the email address (the use case stops at the first)."""
    found: list[DomainError | None] = []
    if len(password) < MIN_PASSWORD:
        found.append(ValidationError(f"Field 'password' must be at least {MIN_PASSWORD} characters"))
    if len(password) > MAX_PASSWORD:
        found.append(ValidationError(f"Field 'password' must be at most {MAX_PASSWORD} characters"))
    if password and not password.strip():
        found.append(ValidationError("Field 'password' must not be only spaces"))
    if email is not None and password.strip() and password.strip().casefold() == email.strip().casefold():
        found.append(ValidationError("Field 'password' must not be the email address"))
    return merged(found, refused)

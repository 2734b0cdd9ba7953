"""The wire types the contract's Structs are made of, with the caps the domain enforces.

Every cap is the domain's own constant, so the published schema cannot drift from the rule.
``Meta.extra`` holds what ``decoding`` needs to say a refusal in the contract's words:
``message`` replaces "Field 'x' must be ..." for a type mismatch, ``noun`` names a list's
items in "must hold at most N ...".
"""

import functools
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from msgspec import Meta

from domain.client import CLIENT_FIELDS, has_visible_text
from domain.currencies import MINOR_UNITS
from domain.invoice_checks import MAX_LINE_ITEMS, MAX_NUMBER, MAX_TEXT
from domain.money import MAX_INPUT_DECIMALS, MAX_QUANTITY, MAX_TAX_DECIMALS, MAX_UNIT_PRICE
from usecases import change_shapes as answers
from usecases.change_shapes import Amount as Amount
from usecases.change_shapes import Currency as Currency
from usecases.change_shapes import Money as Money
from usecases.change_shapes import Percent as Percent
from usecases.change_shapes import RecordId as RecordId
from usecases.change_shapes import Timestamp as Timestamp

# The values answers carry are declared once, with the change shapes both doors derive from
# (usecases/change_shapes.py); these two keep the names this module gave them.
DayText = answers.Day
Status = answers.InvoiceStatus

MAX_DESCRIPTION = 1000  # domain.money.check_line
MAX_SHORT_TEXT = 255  # a payment's method and reference (domain.lifecycle_commands._short_text)
MAX_RECIPIENTS = 20  # usecases.inputs.sending
MAX_PAYMENT_DECIMALS = max(MINOR_UNITS.values())  # the currency's minor units decide (4 at most)

# --- numbers -----------------------------------------------------------------------------
# A number is a JSON number (read exactly as written: 125.00 stays 125.00) or a string of
# digits written as JSON writes a number ("125.00", "0.50"; never " 10 " or "010", as
# contract.decoding.number_text reads it). The string patterns hold the same bounds as the
# numbers, so a string the schema allows is one the domain takes.


# White space as Python's str.strip() and the domain read it, spelled out: `\s` means
# something else in each regular expression engine (ECMA-262's, Python's, Rust's, ASCII).
WHITE = r"\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACES = f"[{WHITE}]*"


def _nonzero_fraction(places: int) -> str:
    """1 to ``places`` decimals, not all zero."""
    return "|".join(f"0{{{zeros}}}[1-9][0-9]{{0,{places - 1 - zeros}}}" for zeros in range(places))


def _digits_pattern(places: int, most_digits: int | None, *, zero: bool) -> str:
    """Text of a number above 0 (or from 0, with ``zero``) and at most ``10**most_digits``
    (or unbounded), with at most ``places`` decimals, without leading zeros or spaces."""
    fraction = f"(?:\\.[0-9]{{1,{places}}})?"
    whole = f"[1-9][0-9]{{0,{(most_digits or 30) - 1}}}{fraction}"
    forms = [whole, f"0\\.(?:{_nonzero_fraction(places)})"]
    if most_digits is not None:
        forms.append(f"1{'0' * most_digits}(?:\\.0{{1,{places}}})?")
    if zero:
        forms.append(f"-?0(?:\\.0{{1,{places}}})?")
    return "^(?:" + "|".join(forms) + ")$"


def _exponent(bound: Decimal) -> int:
    exponent = bound.adjusted()
    assert bound == Decimal(10) ** exponent, "bounds are powers of ten"
    return exponent


def number_schema(places: int, most: Decimal | None, *, zero: bool) -> dict[str, Any]:
    """A JSON number or a string of digits. JSON Schema cannot bound a number's decimals
    exactly (``multipleOf`` is read in binary floating point), so ``x-decimal-places``
    states the bound for tools that read it; the string's pattern holds it."""
    number: dict[str, Any] = {
        "type": "number",
        ("minimum" if zero else "exclusiveMinimum"): 0,
        "x-decimal-places": places,
    }
    if most is not None:
        number["maximum"] = int(most)
    text = {"type": "string", "pattern": _digits_pattern(places, None if most is None else _exponent(most), zero=zero)}
    return {"anyOf": [number, text]}


def _number(description: str, places: int, most: Decimal | None, *, zero: bool) -> Any:
    limits = f"at most {places} decimal places" + (f", at most {most}" if most is not None else "")
    return Meta(
        description=f"{description} A JSON number, read exactly as written, or a string of digits; {limits}.",
        extra_json_schema=number_schema(places, most, zero=zero),
        extra={"message": "must be a number"},
    )


Quantity = Annotated[Decimal, _number("Greater than 0.", MAX_INPUT_DECIMALS, MAX_QUANTITY, zero=False)]
UnitPrice = Annotated[Decimal, _number("At least 0.", MAX_INPUT_DECIMALS, MAX_UNIT_PRICE, zero=True)]
Rate = Annotated[Decimal, _number("A percentage from 0 to 100.", MAX_TAX_DECIMALS, Decimal(100), zero=True)]
PaymentAmount = Annotated[
    Decimal,
    _number(
        "Greater than 0, in the currency's minor units (2 decimals for USD, 0 for JPY), at most the balance due.",
        MAX_PAYMENT_DECIMALS,
        None,
        zero=False,
    ),
]

# --- dates and times -------------------------------------------------------------------------

Day = Annotated[date, Meta(description="A date, YYYY-MM-DD.", extra={"message": "must be a date as YYYY-MM-DD"})]

# --- texts -----------------------------------------------------------------------------------


def _class_of(holds: Callable[[str], bool]) -> str:
    """The body of a character class naming every character of Unicode (surrogates aside)
    for which ``holds`` is true, as ``\\uXXXX`` (``\\UXXXXXXXX`` beyond the Basic
    Multilingual Plane) ranges that Python's ``re`` and Rust's regex read alike. Made from
    the domain's own rule when the document is first built, so it is that rule under this
    Python's Unicode version."""
    ranges: list[tuple[int, int]] = []
    both_ends = holds("\ud7ff") and holds("\ue000")
    for point in (*range(0xD800), *range(0xE000, 0x110000)):
        # Rust's regex engine (jsonschema-rs, which schemathesis validates with) misreads a
        # class holding both ends of the surrogate gap: U+D7FF (unassigned) is left out.
        if holds(chr(point)) and not (both_ends and point == 0xD7FF):
            if ranges and ranges[-1][1] == point - 1:
                ranges[-1] = (ranges[-1][0], point)
            else:
                ranges.append((point, point))

    def escaped(point: int) -> str:  # beyond the BMP: \\U and 8 digits, read alike by Python's re and Rust's regex
        return f"\\u{point:04x}" if point < 0x10000 else f"\\U{point:08x}"

    return "".join(escaped(low) + (f"-{escaped(high)}" if high > low else "") for low, high in ranges)


# Character classes written into patterns when the document is built (``expand``), not at
# import: what domain.invoice.check_number refuses in an invoice number (Unicode category C:
# controls, format characters, private use, unassigned), and what draws nothing
# (domain.client.has_visible_text).
_CLASSES: dict[str, Callable[[str], bool]] = {
    "<control>": lambda char: unicodedata.category(char).startswith("C"),
    "<invisible>": lambda char: not has_visible_text(char),
}
_CONTROL, _INVISIBLE = _CLASSES


@functools.cache
def _expanded(name: str) -> str:
    return _class_of(_CLASSES[name])


def expand(pattern: str) -> str:
    """``pattern`` with the domain's character classes written out."""
    for name in _CLASSES:
        if name in pattern:
            pattern = pattern.replace(name, _expanded(name))
    return pattern


NO_NUL = r"^[^\u0000]*$"


def text(most: int, description: str, *, pattern: str = NO_NUL, least: int | None = None) -> Any:
    """A string of at most ``most`` characters, counted as sent (``decoding`` refuses more).
    The pattern and least length only describe what the domain checks, in its own words,
    after trimming (``decoding`` leaves them to it)."""
    shape: dict[str, Any] = {"pattern": pattern} | ({"minLength": least} if least else {})
    return Meta(max_length=most, description=description, extra_json_schema=shape)


Name = Annotated[
    str,
    text(
        CLIENT_FIELDS["name"],
        "Holds a visible character; trimmed.",
        pattern=rf"^[^\u0000]*[^{_INVISIBLE}][^\u0000]*$",
        least=1,
    ),
]
_ADDRESS_PART = rf'[^@{WHITE}\u0000"(),:;<>\[\]\\'  # domain.client's, and no NUL (the use cases refuse it)
_EMAIL = rf"{_ADDRESS_PART}]+@{_ADDRESS_PART}]+\.{_ADDRESS_PART}.]{{2,}}"
Email = Annotated[
    str,
    text(CLIENT_FIELDS["email"], "An email address; blank clears it.", pattern=f"^{_SPACES}(?:{_EMAIL})?{_SPACES}$"),
]
Recipient = Annotated[str, text(CLIENT_FIELDS["email"], "An email address.", pattern=f"^{_SPACES}{_EMAIL}{_SPACES}$")]
Recipients = Annotated[
    list[Recipient],
    Meta(
        max_length=MAX_RECIPIENTS,
        description='Addresses; only with "email": true.',
        extra={"message": "must be an array of email addresses", "noun": "addresses"},
    ),
]
Address = Annotated[str, text(CLIENT_FIELDS["address"], "Blank clears it.")]
TaxId = Annotated[str, text(CLIENT_FIELDS["tax_id"], "Blank clears it.")]
Phone = Annotated[str, text(CLIENT_FIELDS["phone"], "Blank clears it.")]
ClientNotes = Annotated[str, text(CLIENT_FIELDS["notes"], "Blank clears it.")]
LongText = Annotated[str, text(MAX_TEXT, "Blank clears it.")]
ShortText = Annotated[str, text(MAX_SHORT_TEXT, "Trimmed; blank is none.")]
Reference = Annotated[str, text(MAX_NUMBER, "A reference (the customer's purchase order); trimmed; blank clears it.")]
Description = Annotated[
    str,
    text(MAX_DESCRIPTION, "What is invoiced; trimmed.", pattern=rf"^[^\u0000]*[^{WHITE}\u0000][^\u0000]*$", least=1),
]
InvoiceNumber = Annotated[
    str,
    text(
        MAX_NUMBER,
        "Unique in the account (case-insensitive); when absent, the account's next number (INV-0001...).",
        pattern=rf"^{_SPACES}[^{_CONTROL}{WHITE}](?:[^{_CONTROL}]*[^{_CONTROL}{WHITE}])?{_SPACES}$",
        least=1,
    ),
]
ClientRef = Annotated[
    str, Meta(description="An active client of this account, by id.", extra_json_schema={"format": "uuid"})
]


def line_items(description: str) -> Any:
    return Meta(
        min_length=1,
        max_length=MAX_LINE_ITEMS,
        description=description,
        extra={
            "message": "must be an array of line items",
            "noun": "line items",
            "too_few": "must hold at least one line item",  # domain.invoice's words
        },
    )


def read_only(description: str = "Returned by the API; ignored when sent back.") -> Any:
    """A field a client may send back as it read it: accepted and ignored."""
    return Meta(description=description, extra_json_schema={"readOnly": True})


ReadOnly = Annotated[Any, read_only()]

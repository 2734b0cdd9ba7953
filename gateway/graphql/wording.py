"""A variable whose value does not fit its type, told in REST's words.

graphql-core refuses such a value in a parser's words: ``Variable '$input' has invalid
value at .lineItems[0]: Expected value of type 'LineItemInput' to include required field
'quantity', found: {...}.`` The same mistake in a REST body reads ``Missing required field:
lineItems[0].quantity``; a client of both doors should meet one wording, and one field
path (``extensions.field``), for one mistake. What is not recognised keeps graphql-core's
message, with the field's path where it is known.
"""

import re
from dataclasses import dataclass

_VARIABLE = re.compile(
    r"Variable '\$(?P<name>\w+)' has invalid value(?: at (?P<path>(?:\.\w+|\[\d+\])+))?: (?P<rest>.*)", re.S
)
_REQUIRED = re.compile(r"Expected value of type '[^']+' to include required field '(?P<field>\w+)'")
_UNKNOWN = re.compile(r"Expected value of type '[^']+' not to include unknown field '(?P<field>\w+)'")
_NULL = re.compile(r"Expected (?:a )?value of non-null type '[^']+' (?:not to be None|to be provided)")
_OBJECT = re.compile(r"Expected value of type '[^']+' to be an object")
_SCALAR = re.compile(r"Expected value of type '(?P<type>[^']+)', but encountered error|(?P<named>\w+) cannot represent")

# What a value of each type must be, in decoding's words (gateway.rest.contract.decoding).
_MUST_BE = {
    "Decimal": "must be a number",
    "Float": "must be a number",
    "Int": "must be an integer",
    "Date": "must be a date as YYYY-MM-DD",
    "DateTime": "must be a date and time in ISO 8601",
    "Boolean": "must be true or false",
    "String": "must be a string",
    "ID": "must be a string",
}


@dataclass(frozen=True)
class Worded:
    message: str
    field: str | None


def _joined(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def variable_error(message: str) -> Worded | None:
    """``message`` of graphql-core's about a variable's value, in REST's words (None: not
    such a message)."""
    found = _VARIABLE.fullmatch(message)
    if found is None:
        return None
    path = (found["path"] or "").lstrip(".")  # inside the variable: an input's path is a REST body's
    rest = found["rest"]
    if (required := _REQUIRED.match(rest)) is not None:
        field = _joined(path, required["field"])
        return Worded(f"Missing required field: {field}", field)
    if (unknown := _UNKNOWN.match(rest)) is not None:
        field = _joined(path, unknown["field"])
        return Worded(f"Unknown field: {field}", field)
    if not path:  # the variable as a whole: graphql-core's words name it
        return Worded(message, None)
    if _NULL.match(rest):
        return Worded(f"Missing required field: {path}", path)
    if _OBJECT.match(rest):
        return Worded(f"Field '{path}' must be an object", path)
    if (scalar := _SCALAR.match(rest)) is not None:
        kind = (scalar["type"] or scalar["named"]).rstrip("!")
        if kind.startswith("["):
            return Worded(f"Field '{path}' must be an array", path)
        if kind in _MUST_BE:
            return Worded(f"Field '{path}' {_MUST_BE[kind]}", path)
    return Worded(message, path)

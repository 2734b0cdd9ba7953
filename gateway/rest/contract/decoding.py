"""A JSON object (parsed exactly: numbers as Decimal, see ``gateway.http.jsonio``) checked
against a request Struct's declared types, refused in the contract's words.

The Struct is the only description of a body: its fields, which are required, their types
and caps are read from msgspec's type information, and the checked values become the
Struct through ``msgspec.convert``. Only what JSON itself can get wrong is checked here (a
number sent as an object, an unknown field, a text over its cap); every other rule is the
use cases' and the domain's, so GraphQL meets the same ones with the same messages.

- unknown field: ``Unknown field: lineItems[0].bogus``;
- a required field absent or null: ``Missing required field: clientId``;
- a wrong type: ``Field 'name' must be a string`` (``or null`` where null is allowed),
  ``must be a number`` (a JSON number, or a string of digits written as JSON writes a
  number: ``"125.00"``, ``"0.50"``; not ``" 10 "`` nor ``"010"``, which a reader may take
  for another number, as ``fields.number_schema``'s pattern says), ``must be a date as
  YYYY-MM-DD``, ``must be true or false``, or a field's own ``message`` (``fields``);
- over a cap: ``Field 'notes' must be at most 5000 characters``,
  ``Field 'lineItems' must hold at most 500 line items``; under one:
  ``Field 'lineItems' must hold at least one line item`` (the domain's words).

Every refusal names its field's path (``BadRequest.field``).
"""

import logging
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, TypeVar

import msgspec
from msgspec import inspect

from gateway.http.problems import BadRequest
from usecases import wire

log = logging.getLogger("cleverinvo")

S = TypeVar("S", bound=msgspec.Struct)


class _Refused(Exception):
    """A field's value is not of its type; the message is completed with the field's name."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _safe(name: str) -> str:
    """A client's field name, safe to quote back."""
    return name.encode("utf-8", "replace").decode("utf-8")[:64]


@cache
def _struct_info(kind: type[msgspec.Struct]) -> inspect.StructType:
    info = inspect.type_info(kind)
    assert isinstance(info, inspect.StructType)
    return info


def decode(body: Mapping[str, Any], kind: type[S]) -> S:
    """``body`` as a ``kind``, or BadRequest naming the first field that is wrong."""
    values = _object(body, _struct_info(kind), "")
    try:
        return msgspec.convert(values, kind)
    except msgspec.ValidationError as error:  # only if a Struct declares what this module does not check
        # msgspec's words are a parser's ("Expected `array` of length >= 1 - at `$.x`"): the
        # log keeps them for us, the client gets the contract's
        log.error("A body passed decoding but not msgspec's conversion to %s: %s", kind.__name__, error)
        raise BadRequest("Request body does not match the contract") from None


def _object(body: Mapping[str, Any], info: inspect.StructType, where: str) -> dict[str, Any]:
    prefix = f"{where}." if where else ""
    known = {field.encode_name: field for field in info.fields}
    for name in body:
        if name not in known:
            raise BadRequest(f"Unknown field: {prefix}{_safe(name)}", field=f"{prefix}{_safe(name)}")
    for field in info.fields:
        if field.required and body.get(field.encode_name) is None:
            raise BadRequest(
                f"Missing required field: {prefix}{field.encode_name}", field=f"{prefix}{field.encode_name}"
            )
    values: dict[str, Any] = {}
    for name, value in body.items():
        values[name] = _value(value, known[name].type, f"{prefix}{name}")
    return values


def _message(kind: inspect.Type) -> str | None:
    extra = kind.extra if isinstance(kind, inspect.Metadata) else None
    return extra.get("message") if extra else None


def _too_few(kind: inspect.Type, least: int) -> str:
    extra = kind.extra if isinstance(kind, inspect.Metadata) else None
    return str(extra["too_few"]) if extra and "too_few" in extra else f"must hold at least {least} {_noun(kind)}"


def _noun(kind: inspect.Type) -> str:
    extra = kind.extra if isinstance(kind, inspect.Metadata) else None
    return str(extra.get("noun", "items")) if extra else "items"


def _value(value: Any, kind: inspect.Type, where: str) -> Any:
    """The checked value, or BadRequest: ``Field '<where>' <what it must be>``."""
    message = _message(kind)
    if isinstance(kind, inspect.Metadata) and isinstance(kind.type, inspect.UnionType):  # Annotated[X | None, ...]
        kind = kind.type
    nullable = isinstance(kind, inspect.UnionType) and any(isinstance(t, inspect.NoneType) for t in kind.types)
    if nullable and value is None:
        return None
    if isinstance(kind, inspect.UnionType):
        (kind,) = [t for t in kind.types if not isinstance(t, inspect.NoneType)]
    try:
        return _typed(value, kind, where)
    except _Refused as refused:
        what = _message(kind) or message or refused.what
        raise BadRequest(f"Field '{where}' {what}" + (" or null" if nullable else ""), field=where) from None


# A number written as a string the way JSON writes a number (RFC 8259 §6: no leading zeros,
# no sign but minus, no space), without exponent: what a client that keeps money in strings
# sends, and nothing a reader could take for another number (" 10 ", "010": octal to some).
_NUMBER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]{0,29})(?:\.[0-9]{1,30})?")


def number_text(value: Any) -> Decimal | None:
    """A number written as a string of digits (``"125.00"``), or None if not one."""
    if not isinstance(value, str) or not _NUMBER_TEXT.fullmatch(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal reads
        return None


def _typed(value: Any, kind: inspect.Type, where: str) -> Any:
    described = kind
    if isinstance(kind, inspect.Metadata):
        kind = kind.type
    if isinstance(kind, inspect.AnyType):
        return value
    if isinstance(kind, inspect.StrType):
        if not isinstance(value, str):
            raise _Refused("must be a string")
        if kind.max_length is not None and len(value) > kind.max_length:
            raise BadRequest(f"Field '{where}' must be at most {kind.max_length} characters", field=where)
        return value
    if isinstance(kind, inspect.DecimalType):
        number = value if isinstance(value, Decimal) else number_text(value)
        if number is None:
            raise _Refused("must be a number")
        return number
    if isinstance(kind, inspect.DateType):
        day = wire.day(value)
        if day is None:
            raise _Refused("must be a date as YYYY-MM-DD")
        return day
    if isinstance(kind, inspect.BoolType):
        if not isinstance(value, bool):
            raise _Refused("must be true or false")
        return value
    if isinstance(kind, inspect.LiteralType):
        if not any(value is allowed or (type(value) is type(allowed) and value == allowed) for allowed in kind.values):
            raise _Refused("must be " + " or ".join(msgspec.json.encode(allowed).decode() for allowed in kind.values))
        return value
    if isinstance(kind, inspect.ListType):
        return _list(value, kind, described, where)
    if isinstance(kind, inspect.StructType):
        if not isinstance(value, dict):
            raise _Refused("must be an object")
        return _object(value, kind, where)
    raise AssertionError(f"the contract declares a type decoding does not know: {kind!r}")


def _list(value: Any, kind: inspect.ListType, described: inspect.Type, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Refused("must be an array")
    if kind.max_length is not None and len(value) > kind.max_length:
        raise BadRequest(f"Field '{where}' must hold at most {kind.max_length} {_noun(described)}", field=where)
    if kind.min_length is not None and len(value) < kind.min_length:
        raise BadRequest(f"Field '{where}' {_too_few(described, kind.min_length)}", field=where)
    if isinstance(kind.item_type, inspect.StructType):
        return [_value(item, kind.item_type, f"{where}[{i}]") for i, item in enumerate(value)]
    try:  # a list of plain values is wrong as a whole: "must be an array of email addresses"
        return [_typed(item, kind.item_type, f"{where}[{i}]") for i, item in enumerate(value)]
    except _Refused:
        raise _Refused("must be an array") from None

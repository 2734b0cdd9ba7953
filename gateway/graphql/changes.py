"""A history entry's changes, typed by its event: GraphQL's side of the one declaration of
change shapes (``usecases.change_shapes``), from which REST derives its own.

Per shape (one per event type of each kind of record) an object type ``<Shape>Changes``
(``InvoiceSentChanges``): the record's fields the event changed, in their wire names, typed
as the detail types them (``Decimal``, ``DateTime``, ``Date``, ``Currency``,
``InvoiceStatus``...), what the event carries (a send's recipients, a payment), the names
of the fields it changed (``changedFields``: GraphQL has no "absent", so a field named there
and null was cleared, one not named did not change) and their old values (``previous``).

The record's fields, ``changedFields`` and ``previous`` are declared once per kind of record
on an interface every event type of that kind implements (``InvoiceChange``; its old values
an ``InvoicePrevious``), so a client selects them once for all its events and adds what
each event type carries. They are nullable in every event type, ``created`` too: GraphQL
merges a field selected on two members only when its type is the same in both.

Two unions of the event types, resolved by the entry's record kind and ``type``:
``HistoryChanges`` (an invoice's or a client's history) and ``FeedChanges`` (the account's
feed: every kind's). Clients tell the members apart by ``__typename``. The ``JSON`` fields
``changes`` and ``previous`` stay as they were.
"""

import dataclasses
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import NoneType, UnionType
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

import strawberry

from gateway.graphql.enums import Currency, EmailStatus, InvoiceStatus, Locale, Plan
from gateway.graphql.lines import LineItem
from usecases import change_shapes as cs
from usecases.change_shapes import SHAPES, ChangeShape, shape_of
from usecases.history import KINDS

Convert = Callable[[Any], Any]
# What each record type's fields read as elsewhere in the schema (the account has no type).
DETAIL_TYPES = {"invoice": "Invoice", "client": "Client", "account": None}

# What an event carries beyond its record, by key (and for the nested values, by their type).
CARRIED = {
    "send": "The invoice's sends counted from 1: which send this event is about.",
    "email": "Whether the send is emailed by the workers (false: only marked sent).",
    "to": "The addresses the send goes to (the client's when none were given).",
    "cc": "The addresses copied.",
    "message": "The message for the email's body, as given.",
    "payment": "The payment, as the event left it (a reversal's with reversedAt).",
    "recipients": "The addresses the mail server accepted.",
    "attempt": "Which attempt at delivering the send's email failed, counted from 1.",
    "error": "The mail server's reply, or what went wrong.",
    "retryAt": "When the email is tried again; null when it is not.",
    "apiKey": "The API key.",
    "owner": "The owner added.",
}
NESTED: dict[type, tuple[str, str, Mapping[str, str]]] = {
    cs.PaymentFields: (
        "PaymentValues",
        "A payment as an event recorded it.",
        {
            "id": "The payment's id.",
            "amount": "How much was paid, in the invoice's currency.",
            "date": "When it was paid.",
            "method": "How it was paid, as recorded.",
            "reference": "The payer's or bank's reference.",
            "createdAt": "When it was recorded.",
            "reversedAt": "When it was reversed; null while it counts.",
        },
    ),
    cs.IssuedKey: (
        "IssuedApiKey",
        "An API key as issued: never the key itself.",
        {"id": "The key's id.", "name": "The key's label.", "prefix": "What lists show of the key; never the key."},
    ),
    cs.RevokedKey: ("RevokedApiKey", "The API key revoked.", {"id": "The key's id."}),
    cs.OwnerFields: (
        "AddedOwner",
        "Someone let in to the dashboard as an owner.",
        {"id": "The owner's id.", "email": "The owner's email address."},
    ),
}
_SCALARS: list[tuple[object, Any, Convert]] = [
    (cs.Money, Decimal, Decimal),
    (cs.Percent, Decimal, Decimal),
    (cs.Amount, Decimal, Decimal),
    (cs.Timestamp, datetime, lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))),
    (cs.Day, date, date.fromisoformat),
    (cs.RecordId, strawberry.ID, strawberry.ID),
    (cs.Currency, Currency, lambda code: Currency(str(code).upper())),
    (cs.InvoiceStatus, InvoiceStatus, lambda word: InvoiceStatus[str(word)]),
    (cs.EmailStatus, EmailStatus, EmailStatus),
    (cs.Plan, Plan, lambda word: Plan(str(word))),
    (cs.Locale, Locale, Locale),
]
_NESTED_BUILT: dict[type, tuple[Any, Convert]] = {}


def _same(python: Any) -> Any:
    return python


def _typed(hint: Any, where: str) -> tuple[Any, Convert]:
    """The GraphQL annotation for a wire hint, and how a wire value becomes its value."""
    for alias, annotation, convert in _SCALARS:
        if hint == alias:
            return annotation, convert
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, UnionType) and NoneType in args:
        [inner] = [arg for arg in args if arg is not NoneType]
        annotation, convert = _typed(inner, where)
        return annotation | None, lambda value: None if value is None else convert(value)
    if origin is list:
        annotation, convert = _typed(args[0], where)
        return list[annotation], lambda values: [convert(value) for value in values]  # type: ignore[valid-type]
    if origin is Annotated:  # a number or text with bounds only
        return _typed(args[0], where)
    if hint is cs.LineItemFields:
        return LineItem, _line
    if is_typeddict(hint):
        return _nested(hint)
    if hint in (str, bool, int):
        return hint, _same
    if origin is Literal:
        raise TypeError(f"{where}: a set of words with no GraphQL enum: {hint!r}")
    raise TypeError(f"{where}: no GraphQL type for {hint!r}")


def _snake(camel: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in camel)


_LINE_HINTS = get_type_hints(cs.LineItemFields, include_extras=True)
# The detail's LineItem is the line of a change too: the same fields.
assert {_snake(key) for key in _LINE_HINTS} == {f.name for f in dataclasses.fields(LineItem)}


_LINE_CONVERTS = {key: (_snake(key), _typed(hint, f"LineItem.{key}")[1]) for key, hint in _LINE_HINTS.items()}


def _line(line: Mapping[str, Any]) -> LineItem:
    return LineItem(**{name: convert(line[key]) for key, (name, convert) in _LINE_CONVERTS.items()})


def _nested(typed_dict: type) -> tuple[Any, Convert]:
    if typed_dict not in _NESTED_BUILT:
        if typed_dict not in NESTED:
            raise TypeError(f"{typed_dict.__name__}: name it and describe its fields in NESTED")
        name, about, texts = NESTED[typed_dict]
        hints = get_type_hints(typed_dict, include_extras=True)
        built, converts = _object(name, about, {key: (hint, texts[key], True) for key, hint in hints.items()})
        _NESTED_BUILT[typed_dict] = (built, lambda value: built(**{k: converts[k](v) for k, v in value.items()}))
    return _NESTED_BUILT[typed_dict]


def _object(
    name: str,
    about: str,
    fields: Mapping[str, tuple[Any, str, bool]],
    extra: Mapping[str, Any] | None = None,
    *,
    base: Any = None,
    interface: bool = False,
) -> tuple[Any, dict[str, Convert]]:
    """A strawberry type (or interface) of ``fields`` (key: hint, description, required),
    and the conversion of each key's wire value; ``extra`` adds ready annotations and
    fields, ``base`` is an interface it implements."""
    annotations: dict[str, object] = {}
    namespace: dict[str, Any] = {"__module__": __name__, "__doc__": about}
    converts: dict[str, Convert] = {}
    for key, (hint, text, required) in fields.items():
        annotation, convert = _typed(hint, f"{name}.{key}")
        if not required and get_origin(annotation) not in (Union, UnionType):
            annotation = annotation | None
        annotations[key] = annotation
        namespace[key] = strawberry.field(description=text, default=None)
        converts[key] = convert
    for key, (annotation, value) in (extra or {}).items():
        annotations[key] = annotation
        namespace[key] = value
    namespace["__annotations__"] = annotations
    made = type(name, (base,) if base is not None else (), namespace)
    wrap = strawberry.interface if interface else strawberry.type
    return wrap(made, name=name, description=about), converts


def _stem(shape: ChangeShape) -> str:
    """The record's type name: InvoiceFields -> Invoice."""
    return shape.fields.__name__.removesuffix("Fields")


def _field_text(shape: ChangeShape, key: str, before: bool) -> str:
    detail = DETAIL_TYPES[shape.resource]
    where = f" (as `{detail}.{key}` reads it)" if detail else ""
    return f"The {shape.resource}'s {key} {'before' if before else 'after'} the event{where}."


CHANGED_FIELDS = "The record's fields the event changed, in wire names: null in one of them means cleared."


class _Kind:
    """What every event of one kind of record shares: an interface of the record's fields
    (``InvoiceChange``), each null unless the event changed it, and their old values
    (``InvoicePrevious``). A client selects them once, on the interface, for every event."""

    def __init__(self, shape: ChangeShape) -> None:
        stem, self.hints = _stem(shape), get_type_hints(shape.fields, include_extras=True)
        before = {key: (hint, _field_text(shape, key, True), False) for key, hint in self.hints.items()}
        self.previous, self.previous_converts = _object(
            stem + "Previous", f"The old values of the fields an event of the {shape.resource} changed.", before
        )
        self.extra: dict[str, Any] = {
            "changed_fields": (list[str], strawberry.field(description=CHANGED_FIELDS, default_factory=list)),
            "previous": (
                self.previous,
                strawberry.field(description="The old values of the fields in changedFields.", default=None),
            ),
        }
        after = {key: (hint, _field_text(shape, key, False), False) for key, hint in self.hints.items()}
        self.interface, self.converts = _object(
            stem + "Change",
            f"What any event of the {shape.resource} changed: select the fields here once for every event type.",
            after,
            self.extra,
            interface=True,
        )


class _Built:
    def __init__(self, shape: ChangeShape, kind: _Kind) -> None:
        self.shape, self.kind = shape, kind
        carried = get_type_hints(shape.carries, include_extras=True) if shape.carries else {}
        # The record's fields are the interface's, nullable in every event type, ``created``
        # too: GraphQL merges a field selected on two members only when its type is the same
        # in both (a total of Decimal! beside Decimal would be refused). changedFields names
        # every field of a created record.
        fields: dict[str, tuple[Any, str, bool]] = {}
        fields.update({key: (hint, CARRIED[key], True) for key, hint in carried.items()})
        self.type, converts = _object(
            shape.name + "Changes", shape.description, fields, kind.extra, base=kind.interface
        )
        self.converts = {**kind.converts, **converts}

    def of(self, changes: Mapping[str, Any], previous: Mapping[str, Any]) -> Any:
        values = {key: self.converts[key](value) for key, value in changes.items() if key in self.converts}
        values["changed_fields"] = [key for key in self.kind.hints if key in changes]
        converts = self.kind.previous_converts
        values["previous"] = self.kind.previous(**{k: converts[k](v) for k, v in previous.items() if k in converts})
        return self.type(**values)


KINDS_BUILT = {shape.fields: _Kind(shape) for shape in SHAPES if shape.complete}
BUILT: dict[tuple[str, str], _Built] = {
    (shape.resource, shape.type): _Built(shape, KINDS_BUILT[shape.fields]) for shape in SHAPES
}
# Every word the history tells has its shape: the typed changes are never missing.
for _kind in KINDS:
    for _word, _ in _kind.types.values():
        assert shape_of(_kind.name, _word) is not None, f"no change shape for {_kind.name} {_word}"

_HISTORY_MEMBERS = tuple(built.type for (kind, _), built in BUILT.items() if kind in ("invoice", "client"))
_FEED_MEMBERS = tuple(built.type for built in BUILT.values())
if TYPE_CHECKING:
    HistoryChanges = Any
    FeedChanges = Any
else:
    HistoryChanges = Annotated[
        Union[_HISTORY_MEMBERS],  # noqa: UP007  # built at run time
        strawberry.union(
            "HistoryChanges", description="What an event of an invoice or a client changed, typed by the event."
        ),
    ]
    FeedChanges = Annotated[
        Union[_FEED_MEMBERS],  # noqa: UP007
        strawberry.union("FeedChanges", description="What an event of the account's feed changed, typed by the event."),
    ]

# The object types here, for the cost model: parts of their entry, read with it.
CHANGE_TYPES = frozenset(
    {"HistoryChanges", "FeedChanges"}
    | {name for name, _, _ in NESTED.values()}
    | {built.shape.name + "Changes" for built in BUILT.values()}
    | {_stem(built.shape) + suffix for built in BUILT.values() for suffix in ("Change", "Previous")}
)


def typed_changes(resource: str, word: str, changes: Mapping[str, Any], previous: Mapping[str, Any]) -> Any:
    """The typed changes of an entry of ``resource``'s history whose type is ``word``."""
    return BUILT[(resource, word)].of(changes, previous)

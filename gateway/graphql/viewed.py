"""GraphQL object types filled from the read model's views, field by field by name.

A type's field takes the view's attribute of the same name (``renamed`` names the few that
differ), an enum field the enum of the view's string; private fields and fields the view
does not hold are left to their defaults or ``given``. So a field added to a view and to a
type needs nothing here, and one a resolver reads from the detail needs only its line in
``DETAIL`` (``gateway.graphql.types``): its type is the view's.
"""

import dataclasses
from collections.abc import Callable, Mapping
from enum import Enum
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

import strawberry
from strawberry.types.field import StrawberryField

T = TypeVar("T")
_HINTS: dict[type, dict[str, Any]] = {}
# A type's fields filled from a view: (field, the view's attribute, the enum a string becomes
# or None), worked out once per type and renaming.
_PLANS: dict[tuple[type, tuple[tuple[str, str], ...]], list[tuple[str, str, type[Enum] | None]]] = {}


def _hints(kind: type) -> dict[str, Any]:
    if kind not in _HINTS:
        _HINTS[kind] = get_type_hints(kind)
    return _HINTS[kind]


def enum_of(hint: Any) -> type[Enum] | None:
    """The enum a field of type ``hint`` holds (``Status`` or ``Status | None``), else None."""
    options = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    for option in options:
        if isinstance(option, type) and issubclass(option, Enum):
            return option
    return None


def shown(hint: Any, value: Any) -> Any:
    """``value`` as a field of type ``hint`` holds it: an enum's member for a string."""
    enum = enum_of(hint)
    return enum(value) if enum is not None and value is not None else value


def _plan(kind: type, renamed: Mapping[str, str] | None) -> list[tuple[str, str, type[Enum] | None]]:
    key = (kind, tuple(sorted((renamed or {}).items())))
    plan = _PLANS.get(key)
    if plan is None:
        hints = _hints(kind)
        plan = [
            (found.name, (renamed or {}).get(found.name, found.name), enum_of(hints.get(found.name)))
            for found in dataclasses.fields(kind)  # a strawberry type is a dataclass
            if found.init
        ]
        _PLANS[key] = plan
    return plan


def filled(kind: type[T], view: Any, renamed: Mapping[str, str] | None = None, **given: Any) -> T:
    """``kind`` (a strawberry type) filled from ``view``'s same-named attributes and ``given``.
    What to copy is worked out once per type: a page fills hundreds of these."""
    values = dict(given)
    for name, attribute, enum in _plan(kind, renamed):
        if name not in values and hasattr(view, attribute):
            value = getattr(view, attribute)
            values[name] = enum(value) if enum is not None and value is not None else value
    return kind(**values)


def detail_fields(
    view: type, fields: Mapping[str, tuple[str, Any, str | None]], after: str
) -> Callable[[type[T]], type[T]]:
    """Adds to a type, after its field ``after`` (keeping the order introspection shows), one
    resolver per entry of ``fields``: name -> (description, type or None for the view's,
    the view's attribute or None for the same name). Each reads its value through the
    type's ``_from_detail(info, read)``, which answers at once when the detail is at hand
    and with an awaitable when it must be loaded (a plain resolver either way: GraphQL
    awaits what needs it, and a page read with its details pays no coroutine per field)."""
    hints = get_type_hints(view)

    def make(name: str, about: str, kind: Any, attribute: str) -> StrawberryField:
        enum = enum_of(kind)

        def read(detail: Any) -> Any:
            value = getattr(detail, attribute)
            return enum(value) if enum is not None and value is not None else value

        def resolve(self: Any, info: strawberry.Info) -> Any:
            return self._from_detail(info, read)

        resolve.__annotations__["return"] = kind
        resolve.__name__ = name
        made: StrawberryField = strawberry.field(resolver=resolve, description=about)
        return made

    def add(cls: type[T]) -> type[T]:
        names = list(vars(cls))
        later = [(name, vars(cls)[name]) for name in names[names.index(after) + 1 :]]
        later = [(name, value) for name, value in later if isinstance(value, StrawberryField)]
        for name, _ in later:
            delattr(cls, name)
        for name, (about, kind, attribute) in fields.items():
            setattr(cls, name, make(name, about, kind or hints[attribute or name], attribute or name))
        for name, value in later:
            setattr(cls, name, value)
        return cls

    return add

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


def _hints(kind: type) -> dict[str, Any]:
    if kind not in _HINTS:
        _HINTS[kind] = get_type_hints(kind)
    return _HINTS[kind]


def shown(hint: Any, value: Any) -> Any:
    """``value`` as a field of type ``hint`` holds it: an enum's member for a string."""
    options = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    for option in options:
        if isinstance(option, type) and issubclass(option, Enum) and value is not None:
            return option(value)
    return value


def filled(kind: type[T], view: Any, renamed: Mapping[str, str] | None = None, **given: Any) -> T:
    """``kind`` (a strawberry type) filled from ``view``'s same-named attributes and ``given``."""
    hints = _hints(kind)
    values = dict(given)
    for found in dataclasses.fields(kind):  # type: ignore[arg-type]  # a strawberry type is a dataclass
        attribute = (renamed or {}).get(found.name, found.name)
        if found.init and found.name not in values and hasattr(view, attribute):
            values[found.name] = shown(hints.get(found.name), getattr(view, attribute))
    return kind(**values)


def detail_fields(
    view: type, fields: Mapping[str, tuple[str, Any, str | None]], after: str
) -> Callable[[type[T]], type[T]]:
    """Adds to a type, after its field ``after`` (keeping the order introspection shows), one
    resolver per entry of ``fields``: name -> (description, type or None for the view's,
    the view's attribute or None for the same name). Each reads its value from the type's
    ``_detail(info)``."""
    hints = get_type_hints(view)

    def make(name: str, about: str, kind: Any, attribute: str) -> StrawberryField:
        async def resolve(self: Any, info: strawberry.Info) -> Any:
            return shown(kind, getattr(await self._detail(info), attribute))

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

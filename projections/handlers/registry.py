"""Which handler makes rows of which event class.

A handler module keeps a ``Handlers`` and marks each handler with the event class it
handles (``@handlers.handles(Invoice.InvoiceCreated)``); the projector looks an event's
class up in the union of them (``projections.handlers.HANDLERS``). A class with no
handler makes no rows (the quota and index aggregates' events).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection

from projections.handlers.rows import Rows

Handler = Callable[[Rows, Connection, Any], None]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Registered:
    """A handler, and whether it only adds new rows (so the rows buffered before it need not
    be written first: ``Rows.flush_new``). ``buffered``: it reads and writes only through
    ``Rows``' lifecycle methods (``invoice_facts``, ``write_invoice``...), so a rebuild's
    rows (``handlers.replay_rows``) may answer it from memory; the live projector writes
    what is buffered first, as for any handler that is not ``adds_only``."""

    handle: Handler
    adds_only: bool
    buffered: bool = False


class Handlers:
    """Handlers by the event class they handle."""

    def __init__(self) -> None:
        self.by_class: dict[type[Any], Registered] = {}

    def handles(self, event_class: type[Any], *, adds_only: bool = False, buffered: bool = False) -> Callable[[H], H]:
        """Marks the decorated function as the handler of ``event_class`` (one per class)."""

        def register(handler: H) -> H:
            self._add(event_class, Registered(handler, adds_only, buffered))
            return handler

        return register

    def of(self, event_class: type[Any]) -> Registered | None:
        return self.by_class.get(event_class)

    @classmethod
    def union(cls, parts: Iterable["Handlers"]) -> "Handlers":
        every = cls()
        for part in parts:
            for event_class, registered in part.by_class.items():
                every._add(event_class, registered)
        return every

    def _add(self, event_class: type[Any], registered: Registered) -> None:
        if event_class in self.by_class:
            raise ValueError(f"{event_class.__qualname__} has a handler already")
        self.by_class[event_class] = registered

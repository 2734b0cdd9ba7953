"""Query-string and path parameters into the use cases' inputs, checked strictly: a bad
value is a 400, never a 500. Ranges and rules are the use cases' own (``usecases.inputs``);
here only what a query string can get wrong (an integer that is not one, a name no route
reads).

Every route reads its whole query string through one of the readers below (``none`` when
it takes no parameter). A reader notes each name it asks for; a name it did not ask for is
refused: ``?stauts=PAID`` is a 400 naming ``stauts``, as a body's unknown field is, never a
list silently unfiltered. The names a route takes are thus where it reads them, declared
nowhere else.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from uuid import UUID

from starlette.datastructures import QueryParams

from gateway.http.problems import BadRequest
from usecases import wire_values
from usecases.auditing import FEED_LIMIT, FEED_MAX
from usecases.inputs import MAX_LIMIT, InvoiceQuery, ListQuery
from usecases.invoices import Moment

_INTEGER = re.compile(r"[0-9]{1,18}")
_NAME_SHOWN = 64  # characters of an unknown name the message repeats


class Reading:
    """A query string as one route reads it: the names asked for are noted."""

    def __init__(self, query: QueryParams) -> None:
        self.query = query
        self.asked: set[str] = set()

    def get(self, name: str) -> str | None:
        self.asked.add(name)
        return self.query.get(name)

    def integer(self, name: str, default: int, low: int, high: int | None) -> int:
        raw = self.get(name)
        if raw is None:
            return default
        if _INTEGER.fullmatch(raw) and int(raw) >= low and (high is None or int(raw) <= high):
            return int(raw)
        bounds = f"from {low} to {high}" if high is not None else f">= {low}"
        raise BadRequest(f"Parameter '{name}' must be an integer {bounds}")

    def finish(self) -> None:
        """Refuses the first name sent that was not asked for."""
        for name in self.query:
            if name not in self.asked:
                shown = name if len(name) <= _NAME_SHOWN else name[:_NAME_SHOWN] + "…"
                raise BadRequest(f"Unknown query parameter: {shown}")


@contextmanager
def reading(query: QueryParams) -> Iterator[Reading]:
    """A :class:`Reading` that, once the block has read what it takes, refuses the rest."""
    read = Reading(query)
    yield read
    read.finish()


def none(query: QueryParams) -> None:
    """For a route that takes no query parameter: any is refused."""
    with reading(query):
        pass


def _list(read: Reading) -> ListQuery:
    return ListQuery(
        page=read.integer("page", 1, 1, None),
        limit=read.integer("limit", 20, 1, MAX_LIMIT),
        search=read.get("search"),
        after=read.get("after"),
    )


def list_params(query: QueryParams) -> ListQuery:
    with reading(query) as read:
        return _list(read)


def invoice_params(query: QueryParams) -> InvoiceQuery:
    with reading(query) as read:
        base = _list(read)
        return InvoiceQuery(
            base.page, base.limit, base.search, read.get("clientId"), read.get("status"), after=base.after
        )


def feed_params(query: QueryParams) -> tuple[int, int]:
    """``after`` and ``limit`` of the account's event feed."""
    with reading(query) as read:
        return read.integer("after", 0, 0, None), read.integer("limit", FEED_LIMIT, 1, FEED_MAX)


def path_id(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


def timestamp(raw: str, name: str) -> datetime:
    """An ISO 8601 timestamp with a time; no offset means UTC (``usecases.wire_values``)."""
    found = wire_values.moment(raw)
    if found is None:
        raise BadRequest(wire_values.timestamp_problem(name))
    return found


def moment_params(query: QueryParams) -> Moment:
    """``?version=N`` or ``?asOf=<timestamp>``: which past state of an invoice to show."""
    with reading(query) as read:
        raw_version, raw_as_of = read.get("version"), read.get("asOf")
    version = None
    if raw_version is not None:
        if not _INTEGER.fullmatch(raw_version) or int(raw_version) < 1:
            raise BadRequest("Parameter 'version' must be an integer >= 1")
        version = int(raw_version)
    as_of = timestamp(raw_as_of, "asOf") if raw_as_of is not None else None
    return Moment(version, as_of).checked()

"""Query-string and path parameters into the use cases' inputs, checked strictly: a bad
value is a 400, never a 500. Ranges and rules are the use cases' own (``usecases.inputs``);
here only what a query string can get wrong (an integer that is not one)."""

import re
from datetime import UTC, datetime
from uuid import UUID

from starlette.datastructures import QueryParams

from gateway.problems import BadRequest
from usecases.inputs import MAX_LIMIT, InvoiceQuery, ListQuery
from usecases.invoices import Moment

_INTEGER = re.compile(r"[0-9]{1,18}")


def integer(query: QueryParams, name: str, default: int, low: int, high: int | None) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if _INTEGER.fullmatch(raw) and int(raw) >= low and (high is None or int(raw) <= high):
        return int(raw)
    bounds = f"from {low} to {high}" if high is not None else f">= {low}"
    raise BadRequest(f"Parameter '{name}' must be an integer {bounds}")


def list_params(query: QueryParams) -> ListQuery:
    return ListQuery(
        page=integer(query, "page", 1, 1, None),
        limit=integer(query, "limit", 20, 1, MAX_LIMIT),
        search=query.get("search"),
    )


def invoice_params(query: QueryParams) -> InvoiceQuery:
    base = list_params(query)
    return InvoiceQuery(base.page, base.limit, base.search, query.get("clientId"), query.get("status"))


def path_id(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


def timestamp(raw: str, name: str) -> datetime:
    """An ISO 8601 timestamp with a time; no offset means UTC."""
    problem = f"Parameter '{name}' must be an ISO 8601 timestamp such as 2026-03-31T23:59:59Z"
    if "T" not in raw.upper() or len(raw) > 64:  # a bare date: which moment of that day?
        raise BadRequest(problem)
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise BadRequest(problem) from None
    if moment.tzinfo is None:  # no offset: UTC, like every time the API returns
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # hours from the ends of the calendar: before or after everything
        return (datetime.min if moment.year == datetime.min.year else datetime.max).replace(tzinfo=UTC)


def moment_params(query: QueryParams) -> Moment:
    """``?version=N`` or ``?asOf=<timestamp>``: which past state of an invoice to show."""
    raw_version, raw_as_of = query.get("version"), query.get("asOf")
    version = None
    if raw_version is not None:
        if not _INTEGER.fullmatch(raw_version) or int(raw_version) < 1:
            raise BadRequest("Parameter 'version' must be an integer >= 1")
        version = int(raw_version)
    as_of = timestamp(raw_as_of, "asOf") if raw_as_of is not None else None
    return Moment(version, as_of).checked()

"""Query-string and path parameters, checked strictly: a bad value is a 400, never a 500."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from starlette.datastructures import QueryParams

from domain.invoice import STATUSES
from gateway.problems import BadRequest

_INTEGER = re.compile(r"[0-9]{1,18}")
MAX_SEARCH = 255
NO_MATCH = "-"  # no row has this id


@dataclass(frozen=True)
class ListParams:
    page: int
    limit: int
    search: str | None


def integer(query: QueryParams, name: str, default: int, low: int, high: int | None) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if _INTEGER.fullmatch(raw) and int(raw) >= low and (high is None or int(raw) <= high):
        return int(raw)
    bounds = f"from {low} to {high}" if high is not None else f">= {low}"
    raise BadRequest(f"Query parameter '{name}' must be an integer {bounds}")


def _text(query: QueryParams, name: str) -> str | None:
    raw = query.get(name)
    if raw is None or not raw.strip():
        return None
    if len(raw) > MAX_SEARCH:
        raise BadRequest(f"Query parameter '{name}' must be at most {MAX_SEARCH} characters")
    if "\x00" in raw:
        raise BadRequest(f"Query parameter '{name}' must not contain NUL characters")
    return raw.strip()


def list_params(query: QueryParams) -> ListParams:
    return ListParams(
        page=integer(query, "page", 1, 1, None),
        limit=integer(query, "limit", 20, 1, 100),
        search=_text(query, "search"),
    )


def status_param(query: QueryParams) -> str | None:
    raw = query.get("status")
    if raw is None or raw == "":
        return None
    if raw not in STATUSES:
        raise BadRequest(f"Query parameter 'status' must be one of {', '.join(STATUSES)}")
    return raw


def client_id_param(query: QueryParams) -> str | None:
    """A clientId that names nothing simply matches nothing (API.md: an empty list)."""
    raw = query.get("clientId")
    if raw is None or raw == "":
        return None
    try:
        return str(UUID(raw))
    except ValueError:
        return NO_MATCH


def path_id(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None


@dataclass(frozen=True)
class PastParams:
    """``?version=N`` or ``?asOf=<timestamp>``: which past state of a record to show."""

    version: int | None
    as_of: datetime | None

    @property
    def given(self) -> bool:
        return self.version is not None or self.as_of is not None


def _timestamp(raw: str, name: str) -> datetime:
    problem = f"Query parameter '{name}' must be an ISO 8601 timestamp such as 2026-03-31T23:59:59Z"
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


def past_params(query: QueryParams) -> PastParams:
    raw_version, raw_as_of = query.get("version"), query.get("asOf")
    if raw_version is not None and raw_as_of is not None:
        raise BadRequest("Give query parameter 'version' or 'asOf', not both")
    version = None
    if raw_version is not None:
        if not _INTEGER.fullmatch(raw_version) or int(raw_version) < 1:
            raise BadRequest("Query parameter 'version' must be an integer >= 1")
        version = int(raw_version)
    as_of = _timestamp(raw_as_of, "asOf") if raw_as_of is not None else None
    return PastParams(version, as_of)

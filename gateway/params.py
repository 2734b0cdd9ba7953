"""Query-string and path parameters, checked strictly: a bad value is a 400, never a 500."""

import re
from dataclasses import dataclass
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


def _integer(query: QueryParams, name: str, default: int, low: int, high: int | None) -> int:
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
        page=_integer(query, "page", 1, 1, None),
        limit=_integer(query, "limit", 20, 1, 100),
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

"""The one place where errors become HTTP responses: ``{"error", "code", "field"?}`` with
the status and code ``gateway.http.codes`` gives the error's class, and a domain error's
fields called by their wire names (``usecases.wire_names``)."""

import logging

from eventsourcing.persistence import ConnectionUnavailableError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from domain.errors import DomainError
from gateway.http import codes
from gateway.http.jsonio import error_response
from gateway.http.outages import classify, first_line
from gateway.http.problems import HttpProblem
from gateway.http.ratelimit import BudgetsUnavailable
from usecases.errors import Unavailable
from usecases.wire_names import wire_field, wire_message

# A domain error's GraphQL code -> its HTTP status (the dashboard answers a refused form
# with the status the API would give).
STATUS: dict[str, int] = {name: meaning.status for name, meaning in codes.BY_GRAPHQL_CODE.items()}
log = logging.getLogger("cleverinvo")
REASONS = {404: "Not found", 405: "Method not allowed"}


# Whether a failed write was saved: "true" on a 503 whose write was saved (the read model is
# only late: a retry must not write again); "false" on an outage that saved nothing;
# "unknown" when the database connection broke while it was being saved (gateway/http/outages.py).
WRITE_SAVED = "Write-Saved"


async def domain_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    meaning = codes.meaning_of(exc)
    assert meaning is not None
    headers = {WRITE_SAVED: "true", "Retry-After": "1"} if isinstance(exc, Unavailable) else None
    if headers is None and meaning.status == 503:  # every 503 says when to come back (docs/api.md)
        headers = {"Retry-After": "60"}
    return error_response(meaning.status, wire_message(exc), headers, code=meaning.code, field=wire_field(exc))


async def http_problem(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpProblem)
    meaning = codes.meaning_of(exc)
    assert meaning is not None
    return error_response(exc.status, exc.message, code=meaning.code, field=exc.field)


async def http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    return error_response(exc.status_code, REASONS.get(exc.status_code, exc.detail), headers or None)


async def server_error(request: Request, exc: Exception) -> Response:
    outage = classify(exc, request.method)
    if outage is not None:  # a store's fault, not a bug: answered as what it is
        log.warning("%s %s: %s (%s)", request.method, request.url.path, outage.code, first_line(exc))
        return error_response(outage.status, outage.message, outage.headers, code=outage.code)
    return error_response(500, "Internal server error")


# The store or the read model has no connection free in time: nothing was written (a write
# that was saved and only read back late is Unavailable, with Write-Saved).
SATURATED = (ConnectionUnavailableError, PoolTimeout)
BUSY = "The service is busy; retry shortly"


async def saturated(_request: Request, _exc: Exception) -> Response:
    log.warning("No database connection free in time: %s", _exc)
    return error_response(503, BUSY, {"Retry-After": "1"})


async def unmetered(_request: Request, exc: Exception) -> Response:
    log.error("Rate-limit counters unreachable: %s", exc.__cause__ or exc)
    return error_response(503, str(exc), {"Retry-After": "1"})


HANDLERS = {
    BudgetsUnavailable: unmetered,
    ConnectionUnavailableError: saturated,
    PoolTimeout: saturated,
    DomainError: domain_error,
    HttpProblem: http_problem,
    HTTPException: http_exception,
    Exception: server_error,
}

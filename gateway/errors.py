"""The one place where errors become HTTP responses."""

import logging

from eventsourcing.persistence import ConnectionUnavailableError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from domain.errors import Conflict, DomainError, NotFound, PlanLimitReached, ValidationError
from gateway.jsonio import error_response
from gateway.problems import HttpProblem
from gateway.ratelimit import BudgetsUnavailable
from usecases.errors import Unavailable

STATUS: dict[str, int] = {  # a domain error's code -> its HTTP status
    ValidationError.code: 400,
    PlanLimitReached.code: 403,
    NotFound.code: 404,
    Conflict.code: 409,
    Unavailable.code: 503,
}
log = logging.getLogger("cleverinvo")
REASONS = {404: "Not found", 405: "Method not allowed"}


# On a 503 whose write was saved (the read model is only late): a retry must not write again.
WRITE_SAVED = "Write-Saved"


async def domain_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    headers = {WRITE_SAVED: "true", "Retry-After": "1"} if isinstance(exc, Unavailable) else None
    return error_response(STATUS.get(exc.code, 400), exc.message, headers)


async def http_problem(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpProblem)
    return error_response(exc.status, exc.message)


async def http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    return error_response(exc.status_code, REASONS.get(exc.status_code, exc.detail), headers or None)


async def server_error(_request: Request, _exc: Exception) -> Response:
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

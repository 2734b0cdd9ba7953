"""Every error's machine code, in one table: what REST sends as ``code`` (beside the human
``error``) and GraphQL as ``extensions.reason``, the HTTP status, and GraphQL's
``extensions.code``.

GraphQL's ``extensions.code`` is the coarser word it has always carried (``BAD_REQUEST``,
``FORBIDDEN``, ...: clients branch on it, so it stays); the finer code sits beside it as
``reason``, after ``google.rpc.ErrorInfo.reason``. Where the two words are the same
(``NOT_FOUND``, ``CONFLICT``, ``RATE_LIMITED``, ...), they are equal.

A code names why a request was refused, never how the message is worded: messages stay
for people, codes for programs, and a code once published is never renamed.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from domain.errors import Conflict, DomainError, NotFound, PlanLimitReached, ValidationError
from domain.integrity import Unverified
from domain.versions import VersionMismatch
from gateway.http.problems import BadRequest, HeadersTooLarge, HttpProblem, PayloadTooLarge, UnsupportedMediaType
from usecases.errors import IdempotencyInFlight, IdempotencyKeyReused, Unauthenticated, Unavailable

# A rule of a field, a parameter or the domain is broken (the message names which).
VALIDATION_FAILED = "VALIDATION_FAILED"
# The request cannot be read at all: not JSON, cut off, framed ambiguously, a header twice.
MALFORMED_REQUEST = "MALFORMED_REQUEST"
UNAUTHENTICATED = "UNAUTHENTICATED"
PLAN_LIMIT = "PLAN_LIMIT"
NOT_FOUND = "NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
CONFLICT = "CONFLICT"
IDEMPOTENCY_IN_FLIGHT = "IDEMPOTENCY_IN_FLIGHT"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
RATE_LIMITED = "RATE_LIMITED"
HEADERS_TOO_LARGE = "HEADERS_TOO_LARGE"
INTERNAL = "INTERNAL"
UNAVAILABLE = "UNAVAILABLE"
# If-Match names a version the record is no longer at (RFC 9110 §13.1.1).
PRECONDITION_FAILED = "PRECONDITION_FAILED"
# A record whose stored events do not verify against their seals (the store was changed).
INTEGRITY_FAILURE = "INTEGRITY_FAILURE"
# The server's storage is full: the write saved nothing (507, RFC 4918 §11.5); reads still work.
STORAGE_FULL = "STORAGE_FULL"
# The database cannot be reached, or a bounded wait for it ran out (503, with Retry-After).
DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
# GraphQL only: a document that does not parse, validate, fit the limits or the transport.
INVALID_QUERY = "INVALID_QUERY"


@dataclass(frozen=True)
class Meaning:
    code: str  # REST's "code", GraphQL's extensions.reason
    status: int  # the HTTP status REST answers with
    graphql: str  # GraphQL's extensions.code

    @property
    def internal(self) -> bool:
        return self.code == INTERNAL


# An error class -> what it means; the first class an error is an instance of decides.
BY_CLASS: tuple[tuple[type[Exception], Meaning], ...] = (
    (Unauthenticated, Meaning(UNAUTHENTICATED, 401, "UNAUTHENTICATED")),
    (Unavailable, Meaning(UNAVAILABLE, 503, "UNAVAILABLE")),
    (Unverified, Meaning(INTEGRITY_FAILURE, 503, "UNAVAILABLE")),
    (VersionMismatch, Meaning(PRECONDITION_FAILED, 412, "CONFLICT")),
    (PlanLimitReached, Meaning(PLAN_LIMIT, 403, "FORBIDDEN")),
    (IdempotencyKeyReused, Meaning(IDEMPOTENCY_KEY_REUSED, 422, "BAD_REQUEST")),
    (IdempotencyInFlight, Meaning(IDEMPOTENCY_IN_FLIGHT, 409, "CONFLICT")),
    (NotFound, Meaning(NOT_FOUND, 404, "NOT_FOUND")),
    (Conflict, Meaning(CONFLICT, 409, "CONFLICT")),
    (ValidationError, Meaning(VALIDATION_FAILED, 400, "BAD_REQUEST")),
    (PayloadTooLarge, Meaning(PAYLOAD_TOO_LARGE, 413, "BAD_REQUEST")),
    (UnsupportedMediaType, Meaning(UNSUPPORTED_MEDIA_TYPE, 415, "BAD_REQUEST")),
    (HeadersTooLarge, Meaning(HEADERS_TOO_LARGE, 431, "BAD_REQUEST")),
)

# An HTTP status -> what an answer with it means when nothing more precise is known (a
# refusal made before any domain code ran: the guard's, Starlette's routing, a middleware's).
BY_STATUS: Mapping[int, Meaning] = {
    400: Meaning(MALFORMED_REQUEST, 400, "BAD_REQUEST"),
    401: Meaning(UNAUTHENTICATED, 401, "UNAUTHENTICATED"),
    403: Meaning(PLAN_LIMIT, 403, "FORBIDDEN"),
    404: Meaning(NOT_FOUND, 404, "NOT_FOUND"),
    405: Meaning(METHOD_NOT_ALLOWED, 405, "BAD_REQUEST"),
    408: Meaning(REQUEST_TIMEOUT, 408, "BAD_REQUEST"),
    409: Meaning(CONFLICT, 409, "CONFLICT"),
    412: Meaning(PRECONDITION_FAILED, 412, "CONFLICT"),
    413: Meaning(PAYLOAD_TOO_LARGE, 413, "BAD_REQUEST"),
    415: Meaning(UNSUPPORTED_MEDIA_TYPE, 415, "BAD_REQUEST"),
    422: Meaning(IDEMPOTENCY_KEY_REUSED, 422, "BAD_REQUEST"),
    429: Meaning(RATE_LIMITED, 429, "RATE_LIMITED"),
    431: Meaning(HEADERS_TOO_LARGE, 431, "BAD_REQUEST"),
    500: Meaning(INTERNAL, 500, "INTERNAL"),
    503: Meaning(UNAVAILABLE, 503, "UNAVAILABLE"),
    507: Meaning(STORAGE_FULL, 507, "UNAVAILABLE"),
}

# The codes GraphQL's extensions.code has always used, and what each stands for.
BY_GRAPHQL_CODE: Mapping[str, Meaning] = {
    "BAD_REQUEST": Meaning(VALIDATION_FAILED, 400, "BAD_REQUEST"),
    "UNAUTHENTICATED": BY_STATUS[401],
    "FORBIDDEN": BY_STATUS[403],
    "NOT_FOUND": BY_STATUS[404],
    "CONFLICT": BY_STATUS[409],
    "RATE_LIMITED": BY_STATUS[429],
    "INTERNAL": BY_STATUS[500],
    "UNAVAILABLE": BY_STATUS[503],
}

# Every code an answer may carry (the OpenAPI document's enum of Error.code).
CODES: tuple[str, ...] = (
    VALIDATION_FAILED,
    MALFORMED_REQUEST,
    UNAUTHENTICATED,
    PLAN_LIMIT,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    REQUEST_TIMEOUT,
    CONFLICT,
    IDEMPOTENCY_IN_FLIGHT,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    IDEMPOTENCY_KEY_REUSED,
    RATE_LIMITED,
    HEADERS_TOO_LARGE,
    INTERNAL,
    UNAVAILABLE,
    INTEGRITY_FAILURE,
    PRECONDITION_FAILED,
    STORAGE_FULL,
    DATABASE_UNAVAILABLE,
)


def by_status(status: int) -> Meaning:
    """What an answer of ``status`` means when nothing more is known."""
    found = BY_STATUS.get(status)
    if found is not None:
        return found
    if 400 <= status < 500:
        return Meaning(MALFORMED_REQUEST, status, "BAD_REQUEST")
    return Meaning(INTERNAL, status, "INTERNAL")


def meaning_of(exc: BaseException) -> Meaning | None:
    """What an error of ours means (None: not ours, a fault of the service)."""
    for kind, meaning in BY_CLASS:
        if isinstance(exc, kind):
            return meaning
    if isinstance(exc, BadRequest):  # VALIDATION_FAILED when it names a field or parameter
        return Meaning(exc.code, 400, "BAD_REQUEST")
    if isinstance(exc, HttpProblem):
        return Meaning(exc.code, exc.status, by_status(exc.status).graphql)
    if isinstance(exc, DomainError):
        # A domain error of a class this table does not list: its own code says what it is,
        # and a code GraphQL does not know takes the class's `status` (400 by default: the
        # client's, as DomainError's is) and GraphQL's code for that status.
        known = BY_GRAPHQL_CODE.get(exc.code)
        if known is not None:
            return known
        status = getattr(exc, "status", 400)
        return Meaning(exc.code, status, by_status(status).graphql)
    return None

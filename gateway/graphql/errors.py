"""Every GraphQL error carries a machine code, and nothing unexpected leaks.

What a README needs:

- Every entry of a response's ``errors`` has ``extensions.code``, one of ``BAD_REQUEST``,
  ``UNAUTHENTICATED``, ``FORBIDDEN``, ``NOT_FOUND``, ``CONFLICT``, ``RATE_LIMITED``,
  ``INTERNAL`` and ``UNAVAILABLE``: a frontend branches on the code, never on the message.
  Beside it, ``extensions.reason`` is the finer code REST answers as ``code``
  (``VALIDATION_FAILED``, ``PLAN_LIMIT``, ... ``gateway.http.codes``; ``INVALID_QUERY`` for a
  document that cannot run), ``extensions.field`` the path of the input field a refusal is
  about, and ``extensions.retryAfter`` the seconds to wait before a retry may pass.
- A document that does not parse, does not validate against the schema, has variables of
  the wrong type or asks for more than the limits allow (``gateway.graphql.limits``) is a
  ``BAD_REQUEST``, as is a request the endpoint cannot read at all (a body that is not
  JSON, not an operation, or a batch of too many operations): that one is answered with
  HTTP 400 and the same ``{"errors": [{"message", "extensions": {"code"}}]}`` shape.
- A refusal of the application (a domain or use-case error) keeps its message and its own
  ``code`` (``NotFound`` → ``NOT_FOUND``, ``Conflict`` → ``CONFLICT``, ``PlanLimitReached``
  → ``FORBIDDEN``, ``Unavailable`` → ``UNAVAILABLE``, ...), so the same bad input reads
  the same through REST and GraphQL.
- Anything else is a fault of the service: the client sees "Internal server error" with
  code ``INTERNAL`` (nothing of the exception), and the log gets the traceback.

How it plugs in: build the schema with :class:`CodedSchema` (``strawberry.Schema`` with
:class:`ErrorCodes` first among its extensions, and a log that records only the faults),
and serve it with a view derived from ``gateway.graphql.view.JsonErrorsGraphQL``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import strawberry
from graphql import GraphQLError
from starlette.exceptions import HTTPException as StarletteHTTPException
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionContext, StreamExecutionResult

from domain.errors import DomainError
from gateway.graphql.wording import variable_error
from gateway.http import codes, outages
from gateway.http.errors import BUSY, SATURATED
from gateway.http.problems import HttpProblem
from usecases.wire_names import wire_field, wire_message

log = logging.getLogger("cleverinvo")

CODES = frozenset(
    {"BAD_REQUEST", "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "CONFLICT", "RATE_LIMITED", "INTERNAL", "UNAVAILABLE"}
)
INTERNAL_MESSAGE = "Internal server error"
# an HTTP status of ours -> the GraphQL code that says the same
STATUS_CODES: Mapping[int, str] = {status: meaning.graphql for status, meaning in codes.BY_STATUS.items()}
# Refusals strawberry itself raises before a document runs: the client's doing.
_STRAWBERRY_REFUSALS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


@dataclass(frozen=True)
class Classified:
    """What the client is told about one error."""

    code: str
    message: str
    reason: str = codes.INVALID_QUERY
    field: str | None = None
    retry_after: int | None = None

    @property
    def internal(self) -> bool:
        return self.code == "INTERNAL"

    def extensions(self) -> dict[str, Any]:
        found: dict[str, Any] = {"code": self.code, "reason": self.reason}
        if self.field is not None:
            found["field"] = self.field
        if self.retry_after is not None:
            found["retryAfter"] = self.retry_after
        return found


_INTERNAL = Classified("INTERNAL", INTERNAL_MESSAGE, codes.INTERNAL)


def _retry_after(code: str, exc: BaseException | None = None) -> int | None:
    """Seconds to wait before a retry: the error's own word (an idempotency key in flight), or 1 when unavailable."""
    own = getattr(exc, "retry_after", None)
    if isinstance(own, int):
        return own
    return 1 if code == "UNAVAILABLE" else None


# What a scalar's parsing raises for a value it cannot take (a date that does not exist, a
# number out of range): before execution (no path), these are the client's mistakes.
CLIENT_VALUE_ERRORS = (ValueError, TypeError, ArithmeticError)


def _status_code(status: int) -> str:
    return codes.by_status(status).graphql


def classify_exception(exc: BaseException) -> Classified:
    """The code and message a client may see for an exception a resolver raised."""
    code, message = getattr(exc, "code", None), getattr(exc, "message", None)
    # Ours: a domain or use-case error (a known `code`, and a `message` meant for clients).
    # An unknown code, or one claiming INTERNAL, is not trusted with its message.
    if isinstance(code, str) and code in CODES and code != "INTERNAL" and isinstance(message, str):
        meaning = codes.meaning_of(exc) or codes.BY_GRAPHQL_CODE[code]
        field = getattr(exc, "field", None)
        if isinstance(exc, DomainError):  # its fields by their wire names
            message, field = wire_message(exc), wire_field(exc)
        return Classified(
            code, message, meaning.code, field if isinstance(field, str) else None, _retry_after(code, exc)
        )
    if isinstance(exc, DomainError):  # ours, with a code of its own: the table says what it means
        found = codes.meaning_of(exc)
        if found is not None and found.graphql != "INTERNAL":
            return Classified(
                found.graphql, wire_message(exc), found.code, wire_field(exc), _retry_after(found.graphql)
            )
    if isinstance(exc, HttpProblem):
        problem = codes.meaning_of(exc) or codes.by_status(exc.status)
        return Classified(problem.graphql, exc.message, problem.code, exc.field, _retry_after(problem.graphql))
    if isinstance(exc, StarletteHTTPException):
        return _from_status(exc.status_code, exc.detail)
    if isinstance(exc, SATURATED):  # nothing was written: retry shortly
        return Classified("UNAVAILABLE", BUSY, codes.UNAVAILABLE, retry_after=1)
    # A full disk or a database out of reach (gateway/http/outages.py), in the words of a write:
    # an error does not say which root field of a document raised it, and a mutation's
    # reader must learn whether its change was saved (nothing, or not known).
    outage = outages.classify(exc, "POST")
    if outage is not None:
        return Classified("UNAVAILABLE", outage.message, outage.code, retry_after=outage.retry_after)
    if isinstance(exc, _STRAWBERRY_REFUSALS):
        return Classified("BAD_REQUEST", str(exc), codes.INVALID_QUERY)
    return _INTERNAL


def _from_status(status: int, message: str) -> Classified:
    meaning = codes.by_status(status)
    if meaning.internal:
        return _INTERNAL
    return Classified(meaning.graphql, message, meaning.code, retry_after=_retry_after(meaning.graphql))


def classify(error: GraphQLError) -> Classified:
    """The code and message a client may see for one GraphQL error.

    - an error that already carries one of our codes (the query limits set theirs) keeps it;
    - an error graphql-core raised on its own before execution (parse, validation, variable
      coercion: it has no ``path``) is the client's: ``BAD_REQUEST``;
    - one that wraps an exception is what :func:`classify_exception` says of it;
    - one graphql-core raised on its own *during* execution (it has a ``path``: a resolver
      returned null for a non-null field, a value the type cannot serialize) is our fault.
    """
    extensions = error.extensions or {}
    code = extensions.get("code")
    if isinstance(code, str) and code in CODES:
        if code == "INTERNAL":
            return _INTERNAL
        reason, field, retry = extensions.get("reason"), extensions.get("field"), extensions.get("retryAfter")
        return Classified(
            code,
            error.message,
            reason if isinstance(reason, str) else _default_reason(code),
            field if isinstance(field, str) else None,
            retry if isinstance(retry, int) else _retry_after(code),
        )
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        found = classify_exception(original)
        if found.internal and error.path is None and isinstance(original, CLIENT_VALUE_ERRORS):
            # a scalar refusing a literal, wrapped by graphql-core's validation: the client's
            return Classified("BAD_REQUEST", error.message, codes.VALIDATION_FAILED)
        return found
    if error.path is None:
        # graphql-core's own: a variable whose value does not fit its type is a bad value
        # (as a wrong type in a REST body, and told in REST's words); anything else, a
        # document that cannot run
        worded = variable_error(error.message)
        if worded is not None:
            return Classified("BAD_REQUEST", worded.message, codes.VALIDATION_FAILED, worded.field)
        return Classified("BAD_REQUEST", error.message, codes.INVALID_QUERY)
    return _INTERNAL


def _default_reason(code: str) -> str:
    """The finer code of an error that carries only GraphQL's (the limits', the transport's:
    refusals of the document)."""
    return codes.INVALID_QUERY if code == "BAD_REQUEST" else codes.BY_GRAPHQL_CODE[code].code


def coded(error: GraphQLError) -> GraphQLError:
    """``error`` as the client may see it: with ``extensions.code``, and masked if internal."""
    found = classify(error)
    extensions = {} if found.internal else dict(error.extensions or {})
    extensions.update(found.extensions())
    if extensions == error.extensions and found.message == error.message:
        return error
    return GraphQLError(
        found.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def log_errors(errors: Iterable[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
    """Records a fault of the service with its traceback; a client's mistake only at DEBUG.

    Made for ``Schema.process_errors``, which strawberry calls with the original errors
    (strawberry's own logs every error, a client's typo included, at ERROR)."""
    for error in errors:
        if classify(error).internal:
            where = ".".join(str(part) for part in error.path) if error.path else "the operation"
            log.error("GraphQL error in %s: %s", where, error.message, exc_info=error.original_error or error)
        else:
            log.debug("GraphQL request refused: %s", error.message)


@runtime_checkable
class _WithErrors(Protocol):
    errors: list[GraphQLError] | None


class ErrorCodes(SchemaExtension):
    """Gives every error of a result its ``extensions.code`` and masks internal ones.

    List it first in ``extensions=[...]``: strawberry unwinds extensions in reverse, so the
    first one sees the errors last, whatever the others added."""

    def on_operation(self) -> Iterator[None]:
        yield
        _code_errors(self.execution_context.result)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        # A subscription's events (and a result streamed over SSE or multipart).
        _code_errors(result)
        yield


def _code_errors(result: object) -> None:
    if isinstance(result, _WithErrors) and result.errors:
        result.errors = [coded(error) for error in result.errors]


ExtensionFactory = Callable[[], SchemaExtension]


class CodedSchema(strawberry.Schema):
    """``strawberry.Schema`` whose errors all carry codes (:class:`ErrorCodes` is added first
    among the extensions) and whose log records faults with their traceback, not a
    client's every typo (:func:`log_errors`)."""

    def __init__(
        self,
        query: type,
        mutation: type | None = None,
        subscription: type | None = None,
        *,
        extensions: Iterable[type[SchemaExtension] | ExtensionFactory] = (),
        **options: Any,
    ) -> None:
        super().__init__(query, mutation, subscription, extensions=[ErrorCodes, *extensions], **options)

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        log_errors(errors, execution_context)


def error_body(
    message: str,
    code: str = "BAD_REQUEST",
    *,
    reason: str | None = None,
    retry_after: int | None = None,
) -> dict[str, Any]:
    """The GraphQL response for a request refused before any operation ran."""
    found = Classified(code, message, reason or _default_reason(code), retry_after=retry_after)
    return {"errors": [{"message": message, "extensions": found.extensions()}]}


def status_body(status: int, message: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The GraphQL response refusing a request with an HTTP ``status`` of ours, before any
    operation ran (the reason is what the status means: ``gateway.http.codes.BY_STATUS``)."""
    meaning = codes.by_status(status)
    retry = (headers or {}).get("Retry-After")
    shown = INTERNAL_MESSAGE if meaning.internal else message
    retry_after = int(retry) if retry is not None and retry.isdigit() else None
    return error_body(shown, meaning.graphql, reason=meaning.code, retry_after=retry_after)

"""Errors of the use-case layer itself, beside the domain's."""

from domain.errors import Conflict, DomainError, ValidationError


class Unavailable(DomainError):
    """A write was saved but the read model could not apply it in time: read it again
    shortly instead of retrying the write."""

    code = "UNAVAILABLE"


class Unauthenticated(DomainError):
    """The key that opened a long-lived connection is no longer valid."""

    code = "UNAUTHENTICATED"


class IdempotencyKeyReused(ValidationError):
    """An idempotency key was used for another request (method, path, body; or another
    mutation or arguments)."""

    reason = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyInFlight(Conflict):
    """A request with the idempotency key is still running; retry after ``retry_after`` seconds."""

    reason = "IDEMPOTENCY_IN_FLIGHT"
    retry_after = 1

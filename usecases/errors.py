"""Errors of the use-case layer itself, beside the domain's."""

from domain.errors import DomainError


class Unavailable(DomainError):
    """A write was saved but the read model could not apply it in time: read it again
    shortly instead of retrying the write."""

    code = "UNAVAILABLE"


class Unauthenticated(DomainError):
    """The key that opened a long-lived connection is no longer valid."""

    code = "UNAUTHENTICATED"

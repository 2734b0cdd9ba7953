"""The domain's error hierarchy. Each carries a machine ``code`` that every door reports
as it is (GraphQL's ``extensions.code``) or maps to its own terms (an HTTP status)."""


class DomainError(Exception):
    """Base of every error a command can refuse with."""

    code = "BAD_REQUEST"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The resource does not exist, or belongs to another account."""

    code = "NOT_FOUND"


class ValidationError(DomainError):
    """The command's values break a rule of the domain."""

    code = "BAD_REQUEST"


class Conflict(DomainError):
    """The command clashes with the current state (a taken number, a non-draft invoice)."""

    code = "CONFLICT"


class PlanLimitReached(DomainError):
    """The account's plan does not allow this (a limit or a feature)."""

    code = "FORBIDDEN"

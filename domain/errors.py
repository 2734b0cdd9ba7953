"""The domain's error hierarchy; the gateway maps each to one HTTP status."""


class DomainError(Exception):
    """Base of every error a command can refuse with."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The resource does not exist, or belongs to another account."""


class ValidationError(DomainError):
    """The command's values break a rule of the domain."""


class Conflict(DomainError):
    """The command clashes with the current state (a taken number, a non-draft invoice)."""


class PlanLimitReached(DomainError):
    """The account's plan does not allow this (a limit or a feature)."""

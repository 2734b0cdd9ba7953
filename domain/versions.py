"""A write's precondition on the version of the record it changes: the version a caller
read (an ETag's in REST's ``If-Match``, GraphQL's ``expectedVersion``) is compared inside
the command, on the aggregate it loaded, so the store's optimistic concurrency guards the
save: a write landing in between makes the save fail, the command runs again on the fresh
aggregate and is refused. (A check before the command would be a race.)"""

from eventsourcing.domain import Aggregate

from domain.errors import DomainError

# The versions the caller accepts (any one of them); None: no precondition.
Expected = frozenset[int] | None


class VersionMismatch(DomainError):
    """The record is not at the version the caller expected: it changed since they read it
    (RFC 9110 §13.1.1: If-Match, 412 Precondition Failed)."""

    code = "PRECONDITION_FAILED"
    status = 412

    def __init__(self, message: str, current: int) -> None:
        super().__init__(message)
        self.current = current


def expect(aggregate: Aggregate, expected: Expected, kind: str) -> None:
    """Refuses the command unless ``aggregate`` is at one of the ``expected`` versions."""
    if expected is None or aggregate.version in expected:
        return
    if not expected:  # a precondition that names no version of ours (weak tags, other servers' tags)
        raise VersionMismatch(
            f"{kind} is at version {aggregate.version}, and the precondition names none of its versions; "
            "read it again and send its ETag",
            aggregate.version,
        )
    wanted = " or ".join(str(version) for version in sorted(expected))
    raise VersionMismatch(
        f"{kind} is at version {aggregate.version}, not {wanted}: it changed since it was read; read it again",
        aggregate.version,
    )

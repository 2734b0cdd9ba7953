"""Integrity failures this process has met: streams whose stored seals do not verify.

Loading a stream checks its seals (``domain/ledger.py``); a stream that fails is never
served and is remembered here, so the health answer can show it and an operator can find
it. The record is per process and bounded: it names streams, it is not a log. The first
time a process meets a stream that fails, it logs one structured line (``integrityFailure``
with the stream and the reason); the refusal itself is ``Unverified``, a domain error
whose code every door reports.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.errors import DomainError

MOST = 100  # streams remembered; the oldest is forgotten first


@dataclass(frozen=True)
class IntegrityFailure:
    stream: str  # the aggregate's id
    reason: str  # what did not verify, in words
    at: datetime  # when this process first met it


class Unverified(DomainError):
    """A stream was not served because its stored seals do not verify: the store was
    changed outside the service. Not the caller's fault, and no retry helps until an
    operator repairs the store (``cleverinvo ledger verify`` names what is broken)."""

    code = "INTEGRITY_FAILURE"
    # What the doors answer for a code they have no row for (gateway/http/codes.py): 503, the
    # service cannot serve this record, and the caller's request is not at fault.
    status = 503

    def __init__(self, message: str, stream: str) -> None:
        super().__init__(message)
        self.stream = stream


log = logging.getLogger("cleverinvo")
_lock = threading.Lock()
_failures: dict[str, IntegrityFailure] = {}


def record_failure(stream: str, reason: str, at: datetime | None = None) -> IntegrityFailure:
    """Remembers a stream that did not verify (the first reason met is kept)."""
    return _remember(stream, reason, at)[0]


def _remember(stream: str, reason: str, at: datetime | None) -> tuple[IntegrityFailure, bool]:
    """The failure recorded for ``stream``, and whether this call recorded it."""
    with _lock:
        known = _failures.get(stream)
        if known is not None:
            return known, False
        failure = IntegrityFailure(stream, reason, at or datetime.now(UTC))
        _failures[stream] = failure
        while len(_failures) > MOST:
            del _failures[next(iter(_failures))]
        return failure, True


def refuse(stream: str, reason: str, kind: str | None = None) -> Unverified:
    """Records and logs (once per stream) that ``stream`` did not verify; returns the
    refusal to raise. ``kind`` names the record (``Invoice``), when the events tell it."""
    named = f"{kind} {stream}" if kind else f"stream {stream}"
    _, first = _remember(stream, reason, None)
    if first:
        fields = {"event": "integrityFailure", "stream": stream, "kind": kind, "reason": reason}
        message = "integrity failure: the stored events of %s do not verify: %s"
        log.error(message, named, reason, extra={"fields": fields})
    return Unverified(
        f"The stored history of {named} does not verify ({reason}); it is not served until the store is repaired",
        stream,
    )


def failures() -> list[IntegrityFailure]:
    """The streams this process found unverifiable, oldest first."""
    with _lock:
        return list(_failures.values())


def forget_all() -> None:
    """For tests, and after an operator has repaired the store and restarted nothing."""
    with _lock:
        _failures.clear()

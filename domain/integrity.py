"""Integrity failures this process has met: streams whose stored seals do not verify.

Loading a stream checks its seals (``domain/ledger.py``); a stream that fails is never
served and is remembered here, so the health answer can show it and an operator can find
it. The record is per process and bounded: it names streams, it is not a log.
"""

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

MOST = 100  # streams remembered; the oldest is forgotten first


@dataclass(frozen=True)
class IntegrityFailure:
    stream: str  # the aggregate's id
    reason: str  # what did not verify, in words
    at: datetime  # when this process first met it


_lock = threading.Lock()
_failures: dict[str, IntegrityFailure] = {}


def record_failure(stream: str, reason: str, at: datetime | None = None) -> IntegrityFailure:
    """Remembers a stream that did not verify (the first reason met is kept)."""
    with _lock:
        known = _failures.get(stream)
        if known is not None:
            return known
        failure = IntegrityFailure(stream, reason, at or datetime.now(UTC))
        _failures[stream] = failure
        while len(_failures) > MOST:
            del _failures[next(iter(_failures))]
        return failure


def failures() -> list[IntegrityFailure]:
    """The streams this process found unverifiable, oldest first."""
    with _lock:
        return list(_failures.values())


def forget_all() -> None:
    """For tests, and after an operator has repaired the store and restarted nothing."""
    with _lock:
        _failures.clear()

"""A store's fault answered as an outage, never as a 500: what each door says.

- The disk is full (SQLite's SQLITE_FULL, a file's ENOSPC, PostgreSQL's 53100 disk_full):
  507 Insufficient Storage (RFC 4918 §11.5), code ``STORAGE_FULL``. A write refused so
  saved nothing; reads keep working.
- The database cannot be reached, or a bounded wait for it ran out (connect, pool, statement
  or lock timeout): 503 Service Unavailable (RFC 9110 §15.6.4), code
  ``DATABASE_UNAVAILABLE``.

Both carry ``Retry-After`` (RFC 9110 §10.2.3). A write that failed so carries
``Write-Saved`` (``gateway.http.errors.WRITE_SAVED``): ``false`` when nothing was saved (the
full disk refused it, or the database could not be reached to begin with), ``unknown``
when the connection broke while the write was on its way (a COMMIT whose answer never
came): a retry with the same ``Idempotency-Key`` settles it, running it only if it did not
take effect.

``classify`` is for every door: REST's handler (``gateway.http.errors``), GraphQL's and the
dashboard's.
"""

import logging
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from database.faults import fault_of
from gateway.http import codes
from gateway.http.jsonio import error_response

RETRY_STORAGE = 30  # seconds: space is freed by people, not in a moment
RETRY_DATABASE = 2
STORAGE_FULL_MESSAGE = "The server's storage is full; nothing was saved. Retry later"
DATABASE_MESSAGE = "The database is unavailable; retry shortly"
DATABASE_WRITE_MESSAGE = "The database is unavailable; nothing was saved. Retry shortly"
UNKNOWN_MESSAGE = (
    "The database connection was lost while this change was being saved, so whether it was saved is unknown; "
    "retry with the same Idempotency-Key to settle it (it runs only if it was not saved), or read the record"
)
log = logging.getLogger("cleverinvo")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Outage:
    code: str
    status: int
    message: str
    retry_after: int
    saved: str | None  # Write-Saved's value on a write: "false", "unknown"; None on a read

    @property
    def headers(self) -> dict[str, str]:
        found = {"Retry-After": str(self.retry_after)}
        if self.saved is not None:
            found["Write-Saved"] = self.saved
        return found


def _before_sending(exc: BaseException) -> bool:
    """Whether the database was never reached for this error's work: a connection could
    not be made or had from the pool, so nothing was sent."""
    try:
        import psycopg
        import psycopg_pool
    except ImportError:
        return True
    error: BaseException | None = exc
    while error is not None:  # the error's own causes, not errors handled before it
        if isinstance(error, psycopg_pool.PoolTimeout | psycopg.errors.ConnectionTimeout):
            return True
        if isinstance(error, psycopg.OperationalError) and str(error).startswith("connection failed"):
            return True
        orig = getattr(error, "orig", None)
        error = orig if isinstance(orig, BaseException) else error.__cause__
    return False


def classify(exc: BaseException, method: str = "GET") -> Outage | None:
    """The outage ``exc`` is, answered to a request of ``method``; None when it is none."""
    fault = fault_of(exc)
    writing = method.upper() in UNSAFE
    if fault == "storage_full":
        return Outage(codes.STORAGE_FULL, 507, STORAGE_FULL_MESSAGE, RETRY_STORAGE, "false" if writing else None)
    if fault == "database":
        if not writing:
            return Outage(codes.DATABASE_UNAVAILABLE, 503, DATABASE_MESSAGE, RETRY_DATABASE, None)
        if _before_sending(exc):
            return Outage(codes.DATABASE_UNAVAILABLE, 503, DATABASE_WRITE_MESSAGE, RETRY_DATABASE, "false")
        return Outage(codes.DATABASE_UNAVAILABLE, 503, UNKNOWN_MESSAGE, RETRY_DATABASE, "unknown")
    return None


async def answering(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Runs ``app``; a store's fault it raises before answering is answered as its outage
    (a fault after the answer started is raised on: nothing else can be said then)."""
    started = False

    async def watched(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, receive, watched)
    except Exception as exc:
        outage = classify(exc, str(scope.get("method", "GET")))
        if outage is None or started or scope["type"] != "http":  # a websocket has no such answer
            raise
        log.warning("%s %s: %s (%s)", scope.get("method"), scope.get("path"), outage.code, first_line(exc))
        await error_response(outage.status, outage.message, outage.headers, code=outage.code)(scope, receive, send)


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]

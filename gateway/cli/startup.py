"""Before anything is opened: the data directory checked, the database waited for, and
every start-up failure said in one line (`cleverinvo: ...`, exit 2) instead of a traceback.

Hosts start before their database under an orchestrator (Compose, Kubernetes, systemd):
that is the normal case, so `serve`, `workers` and every command that opens the store
retry a PostgreSQL that is not answering yet for up to CLEVERINVO_DATABASE_WAIT seconds
(30 by default, 0: one try), backing off from 0.25 s doubling to 5 s, one log line a try.
Each try is bounded by a connect timeout, so a connect that hangs cannot outlast the wait
by more than that timeout (libpq's ``connect_timeout``, at least 2 s).

Which failures are "not up yet" (retried): a refused or reset connection, no answer
within the connect timeout, no route to the host, a host name not found (an orchestrator's
DNS names a service only once it exists), and the server saying it is starting up, shutting
down, in recovery, or out of connection slots. Anything else is fatal at once: a failed
password, an unknown role or database, a pg_hba.conf refusal, an SSL mismatch, a bad URL:
waiting would not change them.
"""

import errno
import importlib
import logging
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from gateway.settings import Settings

log = logging.getLogger("cleverinvo.startup")
FIRST_DELAY = 0.25  # seconds before the second try; doubled after each, up to MOST_DELAY
MOST_DELAY = 5.0
MOST_CONNECT_TIMEOUT = 10  # seconds one connect may take (libpq counts whole seconds, at least 2)

Say = Callable[[str], None]

# Lower-case fragments of psycopg/libpq messages that mean "not up yet", with how we say it.
NOT_YET_UP = (
    ("connection refused", "connection refused"),
    ("timeout expired", "no answer within the connect timeout"),
    ("timed out", "no answer within the connect timeout"),
    ("failed to resolve host", "host name not found"),
    ("could not translate host name", "host name not found"),
    ("no route to host", "no route to host"),
    ("network is unreachable", "network unreachable"),
    ("connection reset", "connection reset"),
    ("server closed the connection unexpectedly", "connection closed at once"),
    ("the database system is starting up", "the database system is starting up"),
    ("the database system is shutting down", "the database system is shutting down"),
    ("the database system is in recovery mode", "the database system is in recovery"),
    ("the database system is not yet accepting connections", "not yet accepting connections"),
    ("too many clients", "out of connection slots"),
    ("remaining connection slots are reserved", "out of connection slots"),
)


# Driver and event-store failures that may reach us unwrapped by SQLAlchemy.
DRIVER_ERRORS = (
    ("psycopg", "Error"),
    ("psycopg_pool", "PoolTimeout"),
    ("eventsourcing.persistence", "PersistenceError"),
)


class StartupError(Exception):
    """What stops a start, in one line (main prints it after ``cleverinvo: ``, exit 2)."""


def one_line(text: str) -> str:
    """``text`` with its line breaks and runs of blanks made single spaces."""
    return " ".join(text.split())


def where(settings: Settings) -> str:
    """``host:port`` of the PostgreSQL the settings name."""
    url = make_url(settings.database_url)
    return f"{url.host or 'localhost'}:{url.port or 5432}"


# --- the data directory ----------------------------------------------------------------


def check_data_dir(settings: Settings) -> None:
    """SQLite keeps the events and the read models in the data directory: it must exist
    (or be made now) and take a file, or the start stops here, before anything is written.
    Root passes permission bits (a read-only mount it does not): so a file is made, not
    ``os.access`` asked."""
    if settings.uses_postgres:
        return
    folders = [settings.data_dir]
    database = make_url(settings.database_url).database
    if database and database != ":memory:" and Path(database).parent != settings.data_dir:
        folders.append(Path(database).parent)
    for folder in folders:
        _writable(folder)
    # an older directory's events.sqlite3 (moved into the database at start) and the database
    files = [settings.data_dir / "events.sqlite3", settings.sqlite_path]
    for file in files:
        if file.exists() and not os.access(file, os.R_OK | os.W_OK):
            raise StartupError(f"the database file {file} is not writable by this user")


def _writable(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise StartupError(f"the data directory {folder} is not a directory")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(f"the data directory {folder} cannot be made: {_reason(exc)}") from None
    try:
        descriptor, probe = tempfile.mkstemp(prefix=".cleverinvo-start-", dir=folder)
    except OSError as exc:
        if exc.errno == errno.EROFS:
            raise StartupError(f"the data directory {folder} is read-only: {_reason(exc)}") from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise StartupError(f"the data directory {folder} is not writable by this user: {_reason(exc)}") from None
        raise StartupError(f"the data directory {folder} cannot be written: {_reason(exc)}") from None
    os.close(descriptor)
    os.unlink(probe)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


# --- the database ----------------------------------------------------------------------


def not_yet_up(message: str) -> str | None:
    """How to say a connect failure that waiting may cure, or None if it is fatal."""
    lowered = message.lower()
    return next((said for fragment, said in NOT_YET_UP if fragment in lowered), None)


def _try_connect(url: str, timeout: int) -> None:
    engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": timeout})
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


def wait_for_database(
    settings: Settings,
    say: Say,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    connect: Callable[[str, int], None] = _try_connect,
) -> None:
    """Returns once PostgreSQL takes a connection; raises StartupError if it answers with a
    fatal error, or is still not up after ``settings.database_wait_seconds``. SQLite: at once."""
    if not settings.uses_postgres:
        return
    place, wait = where(settings), settings.database_wait_seconds
    deadline, delay = clock() + wait, FIRST_DELAY
    while True:
        left = deadline - clock()
        try:
            connect(settings.database_url, max(2, min(MOST_CONNECT_TIMEOUT, int(left + 0.999))))
            return
        except DBAPIError as exc:
            message = one_line(str(exc.orig))
        reason = not_yet_up(message)
        if reason is None:
            raise StartupError(f"the database at {place} refused us: {message}")
        left = deadline - clock()
        if left <= 0:
            waited = f"within {wait} s (CLEVERINVO_DATABASE_WAIT)" if wait else "(CLEVERINVO_DATABASE_WAIT is 0)"
            raise StartupError(f"the database at {place} is not answering {waited}: {reason}")
        pause = min(delay, left)
        after = max(0.0, left - pause)
        say(f"database at {place} not answering ({reason}); retrying in {_seconds(pause)} s, {after:.1f} s left")
        sleep(pause)
        delay = min(delay * 2, MOST_DELAY)


def _seconds(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def prepare(settings: Settings, say: Say) -> None:
    """Everything a process checks before it opens the store (see the module docstring)."""
    check_data_dir(settings)
    wait_for_database(settings, say)


# --- failures met while opening the store ---------------------------------------------------


def failure(exc: BaseException, settings: Settings) -> str | None:
    """One line for a failure met while opening the store or migrating it (a database
    that went away after the wait, a file the checks could not foresee), or None for one
    that is not the environment's (a bug: its traceback is wanted)."""
    if isinstance(exc, StartupError):
        return str(exc)
    if isinstance(exc, DBAPIError):
        return _database(settings, one_line(str(exc.orig)))
    if isinstance(exc, SQLAlchemyError | sqlite3.Error):
        return _database(settings, one_line(str(exc)))
    if isinstance(exc, OSError):
        return f"{exc.filename}: {_reason(exc)}" if exc.filename else _reason(exc)
    for module, name in DRIVER_ERRORS:
        kind = _class(module, name)
        if kind is not None and isinstance(exc, kind):
            return _database(settings, one_line(str(exc)) or type(exc).__name__)
    return None


def _database(settings: Settings, message: str) -> str:
    if settings.uses_postgres:
        return f"the database at {where(settings)} failed: {message}"
    return f"the SQLite database in {settings.data_dir} failed: {message}"


def _class(module: str, name: str) -> type[BaseException] | None:
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if isinstance(found, type) and issubclass(found, BaseException) else None

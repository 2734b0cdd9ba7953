"""Faults of the stores, told apart from bugs: a full disk, and a database that cannot be
reached. Each door answers them as outages (``gateway/http/outages.py``); the read side and the
PDF cache use them to keep serving what is there when only writing fails.

An error is looked for along its whole chain (``__cause__``, ``__context__`` and a
SQLAlchemy error's ``orig``): eventsourcing wraps sqlite3's and psycopg's errors in its own
classes, and SQLAlchemy wraps them in its own.
"""

import errno
import sqlite3
from collections.abc import Iterator
from typing import Literal

Fault = Literal["storage_full", "database"]

SQLITE_FULL = 13  # https://www.sqlite.org/rescode.html#full
SQLITE_IOERR = 10  # an I/O error; with ENOSPC below it, a full disk too
SQLITE_CANTOPEN = 14
FULL_TEXT = "database or disk is full"
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
# PostgreSQL's SQLSTATEs (Appendix A of its manual): 53100 disk_full, 53000 insufficient_resources
DISK_FULL_STATES = frozenset({"53100"})
# Class 08 (connection exception), 57P01..57P03 (admin/crash shutdown, cannot connect now),
# 57014 (query_canceled: statement_timeout), 55P03 (lock_not_available: lock_timeout),
# 53300 (too_many_connections), 40001/40P01 are the client's to retry and stay elsewhere.
UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "57014", "55P03", "53300"})


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every error below it, each once."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for below in (current.__cause__, current.__context__, getattr(current, "orig", None)):
            if isinstance(below, BaseException):
                todo.append(below)


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None)  # psycopg 3's errors
    return state if isinstance(state, str) else None


def _storage_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in NO_SPACE:
        return True
    if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL:
        return True
    if _sqlstate(exc) in DISK_FULL_STATES:
        return True
    # eventsourcing re-raises sqlite3's error in its own class, with the same words
    return FULL_TEXT in str(exc) and type(exc).__module__.split(".")[0] in ("sqlite3", "eventsourcing", "sqlalchemy")


def _database_gone(exc: BaseException) -> bool:
    try:
        import psycopg
        import psycopg_pool
    except ImportError:  # no PostgreSQL here: only SQLite, whose faults are the disk's
        return False
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return True
    if isinstance(exc, psycopg.Error):
        state = _sqlstate(exc)
        if state is None:  # no answer from the server at all: the connection failed or broke
            return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
        return state.startswith("08") or state in UNAVAILABLE_STATES
    return False


def fault_of(exc: BaseException) -> Fault | None:
    """Which fault of a store ``exc`` is, if any (None: something else, a bug)."""
    found: Fault | None = None
    for error in chain(exc):
        if _storage_full(error):
            return "storage_full"
        if found is None and _database_gone(error):
            found = "database"
    return found


def storage_full(exc: BaseException) -> bool:
    return fault_of(exc) == "storage_full"

"""Engines for the read-model database (SQLite by default, PostgreSQL at scale).

A SQLite engine keeps the connections it opened, up to ``CONNECTIONS`` (the request threads
are sized to it: ``gateway.http.capacity``): the default pool kept 5 and closed any opened
above them on their return, so a load of more than 5 threads opened and closed a connection
(and ran its PRAGMAs) for most requests. PostgreSQL keeps the stock pool: its connections
are the server's, shared by every process. ``single_statements`` is the same
pool for a read of one statement, which needs no transaction around it.
"""

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from database.bounds import Bounds

# Connections a SQLite engine may hold, all kept once opened (opened only when wanted). The
# bound is what the stock pool allowed (5 kept and 10 more), so the threads stay as many.
CONNECTIONS = 15
# An execution option: the connection runs each statement in its own (SQLite autocommit)
# transaction, with no BEGIN/ROLLBACK around it (``single_statements``).
_NO_BEGIN = "cleverinvo_no_begin"
_SINGLE = "_cleverinvo_single_statements"  # where an engine keeps its single_statements copy


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, writer: bool = False, bounds: Bounds | None = None) -> Engine:
    """An engine for ``url``; a SQLite ``writer`` takes the write lock at BEGIN. On
    PostgreSQL every wait is bounded by ``bounds`` (database/pg_bounds.py).

    SQLite's default deferred BEGIN lets two processes both read the projection's
    position and then deadlock on upgrading to a write lock; BEGIN IMMEDIATE makes the
    second one wait (busy_timeout) instead, which is what the projector needs.
    """
    if not is_sqlite(url):
        return _postgres_engine(url, bounds or Bounds())
    engine = create_engine(url, pool_size=CONNECTIONS, max_overflow=0)
    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(_NO_BEGIN):
            return  # one statement: SQLite's autocommit gives it its own snapshot
        # on the driver's connection: the statement needs none of SQLAlchemy's execution
        # machinery (a third of a small read's time went to it)
        connection.connection.driver_connection.execute(begin)

    return engine


def single_statements(engine: Engine) -> Engine:
    """``engine``'s pool, for reads of one statement each: no transaction is begun around
    them (SQLite autocommit, PostgreSQL's autocommit), so they cost no BEGIN and ROLLBACK.
    A read of several statements that must agree takes ``engine`` itself."""
    found = getattr(engine, _SINGLE, None)
    if isinstance(found, Engine):
        return found
    if engine.dialect.name == "sqlite":  # one per engine: making it costs as much as a small read
        found = engine.execution_options(**{_NO_BEGIN: True})
    else:
        found = engine.execution_options(isolation_level="AUTOCOMMIT")
    setattr(engine, _SINGLE, found)
    return found


def _postgres_engine(url: str, bounds: Bounds) -> Engine:
    # pool_pre_ping: a connection the server dropped (a restart) is replaced before use;
    # a disconnect seen in use drops the whole pool, so the next request connects anew.
    # The stock pool (5 kept, 10 more closed on their return): a server's connections are
    # shared by every process and host; 15 kept by each engine of each process met "too many
    # clients" under the multi-process tests.
    engine = create_engine(url, pool_pre_ping=True, pool_timeout=bounds.pool, connect_args=bounds.libpq())

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            for statement in bounds.session():
                cursor.execute(statement)
        dbapi_connection.autocommit = autocommit

    return engine


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[None]:
    """Holds a lock named ``name`` across processes and hosts for the block: a PostgreSQL
    session-level advisory lock on a connection of its own, or, for SQLite (one host), an
    exclusive ``flock`` on a file beside the database."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        path = Path(database).with_name(f"{Path(database).name}.{name}.lock") if database else None
        if path is None or database == ":memory:":
            yield
            return
        with path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with engine.connect() as conn:
        # Waits as long as the holder's work takes (start-up, a rebuild): unbounded on this
        # connection alone, which is discarded afterwards rather than pooled unbounded.
        conn.exec_driver_sql("SET lock_timeout = 0")
        conn.exec_driver_sql("SET statement_timeout = 0")
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            conn.commit()
            conn.invalidate()


def create_schema(engine: Engine, name: str) -> None:
    """PostgreSQL: creates the schema ``name`` unless it exists (racing creators tolerated)."""
    if engine.dialect.name != "postgresql":
        return
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{name}"'))
    except IntegrityError:  # another process created it between the check and the insert
        pass

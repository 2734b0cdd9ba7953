"""One transaction per command: its reads of the event store, its events and the read
model's rows commit together, in one database.

Before this, a command read its aggregates in a transaction each (a BEGIN and a ROLLBACK
around every load), committed its events in the event store, and the projector then wrote
the read model's rows in a second transaction of a second database (on SQLite a second
file): 61 statements and two commits for ``POST /invoices``, and a projector lock every
writer waited on for read-your-writes. Now a command runs in a ``UnitOfWork``: one
connection of the read model's writer engine, one transaction (SQLite: ``BEGIN
IMMEDIATE``, the database's write lock for the whole command, so racing writers wait
instead of failing on versions and retrying), in which

- eventsourcing's recorders read and write through that same connection (the datastores
  below hand it out instead of one of their own pool's while a unit is open on the
  thread): the events are stored in the same database as the read model (on SQLite the
  same file, ``readmodels.sqlite3``; ``database.event_files`` moves an older data
  directory's ``events.sqlite3`` into it);
- before the commit, the unit's ``before_commit`` (the projector, ``projections.projector``)
  applies the new events to the read model and moves its tracked position, in the same
  transaction.

So events and their rows commit together or not at all (the way Marten's inline
projections and eventsourcing's own process recorders commit tracking with events), and a
read after the write sees it by construction. A unit is re-entrant on its thread: a
command that saves twice writes both in one transaction. Outside a unit (the followers'
reads, history, the rebuild) the recorders use their own pools as before.
"""

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore, SQLiteFactory
from eventsourcing.utils import Environment, EnvType
from sqlalchemy import Connection, Engine

FACTORY_TOPIC = "database.event_transactions:SharedSQLiteFactory"
# eventsourcing's SQLite pool, sized from the environment (the stock factory reads no size):
# what the store's reads outside a command use.
POOL_SIZE = "SQLITE_POOL_SIZE"
MAX_OVERFLOW = "SQLITE_MAX_OVERFLOW"
POOL_TIMEOUT = "SQLITE_POOL_TIMEOUT"

Hook = Callable[[], None]


class UnitOfWork:
    """A command's one transaction on ``engine`` (the read model's writer), per thread.

    ``before_commit(conn, notifications)`` runs inside it once events were written
    (``written(notifications)``: what the store numbered, in order);
    ``after_commit()`` after a commit that wrote events; ``after_rollback()`` after a
    rollback that discarded written events (what was cached of them is not true)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()
        self.before_commit: Callable[[Connection, Sequence[Any]], None] | None = None
        self.after_commit: Hook | None = None
        self.after_rollback: Hook | None = None

    @property
    def connection(self) -> Connection | None:
        """The thread's open unit's connection, None outside one."""
        conn: Connection | None = getattr(self._local, "conn", None)
        return conn

    def written(self, notifications: Sequence[Any]) -> None:
        """Tells the open unit that events were stored in it (as these notifications)."""
        self._local.written.extend(notifications)

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if self.connection is not None:  # re-entrant: a save inside a command's unit
            yield
            return
        with self.engine.connect() as conn:
            conn.begin()
            self._local.conn, self._local.written = conn, []
            try:
                yield
                if self._local.written and self.before_commit is not None:
                    self.before_commit(conn, self._local.written)
                conn.commit()
            except BaseException:
                written = self._local.written
                self._local.conn = None
                try:
                    conn.rollback()
                finally:
                    if written and self.after_rollback is not None:
                        self.after_rollback()
                raise
            finally:
                self._local.conn = None
        if self._local.written and self.after_commit is not None:
            self.after_commit()


def open_connection(unit: "UnitOfWork | None") -> Connection | None:
    """The connection of ``unit`` open on this thread: None without a unit, or outside one."""
    return unit.connection if unit is not None else None


def raw_connection(conn: Connection) -> Any:
    """The driver's own connection under a SQLAlchemy connection (sqlite3's, psycopg's)."""
    return conn.connection.driver_connection


class SharedSQLiteDatastore(SQLiteDatastore):
    """eventsourcing's SQLite datastore, which inside an open ``UnitOfWork`` runs every
    recorder statement on the unit's connection (no BEGIN, no COMMIT of its own)."""

    unit: UnitOfWork | None = None

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        conn = open_connection(self.unit)
        if conn is None:
            with super().transaction(commit=commit) as cursor:
                yield cursor
            return
        raw = raw_connection(conn).cursor()
        raw.row_factory = sqlite3.Row  # the recorders read columns by name
        try:
            yield SQLiteCursor(raw)
        except sqlite3.IntegrityError as exc:  # a racing version: the command is run again
            raise IntegrityError(exc) from exc
        finally:
            raw.close()


class OneInsertSQLiteRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite application recorder, storing a save's events with one
    multi-row INSERT (eventsourcing runs one per event to read each ``lastrowid``); the
    positions come back with ``RETURNING`` (SQLite 3.35), matched by stream and version
    since SQLite does not promise the returned rows' order."""

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if len(stored_events) < 2 or sqlite3.sqlite_version_info < (3, 35):
            return super()._insert_events(c, stored_events, **kwargs)
        params: list[Any] = []
        for stored in stored_events:
            originator = stored.originator_id
            params += [originator.hex if isinstance(originator, UUID) else originator, stored.originator_version]
            params += [stored.topic, stored.state]
        values = ",".join(["(?,?,?,?)"] * len(stored_events))
        c.execute(
            f"INSERT INTO {self.events_table_name} VALUES {values} RETURNING rowid, originator_id, originator_version",
            params,
        )
        positions = {(str(row[1]), int(row[2])): int(row[0]) for row in c.fetchall()}
        keys = [(getattr(s.originator_id, "hex", s.originator_id), s.originator_version) for s in stored_events]
        return [positions[(str(key), version)] for key, version in keys]


class SharedSQLiteFactory(SQLiteFactory):
    """eventsourcing's SQLite persistence over ``SharedSQLiteDatastore``, its own pool sized
    from the environment (``SQLITE_POOL_SIZE``, ``SQLITE_MAX_OVERFLOW``, ``SQLITE_POOL_TIMEOUT``)."""

    application_recorder_class = OneInsertSQLiteRecorder

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        stock = self.datastore
        self.datastore = SharedSQLiteDatastore(
            db_name=stock.pool.db_name,
            lock_timeout=stock.pool.lock_timeout,
            pool_size=int(self.env.get(POOL_SIZE) or 5),
            max_overflow=int(self.env.get(MAX_OVERFLOW) or 10),
            pool_timeout=float(self.env.get(POOL_TIMEOUT) or 5.0),
            single_row_tracking=stock.single_row_tracking,
            originator_id_type=stock.originator_id_type,
        )
        stock.pool.close()  # it never opened a connection


def share(datastore: Any, unit: UnitOfWork) -> bool:
    """Has the event store's ``datastore`` run inside ``unit`` from now on; False when it
    cannot (a datastore of another kind keeps its own transactions). The sharing ones are
    ``SharedSQLiteDatastore`` and ``database.pg_bounds.SharedPostgresDatastore``."""
    if not hasattr(type(datastore), "unit"):
        return False
    datastore.unit = unit
    return True

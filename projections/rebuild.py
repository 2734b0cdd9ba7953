"""Rebuilding the read model from the events beside the live one, while it serves.

The new tables (``rebuild_*``) fill in batches of their own transactions, so writes and
their read-your-writes go on meanwhile; only the last events and the switch (drop the
live tables, rename the new ones) hold the write lock. The events go through a
``Replay`` (``projections.replay``): the live handlers, their rows kept in memory and
written many at a time; on SQLite the rows are made outside the write lock and written
in a short transaction. The tables fill without the indexes that no handler finds rows
by, and without the search index: both are built once from the filled tables (faster
than keeping them row by row), before the events recorded meanwhile are applied. A
rebuild killed on the way leaves the live tables as they were; the next one drops what
it left. So does one that meets a stream whose seals do not verify: it stops with
``Unverified`` naming the stream.

The projector (``projections.projector``) runs the steps: ``prepare`` the new tables,
``fill`` them (the same handlers as the live one, so a rebuilt read model equals the live
one), then ``switch`` inside its own lock.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, Index, Table, delete, insert, inspect, text, update

from database.engines import make_engine
from database.metadata import metadata
from domain.application import CleverInvo
from projections import search
from projections.replay import Replay, deadline
from projections.tables import GENERATIONS, LIVE, READ_MODEL_TABLES, ReadTables, invoices, shadow_tables, tracking

REBUILD_KEY = "read-model-rebuild"  # the position of a rebuild under way beside the live tables
# How a rebuild shares SQLite's write lock with live writers (``Turns``): each transaction
# holds it at most REBUILD_HOLD_SECONDS (REBUILD_BUSY_HOLD_SECONDS while events are being
# recorded), then pauses REBUILD_PAUSE_SECONDS. The replay holds no lock while it makes
# rows for that long, then writes them in a transaction of its own, with no pause (``_replay``).
REBUILD_HOLD_SECONDS = 0.5
REBUILD_BUSY_HOLD_SECONDS = 0.15
REBUILD_BUSY_SECONDS = 1.0
REBUILD_PAUSE_SECONDS = 0.05
REBUILD_HOLD_SECONDS_POSTGRES = 2.0
REBUILD_PRAGMAS = {"cache_size": -65_536, "wal_autocheckpoint": 8_000}  # SQLite: 64 MiB, 8,000 pages (``filling``)
# Indexes that handlers find rows by: a rebuild's tables have them while they fill. The
# others (the lists' orders, the search index) are made once the rows are in.
LOOKUP_INDEXES = frozenset({"ix_invoices_client_ref", "ix_invoice_payments_invoice_id", "ix_api_keys_account_id"})
SEARCH_FILL_ROWS = 2_000  # rows put in the search index per statement, when a rebuild builds it


_REPLAYS: "WeakKeyDictionary[Builder, Replay]" = WeakKeyDictionary()  # a filled builder's replay, for its switch


class Builder(Protocol):
    """The projector that fills a rebuild's tables."""

    searched: bool  # whether rows go into the search index as they are written

    def apply_batch(self, conn: Connection) -> tuple[int, bool]: ...


def _prefix_of(tables: ReadTables) -> str:
    """The index-name generation a set of shadow tables was made with."""
    names = [str(index.name) for index in tables.invoices.indexes if index.name]
    return GENERATIONS[1] if any(name.startswith(GENERATIONS[1]) for name in names) else GENERATIONS[0]


def _free_prefix(conn: Connection) -> str:
    """The index-name prefix the live tables do not use (their indexes keep theirs)."""
    names = {index["name"] or "" for index in inspect(conn).get_indexes(invoices.name)}
    return GENERATIONS[0] if any(name.startswith(GENERATIONS[1]) for name in names) else GENERATIONS[1]


def _deferred(index: Index) -> bool:
    """Whether a rebuild makes this index of its tables only after filling them."""
    return not any(str(index.name).endswith(name) for name in LOOKUP_INDEXES)


class Turns:
    """How long a rebuild holds each of its transactions, and when it lets live writers in.

    SQLite has one write lock per database and serves no queue of writers: a rebuild that
    took the lock again at once would starve the writers waiting for it. There, each of
    the rebuild's transactions ends after ``REBUILD_HOLD_SECONDS``, or as soon as an event
    is recorded (that write's projection is waiting for the lock), and is followed by a
    pause; for ``REBUILD_BUSY_SECONDS`` after an event, transactions hold at most
    ``REBUILD_BUSY_HOLD_SECONDS``, so a stream of writes waits at most about that long.
    PostgreSQL locks rows, not the database, and the rebuild's tables are its own: long
    transactions (fewer commits), no pause."""

    def __init__(self, app: CleverInvo, sqlite: bool) -> None:
        self.app = app
        self.sqlite = sqlite
        self._seen = app.recorder.max_notification_id() if sqlite else None
        self._busy_until = 0.0

    def deadline(self) -> float:
        """When the transaction beginning now is to end."""
        return time.monotonic() + self.hold()

    def hold(self) -> float:
        """How long the transaction beginning now may take."""
        if not self.sqlite:
            return REBUILD_HOLD_SECONDS_POSTGRES
        return REBUILD_BUSY_HOLD_SECONDS if time.monotonic() < self._busy_until else REBUILD_HOLD_SECONDS

    def waiting(self) -> bool:
        """Whether a live writer may be waiting for the lock: an event was recorded since the last look."""
        if not self.sqlite:
            return False
        latest = self.app.recorder.max_notification_id()
        if latest == self._seen:
            return False
        self._seen = latest
        self._busy_until = time.monotonic() + REBUILD_BUSY_SECONDS
        return True

    def take(self) -> None:
        """Between transactions: on SQLite, the writers waiting for the lock go first."""
        if self.sqlite:
            time.sleep(REBUILD_PAUSE_SECONDS)


def _in_turns(conn: Connection, turns: Turns, step: Callable[[], bool]) -> None:
    """Runs ``step`` (True while there is more to do) in a rebuild's transactions: each
    takes at least one step (a stream of writes does not stop the rebuild), ends at its
    deadline or when a live writer may be waiting, and is followed by ``turns.take()``."""
    more = True
    while more:
        with conn.begin():
            until = turns.deadline()
            more = step()
            while more and time.monotonic() < until and not turns.waiting():
                more = step()
        turns.take()


def _replay(writer: Engine, conn: Connection, turns: Turns, replay: Replay) -> None:
    """Applies the events recorded so far through ``replay``. On SQLite its rows are made
    on a connection that only reads, outside the write lock, until the transaction's
    deadline (or an event that writes the tables), then written in a short write
    transaction: live writers take the lock meanwhile, with no pause. On PostgreSQL
    both go on in transactions of ``REBUILD_HOLD_SECONDS_POSTGRES``."""
    more = True
    if turns.sqlite:
        reading = make_engine(writer.url.render_as_string(hide_password=False))  # BEGIN, not BEGIN IMMEDIATE
        try:
            with reading.connect() as reader:
                while more:
                    more = replay.gather(reader, deadline(turns.hold(), turns.waiting))
                    reader.rollback()  # its snapshot ends: the next one sees what was written
                    with conn.begin():
                        replay.write(conn)
        finally:
            reading.dispose()
        return
    while more:
        with conn.begin():
            over = deadline(turns.hold(), turns.waiting)
            more = replay.gather(conn, over)
            replay.write(conn)
            while more and not over():
                more = replay.gather(conn, over)
                replay.write(conn)


def prepare(writer: Engine) -> tuple[ReadTables, list[Index]]:
    """Makes the rebuild's tables afresh (dropping what a killed one left) with its position
    at zero; returns them and the indexes they get only once filled."""
    with writer.begin() as conn:
        shadow = shadow_tables(_free_prefix(conn))
        tables = list(shadow.all)
        for table in shadow.searched:
            search.drop(conn, table)
        tables[0].metadata.drop_all(conn, tables=tables)
        deferred = [index for table in tables for index in list(table.indexes) if _deferred(index)]
        for index in deferred:
            index.table.indexes.discard(index)  # type: ignore[union-attr]
        tables[0].metadata.create_all(conn, tables=tables)
        conn.execute(delete(tracking).where(tracking.c.application_name == REBUILD_KEY))
        conn.execute(insert(tracking).values(application_name=REBUILD_KEY, notification_id=0))
    return shadow, deferred


def fill(app: CleverInvo, writer: Engine, builder: Builder, shadow: ReadTables, deferred: list[Index]) -> None:
    """Applies every event recorded so far to the rebuild's tables, makes their deferred
    indexes and search index, then applies what was recorded meanwhile. The events go
    through a ``Replay`` (``projections.replay``: the builder's handlers, many at a time),
    which ``switch`` finishes."""
    turns = Turns(app, writer.dialect.name == "sqlite")
    replay = _REPLAYS[builder] = Replay(app, shadow, REBUILD_KEY)
    with _filling(writer) as conn:
        _replay(writer, conn, turns, replay)
        for index in deferred:
            with conn.begin():
                index.create(conn)
            turns.take()
        for table in shadow.searched:
            _build_search(conn, table, _prefix_of(shadow), turns)
        builder.searched = replay.rows.searched = True
        _replay(writer, conn, turns, replay)  # what was recorded meanwhile
        if conn.dialect.name == "postgresql":
            # Statistics for the planner, which the renamed tables keep: filled by COPY and
            # never analysed, a status page was planned for 3 rows of 75,000 (227 ms, 4.8
            # after ANALYZE). SQLite's queries are written for no statistics.
            for table in shadow.all:
                with conn.begin():
                    conn.exec_driver_sql(f'ANALYZE "{table.name}"')


def switch(conn: Connection, builder: Builder, shadow: ReadTables, live_key: str) -> int:
    """Inside the live projector's transaction: applies what was written since, drops the
    live tables, renames the rebuild's to theirs and moves the live position to the
    rebuild's; returns that position."""
    replay = _REPLAYS.pop(builder, None)
    if replay is None:  # not filled by ``fill`` in this process
        more = True
        while more:
            reached, more = builder.apply_batch(conn)
    else:
        replay.run(conn)
        reached = replay.position
    for table in LIVE.searched:
        search.drop(conn, table)
    metadata.drop_all(conn, tables=list(READ_MODEL_TABLES))
    for new, live in zip(shadow.all, READ_MODEL_TABLES, strict=True):
        conn.execute(text(f'ALTER TABLE "{new.name}" RENAME TO "{live.name}"'))
    for new, live in zip(shadow.searched, LIVE.searched, strict=True):
        search.rename(conn, new, live)
    conn.execute(update(tracking).where(tracking.c.application_name == live_key).values(notification_id=reached))
    conn.execute(delete(tracking).where(tracking.c.application_name == REBUILD_KEY))
    return reached


@contextmanager
def _filling(writer: Engine) -> Iterator[Connection]:
    """The connection a rebuild fills its tables on. On SQLite with a larger page cache
    (the new tables' B-trees take random keys) and a checkpoint every few thousand pages
    rather than every thousand (pages a rebuild writes again and again are copied to the
    database once): both set back after, as the connection goes back to the pool."""
    with writer.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            before = [int(conn.exec_driver_sql(f"PRAGMA {name}").scalar_one()) for name in REBUILD_PRAGMAS]
            for name, value in REBUILD_PRAGMAS.items():
                conn.exec_driver_sql(f"PRAGMA {name}={int(value)}")
            conn.commit()
        try:
            yield conn
        finally:
            if sqlite:
                conn.rollback()
                for name, old in zip(REBUILD_PRAGMAS, before, strict=True):
                    conn.exec_driver_sql(f"PRAGMA {name}={old}")
                conn.commit()


def _build_search(conn: Connection, table: Table, index_prefix: str, turns: Turns) -> None:
    """The search index of a rebuild's filled table: made, then filled a rowid range at a time."""
    with conn.begin():
        search.create(conn, table, index_prefix)
    last = 0

    def step() -> bool:
        nonlocal last
        reached = search.fill(conn, table, last, SEARCH_FILL_ROWS)
        if reached is None:
            return False
        last = reached
        return True

    _in_turns(conn, turns, step)

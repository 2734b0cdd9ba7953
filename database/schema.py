"""The database's schema, by Alembic revisions shipped in the package (``migrations/``).

Every table this service keeps beside the event store is created and changed by a
revision: the read models, the projection's and the followers' positions, the work
queues, the ledger index, the PDF cache index and the idempotency records. A process
upgrades the database to its own head as it starts (``cleverinvo db upgrade`` does only
that), and never touches a database that a newer version has migrated: it refuses to
start, saying so, instead of dropping what it does not know.

Upgrades are serialised between processes and hosts: on SQLite the writer's BEGIN
IMMEDIATE holds the database's write lock, on PostgreSQL a transaction-level advisory
lock; both take the whole upgrade as one transaction (DDL is transactional on both).

A revision that changes how rows are derived from events calls
``read_models_stale()``: the next start rebuilds the read models from the events, beside
the live ones, as ``cleverinvo projections rebuild`` does.

Databases made before migrations existed kept a schema number in the projection's
tracking table; the baseline adopts them (creating only what is missing) and marks the
read models stale when that number was not the last one, 5. The row stays at 5, so an
older process in a rolling deploy never rebuilds (and drops) the tables of this one.

This module runs the revisions and knows none of the tables, so every store can call
``ensure_migrated`` before its first use. The revisions, Alembic's environment and
``migrations/catalog.py`` (every declared table, and the comparison with a database) sit
above the packages that declare tables (``projections``, ``storage``).
"""

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

LOCATION = "database:migrations"
LEGACY_SCHEMA_KEY = "read-model-schema"  # the pre-migrations schema number, kept at LEGACY_VERSION
LEGACY_VERSION = 5
STALE_KEY = "read-model-stale"  # present: the read models must be rebuilt from the events
LOCK_ID = 0x636C6576  # the advisory lock of an upgrade on PostgreSQL ("clev")


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer version of CleverInvo than this one."""


def config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", LOCATION)
    config.set_main_option("file_template", "%%(rev)s")  # revision ids are "0002_what_it_does"
    config.attributes["connection"] = conn
    return config


def scripts() -> ScriptDirectory:
    return ScriptDirectory(str(files("database") / "migrations"))


def head() -> str:
    revision = scripts().get_current_head()
    assert revision is not None
    return revision


def current(conn: Connection) -> str | None:
    """The revision the database is at (None: never migrated)."""
    return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _serialised(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as conn:  # a SQLite writer engine begins IMMEDIATE: the write lock
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
        yield conn


def _check_known(conn: Connection) -> str | None:
    revision = current(conn)
    if revision is not None:
        try:
            scripts().get_revision(revision)
        except Exception:  # alembic raises ResolutionError and kin for a revision it has no script of
            raise SchemaTooNew(
                f"The database is at schema revision {revision!r}, which this version of CleverInvo does not "
                f"know (its newest is {head()!r}): a newer version migrated it. Run that version, or upgrade "
                "this installation; nothing was changed."
            ) from None
    return revision


def _adopt_legacy(conn: Connection) -> None:
    """A database made before migrations: its read models are rebuilt unless it was at the
    last pre-migrations schema."""
    if "projection_tracking" not in inspect(conn).get_table_names():
        return
    row = conn.execute(
        text("SELECT notification_id FROM projection_tracking WHERE application_name = :key"),
        {"key": LEGACY_SCHEMA_KEY},
    ).first()
    if row is not None and int(row[0]) != LEGACY_VERSION:
        conn.execute(
            text("UPDATE projection_tracking SET notification_id = :v WHERE application_name = :key"),
            {"v": LEGACY_VERSION, "key": LEGACY_SCHEMA_KEY},
        )
        _mark_stale(conn)


def _mark_stale(conn: Connection) -> None:
    found = conn.execute(
        text("SELECT 1 FROM projection_tracking WHERE application_name = :key"), {"key": STALE_KEY}
    ).first()
    if found is None:
        conn.execute(
            text("INSERT INTO projection_tracking (application_name, notification_id) VALUES (:key, 0)"),
            {"key": STALE_KEY},
        )


def read_models_stale() -> None:
    """For a revision: the read models are to be rebuilt from the events at the next start."""
    from alembic import op

    _mark_stale(op.get_bind())


def upgrade(engine: Engine) -> str:
    """Brings the database to this version's head; returns it. Raises ``SchemaTooNew``."""
    with _serialised(engine) as conn:
        revision = _check_known(conn)
        new = revision is None and "projection_tracking" not in inspect(conn).get_table_names()
        if revision is None:
            _adopt_legacy(conn)
        target = head()
        if revision != target:
            command.upgrade(config(conn), "head")
        if new:  # no read model yet: the projector builds it from the first event, nothing to rebuild
            fresh(conn)
    _migrated.add(engine)
    return target


def stale(conn: Connection) -> bool:
    """Whether a revision asked for the read models to be rebuilt."""
    query = text("SELECT 1 FROM projection_tracking WHERE application_name = :key")
    return conn.execute(query, {"key": STALE_KEY}).first() is not None


def fresh(conn: Connection) -> None:
    """The read models were rebuilt: clears the request."""
    conn.execute(text("DELETE FROM projection_tracking WHERE application_name = :key"), {"key": STALE_KEY})


_migrated: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def ensure_migrated(engine: Engine) -> None:
    """``upgrade`` once per engine: the stores that share it call this before first use."""
    if engine not in _migrated:
        upgrade(engine)

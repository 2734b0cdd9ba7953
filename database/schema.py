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
"""

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, inspect, text

from projections import search

LOCATION = "database:migrations"
LEGACY_SCHEMA_KEY = "read-model-schema"  # the pre-migrations schema number, kept at LEGACY_VERSION
LEGACY_VERSION = 5
STALE_KEY = "read-model-stale"  # present: the read models must be rebuilt from the events
LOCK_ID = 0x636C6576  # the advisory lock of an upgrade on PostgreSQL ("clev")
# Tables in the same database that no revision manages: the event store's own (on PostgreSQL
# it may share the database), a rebuild's copies under way, and Alembic's own record.
UNMANAGED_PREFIXES = ("rebuild_", "alembic_version", "sqlite_")
EVENT_STORE_SUFFIXES = ("_events", "_snapshots", "_tracking_table")


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer version of CleverInvo than this one."""


def target_metadata() -> MetaData:
    """Every table the revisions must produce, gathered from the modules that use them."""
    from projections import ledger_index, tables
    from storage import idempotency, key_usage, owners, pdf_cache, work_queue

    combined = MetaData()
    stores = (work_queue, idempotency, ledger_index, pdf_cache, owners, key_usage)
    for owner in (tables.metadata, *(store.metadata for store in stores)):
        for table in owner.tables.values():
            table.to_metadata(combined)
    return combined


def managed(name: str | None, kind: str, known: set[str]) -> bool:
    """Whether a table reflected from the database is the revisions' business."""
    if kind == "index":  # search's FTS5 tables and trigram indexes are made by hand, not declared
        return not search.is_trigram_index(name)
    if kind != "table" or name is None:
        return True
    if search.is_search_table(name):
        return False
    return name in known or not (name.startswith(UNMANAGED_PREFIXES) or name.endswith(EVENT_STORE_SUFFIXES))


def _config(conn: Connection) -> Config:
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
            command.upgrade(_config(conn), "head")
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


def differences(engine: Engine) -> list[Any]:
    """What tells the database apart from this version's tables (empty: nothing)."""
    from alembic.autogenerate import compare_metadata

    metadata = target_metadata()
    known = set(metadata.tables)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_name": lambda name, kind, _parent: managed(name, kind, known),
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        return _same_but_for_generation(list(compare_metadata(context, metadata)))


REBUILT_PREFIX = "rb_"  # a rebuild's index names alternate with it (projections.projector.GENERATIONS)


def _same_but_for_generation(found: list[Any]) -> list[Any]:
    """Drops the pairs that differ only by a rebuild's generation prefix: an index (or unique
    constraint) ``rb_ix_x`` in the database is the declared ``ix_x``."""

    def key(item: Any) -> tuple[str, str, tuple[str, ...]] | None:
        if not isinstance(item, tuple) or len(item) != 2 or not hasattr(item[1], "columns"):
            return None
        thing = item[1]
        name = str(thing.name or "").removeprefix(REBUILT_PREFIX)
        table = thing.table.name if getattr(thing, "table", None) is not None else ""
        return name, table, tuple(column.name for column in thing.columns)

    removed = {key(item): item for item in found if item[0] in ("remove_index", "remove_constraint")}
    added = {key(item): item for item in found if item[0] in ("add_index", "add_constraint")}
    paired = {
        k for k in removed.keys() & added.keys() if k is not None and str(removed[k][1].name).startswith(REBUILT_PREFIX)
    }
    drop = {id(removed[k]) for k in paired} | {id(added[k]) for k in paired}
    return [item for item in found if id(item) not in drop]


def draft_revision(message: str) -> None:
    """Writes a new revision file: what the declared tables need beyond the current head,
    compared on a scratch SQLite database at head (read it, then adjust it by hand)."""
    import re
    import tempfile

    from database.engines import make_engine

    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/draft.sqlite3", writer=True)
        upgrade(engine)
        number = len(list(scripts().walk_revisions())) + 1
        slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:27]  # alembic_version holds 32 characters
        with engine.begin() as conn:
            command.revision(_config(conn), message, autogenerate=True, rev_id=f"{number:04d}_{slug}")
        engine.dispose()


if __name__ == "__main__":  # python -m database.schema "what the revision does"
    import sys

    draft_revision(" ".join(sys.argv[1:]) or "change")

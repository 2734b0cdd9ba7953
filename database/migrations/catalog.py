"""Every table the revisions must produce, and how the database is compared with them.

This is the one module that knows every table beside the event store: the read model and
the ledger index (``projections``) and the state kept beside them (``storage``), all on
``database.metadata``'s MetaData. It sits above them, with the revisions and Alembic's
environment; ``database.schema``, which runs the revisions, knows none of them.

``python -m database.migrations.catalog "what changes"`` drafts a revision by comparing the
declared tables with a scratch database at head.
"""

import re
import sys
import tempfile
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData

import projections.ledger_index
import projections.tables
import storage.tables
from database.engines import make_engine
from database.metadata import metadata
from database.schema import config, scripts, upgrade
from projections import search

DECLARING = (projections.tables, projections.ledger_index, storage.tables)  # the modules that declare tables
# Tables in the same database that no revision manages: the event store's own (on PostgreSQL
# it may share the database), a rebuild's copies under way, and Alembic's own record.
UNMANAGED_PREFIXES = ("rebuild_", "alembic_version", "sqlite_")
EVENT_STORE_SUFFIXES = ("_events", "_snapshots", "_tracking_table")
REBUILT_PREFIX = projections.tables.GENERATIONS[1]  # a rebuild's index names alternate with it


def target_metadata() -> MetaData:
    """Every table the revisions must produce (the modules of ``DECLARING`` declared them)."""
    return metadata


def managed(name: str | None, kind: str, known: set[str]) -> bool:
    """Whether a table reflected from the database is the revisions' business."""
    if kind == "index":  # search's FTS5 tables and trigram indexes are made by hand, not declared
        return not search.is_trigram_index(name)
    if kind != "table" or name is None:
        return True
    if search.is_search_table(name):
        return False
    return name in known or not (name.startswith(UNMANAGED_PREFIXES) or name.endswith(EVENT_STORE_SUFFIXES))


def differences(engine: Engine) -> list[Any]:
    """What tells the database apart from this version's tables (empty: nothing)."""
    declared = target_metadata()
    known = set(declared.tables)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_name": lambda name, kind, _parent: managed(name, kind, known),
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        return _same_but_for_generation(list(compare_metadata(context, declared)))


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
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{scratch}/draft.sqlite3", writer=True)
        upgrade(engine)
        number = len(list(scripts().walk_revisions())) + 1
        slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:27]  # alembic_version holds 32 characters
        with engine.begin() as conn:
            command.revision(config(conn), message, autogenerate=True, rev_id=f"{number:04d}_{slug}")
        engine.dispose()


if __name__ == "__main__":  # python -m database.migrations.catalog "what the revision does"
    draft_revision(" ".join(sys.argv[1:]) or "change")

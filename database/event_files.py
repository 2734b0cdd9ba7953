"""Moves an older SQLite data directory's events into the read model's file.

Until issue 26 a SQLite data directory held two databases: ``events.sqlite3`` (the event
store) and ``readmodels.sqlite3`` (everything else). A command now commits its events and
the read model's rows in one transaction (``database.event_transactions``), which SQLite
makes atomic only within one file (in WAL mode a transaction over attached files is atomic
per file, not across them: https://www.sqlite.org/lang_attach.html). So the events live in
the read model's file, and the first start of this version copies an existing
``events.sqlite3`` into it: every stored event and snapshot with its position (the
``rowid`` is the notification id every follower tracks), in one transaction, then renames
the old file to ``events.sqlite3.merged`` (kept, not deleted: the operator removes it once
satisfied). A start that finds both the merged events and the old file (a crash between
the commit and the rename) only renames it.
"""

import sqlite3
from pathlib import Path

# eventsourcing's SQLite tables (``SQLiteApplicationRecorder``, and its aggregate recorder
# for snapshots), created the same way here so the copy keeps rowids and keys.
TABLES = {
    "stored_events": (
        "CREATE TABLE IF NOT EXISTS stored_events (originator_id TEXT, originator_version INTEGER, "
        "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
    ),
    "stored_snapshots": (
        "CREATE TABLE IF NOT EXISTS stored_snapshots (originator_id TEXT, originator_version INTEGER, "
        "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID"
    ),
}
OLD_NAME = "events.sqlite3"


class EventFileConflict(RuntimeError):
    """Both files hold different events: nothing is moved, and the start stops."""


def _fingerprint(conn: sqlite3.Connection, schema: str, table: str) -> tuple[int, str]:
    """How many rows, and the greatest (stream, version): equal in both files once copied."""
    found = conn.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?", (table,))
    if found.fetchone() is None:
        return 0, ""
    count, top = conn.execute(
        f"SELECT count(*), coalesce(max(originator_id || ':' || originator_version), '') FROM {schema}.{table}"
    ).fetchone()
    return int(count), str(top)


def merge_event_file(database: Path, lock_timeout: float = 30.0) -> bool:
    """Copies ``events.sqlite3`` beside ``database`` into it, if there is one; True if it did.
    Run under the start-up lock (``database.engines.exclusive``), before the store opens."""
    old = database.with_name(OLD_NAME)
    if not old.exists() or old == database:
        return False
    conn = sqlite3.connect(database, timeout=lock_timeout, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("ATTACH DATABASE ? AS old", (str(old),))
        copied = False
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table, create in TABLES.items():
                old_rows = _fingerprint(conn, "old", table)
                conn.execute(create)
                new_rows = _fingerprint(conn, "main", table)
                if old_rows == new_rows or old_rows[0] == 0:
                    continue  # copied by an earlier start (or nothing to copy)
                if new_rows[0]:
                    raise EventFileConflict(
                        f"{database} and {old} both hold {table}; move one away before starting"
                    )
                columns = "originator_id, originator_version, topic, state"
                keep = "rowid, " if table == "stored_events" else ""
                conn.execute(f"INSERT INTO main.{table} ({keep}{columns}) SELECT {keep}{columns} FROM old.{table}")
                copied = True
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("DETACH DATABASE old")
    finally:
        conn.close()
    merged = old.with_name(f"{OLD_NAME}.merged")
    for suffix in ("-wal", "-shm"):  # usually checkpointed away by the close; else they go with it
        if Path(f"{old}{suffix}").exists():
            Path(f"{old}{suffix}").rename(f"{merged}{suffix}")
    old.rename(merged)
    return copied

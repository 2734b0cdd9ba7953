"""Migrated stores built once per test process and laid into each test's empty ones.

Migrating a new database is most of what a test's ``services`` fixture used to cost (about
0.1 s on SQLite and 0.3 s or more on PostgreSQL, where every migration step is a round trip
and the migration lock is one for the whole database). The state a first start leaves
behind is the same for every test, so each test process makes it once:

- SQLite: a data directory that a real ``Services`` started in and closed (its write-ahead
  log checkpointed into the files); a test's ``readmodels.sqlite3`` (events and read models)
  are byte-for-byte copies of its files.
- PostgreSQL: a schema that a real ``Services`` migrated, read back by ``pg_dump`` (tables,
  indexes, sequences, functions, types and the few rows a first start writes); a test's
  fresh schema is filled by that script with the template's name replaced by its own.

``Services`` then starts on them as a host restarts on a migrated database: the migrations
find the head revision and do nothing. Only empty stores that the test's own fixtures made
are filled (tests that lay out an old database, or point elsewhere, are left alone), and
where ``pg_dump`` is missing or fails, the test migrates as before.
tests/integration/test_store_templates.py checks that a laid-out store equals a migrated one.
"""

import atexit
import re
import shutil
import subprocess
import tempfile
from contextlib import ExitStack
from functools import cache
from pathlib import Path

from gateway.services import Services
from gateway.settings import Settings
from tests import backends

SQLITE_FILES = ("readmodels.sqlite3",)  # the events are in it too (database.event_transactions)
_cleanup = ExitStack()  # the template schema and directory go when the test process ends


def _default_sqlite(data_dir: Path) -> Settings:
    return Settings.from_env({"CLEVERINVO_DATA_DIR": str(data_dir)})


@cache
def sqlite_template() -> Path:
    """A data directory a real ``Services`` started in once and closed."""
    folder = Path(_cleanup.enter_context(tempfile.TemporaryDirectory(prefix="cinv-template-")))
    Services(_default_sqlite(folder)).close()
    left = sorted(path.name for path in folder.iterdir() if path.name not in SQLITE_FILES)
    assert all(name.endswith(".lock") for name in left), f"a closed store left {left} beside its files"
    return folder


def pg_dump_script(schema: str) -> str | None:
    """``schema`` as SQL that rebuilds it under the placeholder name (None: no usable pg_dump)."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        return None
    command = [pg_dump, "--dbname", backends.PG_DSN, "--schema", schema, "--inserts", "--no-owner", "--no-privileges"]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if run.returncode != 0:  # e.g. a pg_dump older than the server: the tests migrate instead
        return None
    kept = [
        line
        for line in run.stdout.splitlines()
        # psql's meta-commands (\restrict) are no SQL; the schema itself exists already
        if not line.startswith("\\") and line != f"CREATE SCHEMA {schema};"
    ]
    script = "\n".join(kept)
    if script.count(schema) == 0:
        return None
    return script


@cache
def postgres_template() -> tuple[str, str] | None:
    """(the template's schema name, the script that rebuilds it), or None."""
    environment = _cleanup.enter_context(backends.postgres_env())
    folder = Path(_cleanup.enter_context(tempfile.TemporaryDirectory(prefix="cinv-template-")))
    settings = Settings.from_env({"CLEVERINVO_DATA_DIR": str(folder), **environment})
    Services(settings).close()
    name = settings.database_schema
    assert re.fullmatch(r"cinv_t_[0-9]+_[0-9a-f]{12}", name), name  # unique: nothing else in the dump says it
    script = pg_dump_script(name)
    return None if script is None else (name, script)


def lay_out(settings: Settings, data_dir: Path, backend_env: dict[str, str]) -> None:
    """Fills the test's own stores with the template's, where they are still empty."""
    if settings.uses_postgres:
        if backend_env.get("CLEVERINVO_DATABASE_URL") != settings.database_url:
            return
        template = postgres_template()
        if template is None:
            return
        name, script = template
        import psycopg

        with psycopg.connect(backends.PG_DSN) as conn:
            found = conn.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s",
                (settings.database_schema,),
            ).fetchone()
            if found is None or found[0] != 0:
                return
            conn.execute(script.replace(name, settings.database_schema).encode())
        return
    default = _default_sqlite(data_dir)
    if backend_env or settings.database_url != default.database_url:
        return
    if settings.event_store_env()["SQLITE_DBNAME"] != default.event_store_env()["SQLITE_DBNAME"]:
        return
    if any((data_dir / name).exists() or (data_dir / f"{name}-wal").exists() for name in SQLITE_FILES):
        return
    template = sqlite_template()
    for name in SQLITE_FILES:
        shutil.copyfile(template / name, data_dir / name)


atexit.register(_cleanup.close)

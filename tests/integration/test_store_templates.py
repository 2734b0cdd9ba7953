"""The suite's shortcut is exact: stores laid out from the once-migrated template
(tests/store_templates.py) are the stores a first start migrates, table for table and row
for row, after ``Services`` has started on them too."""

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.services import Services
from gateway.settings import Settings
from tests import backends, store_templates


def sqlite_contents(data_dir: Path) -> dict[str, Any]:
    """Every object's definition and every row of both SQLite files."""
    found: dict[str, Any] = {}
    for name in store_templates.SQLITE_FILES:
        with sqlite3.connect(data_dir / name) as conn:
            objects = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
            tables = [row[1] for row in objects if row[0] == "table"]
            rows = {table: sorted(map(repr, conn.execute(f'SELECT * FROM "{table}"'))) for table in tables}
            pragmas = [conn.execute(f"PRAGMA {pragma}").fetchone() for pragma in ("user_version", "journal_mode")]
        found[name] = (objects, rows, pragmas)
    return found


def postgres_contents(settings: Settings) -> str:
    """``pg_dump`` of the settings' schema, its name replaced by a placeholder."""
    script = store_templates.pg_dump_script(settings.database_schema)
    assert script is not None
    return "\n".join(
        line
        for line in script.replace(settings.database_schema, "SCHEMA").splitlines()
        if not line.startswith("-- Dumped")  # the versions of pg_dump and server, nothing of ours
    )


def test_a_laid_out_store_is_the_one_a_first_start_migrates(
    make_settings: Callable[..., Settings], data_dir: Path, backend_env: dict[str, str], tmp_path: Path
) -> None:
    laid = make_settings()
    store_templates.lay_out(laid, data_dir, backend_env)
    if not backend_env:
        assert all((data_dir / name).is_file() for name in store_templates.SQLITE_FILES)
        Services(laid).close()
        fresh = tmp_path / "fresh"
        Services(Settings.from_env({"CLEVERINVO_DATA_DIR": str(fresh)})).close()
        assert sqlite_contents(data_dir) == sqlite_contents(fresh)
        return
    Services(laid).close()
    with backends.postgres_env() as environment:
        fresh_settings = Settings.from_env({"CLEVERINVO_DATA_DIR": str(tmp_path / "fresh"), **environment})
        Services(fresh_settings).close()
        if shutil.which("pg_dump") is None:
            return  # nothing was laid out: the tests migrate their schemas themselves
        assert store_templates.postgres_template() is not None
        assert postgres_contents(laid) == postgres_contents(fresh_settings)


def test_stores_a_test_filled_itself_are_left_alone(
    make_settings: Callable[..., Settings], data_dir: Path, backend_env: dict[str, str]
) -> None:
    settings = make_settings()
    Services(settings).close()
    if not backend_env:
        before = sqlite_contents(data_dir)
        with sqlite3.connect(data_dir / "readmodels.sqlite3") as conn:
            conn.execute("UPDATE projection_tracking SET notification_id = 7 WHERE application_name = 'CleverInvo'")
        store_templates.lay_out(settings, data_dir, backend_env)
        assert sqlite_contents(data_dir) != before  # still the test's own files, with its change
        return
    before = postgres_contents(settings)
    store_templates.lay_out(settings, data_dir, backend_env)
    assert postgres_contents(settings) == before

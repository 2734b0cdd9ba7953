"""Positions in the event store are 64-bit (PostgreSQL numbers events with a bigserial):
every column that keeps one holds a position beyond 2**31, on a new database and on one
that revision 0004 widened."""

from collections.abc import Callable
from datetime import datetime

from alembic import command
from sqlalchemy import Engine, inspect, select

from database import schema
from database.engines import make_engine
from database.migrations import catalog
from gateway.services import Services
from gateway.settings import Settings
from projections.ledger_index import ledger_entries, ledger_tracking
from projections.tables import tracking
from storage.work_queue import work_queue, work_tracking

BEYOND_32_BITS = 2**31 + 7
POSITIONS = {  # table: its position column
    "projection_tracking": "notification_id",
    "work_tracking": "notification_id",
    "ledger_tracking": "notification_id",
    "work_queue": "seq",
    "ledger_entries": "position",
}


def _types(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        found = inspect(conn)
        return {
            table: next(str(c["type"]) for c in found.get_columns(table) if c["name"] == column)
            for table, column in POSITIONS.items()
        }


def _round_trip(engine: Engine) -> None:
    far = BEYOND_32_BITS
    with engine.begin() as conn:
        for table in (tracking, work_tracking, ledger_tracking):
            conn.execute(table.insert().values(application_name="far", notification_id=far))
        conn.execute(
            work_queue.insert().values(
                follower="far", item="far", seq=far + 1, attempt=0, not_before=datetime(2026, 12, 7)
            )
        )
        conn.execute(
            ledger_entries.insert().values(
                position=far + 2,
                account_id="a",
                aggregate_id="b",
                version=1,
                topic="t",
                hash="h",
                digest="d",
                recorded_at=datetime(2026, 12, 7),
            )
        )
    with engine.connect() as conn:
        for table in (tracking, work_tracking, ledger_tracking):
            query = select(table.c.notification_id).where(table.c.application_name == "far")
            assert conn.execute(query).scalar_one() == far
        assert conn.execute(select(work_queue.c.seq).where(work_queue.c.item == "far")).scalar_one() == far + 1
        assert conn.execute(select(ledger_entries.c.position)).scalars().all() == [far + 2]


def test_a_new_database_keeps_positions_beyond_32_bits(settings: Settings) -> None:
    engine = make_engine(settings.database_url, writer=True)
    try:
        schema.upgrade(engine)
        if engine.dialect.name == "postgresql":
            assert set(_types(engine).values()) == {"BIGINT"}
        _round_trip(engine)
    finally:
        engine.dispose()


def test_db_upgrade_widens_the_positions_of_a_database_at_0003(
    settings: Settings, cli: Callable[..., tuple[int, list[str], str]]
) -> None:
    engine = make_engine(settings.database_url, writer=True)
    try:
        with engine.begin() as conn:
            command.upgrade(schema.config(conn), "0003_search_and_counts")
            conn.execute(tracking.insert().values(application_name="kept", notification_id=41))
        if engine.dialect.name == "postgresql":
            assert set(_types(engine).values()) == {"INTEGER"}
        code, out, err = cli("db", "upgrade")
        assert code == 0, err
        assert out[-1] == f"database schema at {schema.head()}"
        if engine.dialect.name == "postgresql":
            assert set(_types(engine).values()) == {"BIGINT"}
        with engine.connect() as conn:
            assert schema.current(conn) == schema.head()
            kept = select(tracking.c.notification_id).where(tracking.c.application_name == "kept")
            assert conn.execute(kept).scalar_one() == 41  # rows are kept: the columns are widened in place
        assert catalog.differences(engine) == []
        _round_trip(engine)
    finally:
        engine.dispose()


def test_a_starting_service_widens_the_positions_itself(settings: Settings) -> None:
    engine = make_engine(settings.database_url, writer=True)
    try:
        with engine.begin() as conn:
            command.upgrade(schema.config(conn), "0003_search_and_counts")
        services = Services(settings)
        try:
            account = services.execute(lambda: services.app.open_account("Seller", "pro"))
            assert [a.id for a in services.read.accounts()] == [str(account)]
        finally:
            services.close()
        with engine.connect() as conn:
            assert schema.current(conn) == schema.head()
            if engine.dialect.name == "postgresql":
                assert set(_types(engine).values()) == {"BIGINT"}
        assert catalog.differences(engine) == []
    finally:
        engine.dispose()

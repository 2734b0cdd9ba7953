"""The database's schema comes from Alembic revisions, on SQLite and PostgreSQL alike: they
produce exactly the tables the code declares, a database made before migrations is
adopted, and a process never touches a database that a newer version migrated."""

import pytest
from sqlalchemy import Engine, text

from database import schema
from database.engines import make_engine
from database.migrations import catalog
from gateway.services import Services
from gateway.settings import Settings


def writer(settings: Settings) -> Engine:
    return make_engine(settings.database_url, writer=True)


def test_the_revisions_produce_exactly_the_declared_tables(settings: Settings) -> None:
    engine = writer(settings)
    try:
        assert schema.upgrade(engine) == schema.head()
        assert catalog.differences(engine) == []
        assert schema.upgrade(engine) == schema.head()  # a second upgrade changes nothing
        assert catalog.differences(engine) == []
    finally:
        engine.dispose()


def test_every_durable_table_is_declared_to_the_revisions() -> None:
    """Whatever a store keeps beside the read models is in the metadata the revisions are
    compared with: the work queues, idempotency records, ledger index and PDF index."""
    names = set(catalog.target_metadata().tables)
    assert {
        "work_queue",
        "work_tracking",
        "idempotency_keys",
        "ledger_entries",
        "ledger_tracking",
        "pdf_files",
        "pdf_claims",
        "projection_tracking",
        "invoices",
    } <= names


def test_a_running_service_has_migrated_to_head(services: Services) -> None:
    with services.projector.writer.connect() as conn:
        assert schema.current(conn) == schema.head()


def test_a_database_migrated_by_a_newer_version_is_left_alone(settings: Settings, services: Services) -> None:
    account = services.execute(lambda: services.app.open_account("Seller", "pro"))
    services.close()
    engine = writer(settings)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with pytest.raises(schema.SchemaTooNew, match="9999_from_the_future.*newer version"):
        Services(settings)
    with engine.connect() as conn:  # nothing dropped, nothing rebuilt
        assert conn.execute(text("SELECT id FROM accounts")).scalars().all() == [str(account)]
    engine.dispose()


def test_the_command_line_refuses_a_newer_database_clearly(
    settings: Settings, services: Services, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.close()
    engine = writer(settings)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    code, out, err = cli("accounts", "list")
    assert code == 2 and out == []
    assert "9999_from_the_future" in err and "newer version" in err and "Traceback" not in err


def test_db_upgrade_brings_a_database_to_head_and_says_so(cli) -> None:
    code, out, err = cli("db", "upgrade")
    assert code == 0, err
    assert out[-1] == f"database schema at {schema.head()}"


def test_a_read_model_built_before_migrations_at_another_schema_is_rebuilt(settings: Settings) -> None:
    first = Services(settings)
    account = first.execute(lambda: first.app.open_account("Seller", "pro"))
    first.execute(lambda: first.app.create_client(account, {"name": "Acme"}))
    with first.projector.writer.begin() as conn:  # as an old version left it: no Alembic, schema 1
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("DELETE FROM clients"))
        conn.execute(
            text("UPDATE projection_tracking SET notification_id = 1 WHERE application_name = 'read-model-schema'")
        )
    first.close()

    second = Services(settings)  # adopted, and its stale read model rebuilt from the events
    try:
        assert [c.name for c in second.read.clients(str(account), 1, 20).items] == ["Acme"]
        with second.projector.writer.connect() as conn:
            assert schema.current(conn) == schema.head()
            assert not schema.stale(conn)
            legacy = "SELECT notification_id FROM projection_tracking WHERE application_name = 'read-model-schema'"
            assert conn.execute(text(legacy)).scalar_one() == schema.LEGACY_VERSION  # an old process won't rebuild
    finally:
        second.close()


def test_a_read_model_built_before_migrations_at_the_last_schema_is_kept(settings: Settings) -> None:
    first = Services(settings)
    account = first.execute(lambda: first.app.open_account("Seller", "pro"))
    with first.projector.writer.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    first.close()
    second = Services(settings)
    try:
        assert [a.id for a in second.read.accounts()] == [str(account)]
        with second.projector.writer.connect() as conn:
            assert schema.current(conn) == schema.head() and not schema.stale(conn)
        assert catalog.differences(second.projector.writer) == []
    finally:
        second.close()


def test_after_rebuilds_the_tables_are_still_exactly_the_declared_ones(services: Services) -> None:
    """A rebuild names its indexes with an alternating prefix (a database shares index
    names across tables); that alone is no difference."""
    services.execute(lambda: services.app.open_account("Seller", "pro"))
    for _ in range(2):
        services.projector.rebuild()
        assert catalog.differences(services.projector.writer) == []


def test_a_new_database_is_not_rebuilt_at_its_first_start(services: Services) -> None:
    """Revisions that ask for a rebuild ask nothing of a database with no read model yet:
    the projector builds it from the first event."""
    with services.projector.writer.connect() as conn:
        assert not schema.stale(conn)

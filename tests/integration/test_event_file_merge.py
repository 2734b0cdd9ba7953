"""An older SQLite data directory kept its events in ``events.sqlite3``; the first start of
this version copies them into the database file (database/event_files.py), positions kept,
and renames the old file."""

import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from database.event_files import TABLES, EventFileConflict
from domain.invoice import InvoiceDraft
from domain.money import LineItemDraft
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import FakeClock, dump_read_model

pytestmark = pytest.mark.sqlite_only("the layout of a SQLite data directory")


def _split_out(database: Path) -> None:
    """Lays a data directory out as the versions before one transaction per command did:
    the events and snapshots in events.sqlite3 beside the database, not in it."""
    with sqlite3.connect(database, isolation_level=None) as conn:
        conn.execute("ATTACH DATABASE ? AS old", (str(database.with_name("events.sqlite3")),))
        conn.execute("BEGIN")
        for table, create in TABLES.items():
            conn.execute(create.replace(f"EXISTS {table}", f"EXISTS old.{table}"))
            keep = "rowid, " if table == "stored_events" else ""
            columns = "originator_id, originator_version, topic, state"
            conn.execute(f"INSERT INTO old.{table} ({keep}{columns}) SELECT {keep}{columns} FROM main.{table}")
            conn.execute(f"DROP TABLE main.{table}")
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE old")


def _history(settings: Settings, clock: FakeClock) -> tuple[dict[str, list[tuple[object, ...]]], int]:
    services = Services(settings, clock=clock)
    try:
        account = services.app.open_account("Seller", "business")
        client = services.app.create_client(account, {"name": "Acme"})
        line = LineItemDraft("Work", Decimal(1), Decimal("5.00"))
        for _ in range(3):
            services.app.create_invoice(account, InvoiceDraft(client_id=client, line_items=[line]))
        return dump_read_model(services), services.app.recorder.max_notification_id() or 0
    finally:
        services.close()


def test_the_first_start_moves_the_events_in_and_keeps_every_position(settings: Settings, clock: FakeClock) -> None:
    rows, head = _history(settings, clock)
    _split_out(settings.sqlite_path)
    services = Services(settings, clock=clock)
    try:
        assert not (settings.data_dir / "events.sqlite3").exists()
        assert (settings.data_dir / "events.sqlite3.merged").exists()  # kept for the operator
        assert services.app.recorder.max_notification_id() == head
        assert dump_read_model(services) == rows
        assert services.ledger.catch_up() == head  # every seal and chain reads as before
        [account] = [row[0] for row in rows["accounts"]]
        [client] = [row[0] for row in rows["clients"]]
        line = LineItemDraft("More", Decimal(1), Decimal("1.00"))
        draft = InvoiceDraft(client_id=UUID(str(client)), line_items=[line])
        created = services.app.create_invoice(UUID(str(account)), draft)
        view = services.read.invoice(str(account), str(created))
        assert view is not None and view.invoice_number == "INV-0004"
    finally:
        services.close()
    Services(settings, clock=clock).close()  # a second start finds nothing to move


def test_a_start_that_finds_two_sets_of_events_moves_nothing(
    settings: Settings, clock: FakeClock, tmp_path: Path
) -> None:
    _history(settings, clock)
    elsewhere = tmp_path / "elsewhere"
    other = Settings.from_env({"CLEVERINVO_DATA_DIR": str(elsewhere)})
    _history(other, clock)
    _split_out(other.sqlite_path)
    shutil.copy(elsewhere / "events.sqlite3", settings.data_dir / "events.sqlite3")
    before = settings.sqlite_path.read_bytes()
    with pytest.raises(EventFileConflict, match="both hold stored_events"):
        Services(settings, clock=clock)
    assert (settings.data_dir / "events.sqlite3").exists()
    assert settings.sqlite_path.read_bytes() == before


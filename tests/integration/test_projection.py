"""The read model: built from the events exactly once, resumable, and rebuildable to the same rows."""

import sqlite3
import threading
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import inspect, text

from domain.application import CleverInvo
from domain.invoice import InvoiceDraft, Sending
from domain.money import LineItemDraft
from gateway.services import Services
from gateway.settings import Settings
from projections.decoding import EventDecoder
from tests.conftest import FakeClock, dump_read_model


def draft(client_id: UUID, number: str | None = None, currency: str = "USD") -> InvoiceDraft:
    lines = [
        LineItemDraft("Web Development", Decimal(40), Decimal("125.00"), Decimal(10)),
        LineItemDraft("Hosting", Decimal("1.5"), Decimal("19.99"), Decimal("7.25")),
    ]
    return InvoiceDraft(client_id=client_id, line_items=lines, invoice_number=number, currency=currency)


def busy_history(services: Services) -> dict[str, UUID]:
    """Every kind of event the projection handles, in an order that makes rows depend on each other."""
    app, run = services.app, services.execute
    seller = run(lambda: app.open_account("Seller", "free"))
    other = run(lambda: app.open_account("Other", "business", "es"))
    key_id, _ = run(lambda: app.issue_api_key(seller, "laptop"))
    run(lambda: app.issue_api_key(seller, "ci"))
    run(lambda: app.revoke_api_key(seller, key_id))
    run(lambda: app.change_plan(seller, "pro"))
    run(lambda: app.update_account(seller, {"address": "1 Main St", "email": "me@seller.test", "locale": "es"}))
    acme = run(lambda: app.create_client(seller, {"name": "Acme Corp", "email": "billing@acme.test"}))
    mueller = run(lambda: app.create_client(seller, {"name": "Müller GmbH", "tax_id": "DE123"}))
    gone = run(lambda: app.create_client(seller, {"name": "Gone Ltd"}))
    theirs = run(lambda: app.create_client(other, {"name": "Theirs"}))
    first = run(lambda: app.create_invoice(seller, draft(acme)))
    second = run(lambda: app.create_invoice(seller, draft(acme, "INV-0042", "KWD")))
    deleted = run(lambda: app.create_invoice(seller, draft(mueller)))
    run(lambda: app.create_invoice(other, draft(theirs, currency="JPY")))
    run(lambda: app.update_client(seller, acme, {"name": "Acme Corporation", "email": None}))
    run(
        lambda: app.update_invoice(
            seller, first, {"client_id": mueller, "notes": "Moved", "due_date": date(2024, 9, 1)}
        )
    )
    run(lambda: app.update_invoice(seller, second, {"invoice_number": "INV-0043", "currency": "EUR"}))
    run(lambda: app.delete_invoice(seller, deleted))
    run(lambda: app.deactivate_client(seller, gone))
    run(lambda: app.update_client(seller, gone, {"is_active": True, "phone": "+1"}))
    run(lambda: app.deactivate_client(seller, gone))
    run(lambda: app.update_client(seller, mueller, {"name": "Müller & Söhne GmbH"}))
    return {"seller": seller, "acme": acme, "first": first, "second": second}


def test_rebuilt_read_model_equals_the_live_one(services: Services):
    busy_history(services)
    live = dump_read_model(services)
    position = services.projector.position()
    assert services.projector.rebuild() == position
    assert dump_read_model(services) == live
    assert services.projector.position() == position


def test_rebuild_keeps_the_read_model_usable_for_new_writes(services: Services):
    ids = busy_history(services)
    services.projector.rebuild()
    invoice_id = services.execute(lambda: services.app.create_invoice(ids["seller"], draft(ids["acme"])))
    view = services.read.invoice(str(ids["seller"]), str(invoice_id))
    assert view is not None and view.client_name == "Acme Corporation" and view.invoice_number == "INV-0003"


def test_a_rebuild_on_postgresql_leaves_the_planner_statistics_of_its_tables(services: Services):
    """Tables filled by COPY and renamed in are analysed before the switch: without it the
    planner took 75,000 rows for 3 (a status page 50 times slower on the bench's account)."""
    busy_history(services)
    services.projector.rebuild()
    engine = services.projector.writer
    if engine.dialect.name != "postgresql":
        return  # SQLite's queries are written for no statistics
    with engine.connect() as conn:
        analysed = conn.execute(  # reltuples is -1 until a table is analysed or vacuumed
            text(
                "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
                "AND reltuples >= 0 AND relname IN ('invoices', 'clients', 'invoice_line_items')"
            )
        ).scalars()
        assert sorted(analysed) == ["clients", "invoice_line_items", "invoices"]


def test_projection_keeps_up_with_every_write(services: Services):
    busy_history(services)
    assert services.projector.position() == services.app.recorder.max_notification_id()


def test_denormalised_client_columns_follow_renames_and_moves(services: Services):
    ids = busy_history(services)
    moved = services.read.invoice(str(ids["seller"]), str(ids["first"]))
    renumbered = services.read.invoice(str(ids["seller"]), str(ids["second"]))
    assert moved is not None and renumbered is not None
    assert (moved.client_name, moved.notes, moved.due_date) == ("Müller & Söhne GmbH", "Moved", date(2024, 9, 1))
    assert (renumbered.client_name, renumbered.client_email) == ("Acme Corporation", None)
    assert (renumbered.invoice_number, renumbered.currency, str(renumbered.total)) == ("INV-0043", "EUR", "5532.16")


def test_restart_keeps_data_and_position_and_applies_nothing_twice(settings: Settings, clock: FakeClock):
    first = Services(settings, clock=clock)
    ids = busy_history(first)
    rows, position = dump_read_model(first), first.projector.position()
    first.close()

    second = Services(settings, clock=clock)
    try:
        assert second.projector.position() == position
        assert second.projector.catch_up() == position
        assert dump_read_model(second) == rows
        invoice_id = second.execute(lambda: second.app.create_invoice(ids["seller"], draft(ids["acme"])))
        view = second.read.invoice(str(ids["seller"]), str(invoice_id))
        assert view is not None and view.invoice_number == "INV-0003"
        assert second.projector.position() == second.app.recorder.max_notification_id() > position
    finally:
        second.close()


@pytest.mark.sqlite_only("drops the read model's tables through the sqlite3 module")
def test_dropped_read_model_tables_are_rebuilt_from_the_events_on_start(settings: Settings, clock: FakeClock):
    """The events share the read model's file (database.event_transactions): everything
    else in it dropped, a start makes the tables again and fills them from the events."""
    first = Services(settings, clock=clock)
    busy_history(first)
    rows = dump_read_model(first)
    first.close()
    with sqlite3.connect(settings.sqlite_path) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        conn.execute("PRAGMA foreign_keys = OFF")
        for name in tables:
            if not name.startswith("stored_") and not name.startswith("sqlite_") and "_search_" not in name:
                conn.execute(f'DROP TABLE IF EXISTS "{name}"')

    second = Services(settings, clock=clock)
    try:
        assert dump_read_model(second) == rows
    finally:
        second.close()


def test_event_written_by_another_process_is_in_the_read_model_when_it_commits(settings: Settings, clock: FakeClock):
    """A command's rows commit with its events (database.event_transactions): another
    process reads them at once, with nothing left for its projector to do."""
    server = Services(settings, clock=clock)
    other = Services(settings, clock=clock)
    try:
        account_id = server.execute(lambda: server.app.open_account("Seller", "pro"))
        client_id = other.app.create_client(account_id, {"name": "Written elsewhere"})
        view = server.read.client(str(account_id), str(client_id))
        assert view is not None and view.name == "Written elsewhere"
        assert server.projector.position() == other.app.recorder.max_notification_id()
    finally:
        server.close()
        other.close()


def test_event_written_unprojected_is_visible_after_catch_up(settings: Settings, clock: FakeClock):
    """An application nobody wired to the read model (a script on the bare ``CleverInvo``)
    records events only; the next catch-up, or the next command's transaction, applies them."""
    server = Services(settings, clock=clock)
    bare = CleverInvo(settings.event_store_env(), clock=clock)
    try:
        account_id = server.execute(lambda: server.app.open_account("Seller", "pro"))
        before = server.projector.position()
        client_id = bare.create_client(account_id, {"name": "Written elsewhere"})  # no projection yet
        assert server.read.client(str(account_id), str(client_id)) is None
        reached = server.projector.catch_up()
        assert reached == bare.recorder.max_notification_id() > before
        view = server.read.client(str(account_id), str(client_id))
        assert view is not None and view.name == "Written elsewhere"
        later = bare.create_client(account_id, {"name": "Also elsewhere"})
        server.app.create_client(account_id, {"name": "Here"})  # its transaction applies both
        assert server.read.client(str(account_id), str(later)) is not None
    finally:
        bare.close()
        server.close()


def test_two_processes_catching_up_together_apply_each_event_once(settings: Settings, clock: FakeClock):
    server, other = Services(settings, clock=clock), Services(settings, clock=clock)
    try:
        account_id = server.execute(lambda: server.app.open_account("Seller", "business"))
        for i in range(40):
            server.app.create_client(account_id, {"name": f"Client {i}"})
        start = threading.Barrier(2)

        def catch_up(services: Services) -> None:
            start.wait()
            services.projector.catch_up()

        threads = [threading.Thread(target=catch_up, args=(s,)) for s in (server, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert server.read.clients(str(account_id), 1, 100).total == 40
        assert server.projector.position() == server.app.recorder.max_notification_id()
        live = dump_read_model(server)
        server.projector.rebuild()
        assert dump_read_model(server) == live
    finally:
        server.close()
        other.close()


def test_catch_up_with_nothing_new_changes_nothing(services: Services):
    busy_history(services)
    rows = dump_read_model(services)
    position = services.projector.catch_up()
    assert services.projector.catch_up() == position
    assert dump_read_model(services) == rows


def test_events_decode_as_the_event_store_s_own_mapper_decodes_them(services: Services):
    ids = busy_history(services)
    app, run, seller = services.app, services.execute, ids["seller"]
    run(lambda: app.send_invoice(seller, ids["second"], Sending()))
    run(lambda: app.record_payment(seller, ids["second"], Decimal("1.00")))
    notifications = app.recorder.select_notifications(start=0, limit=10_000, inclusive_of_start=False)
    decode = EventDecoder(app.mapper)
    assert decode.own  # the fast path, not the fallback to the mapper
    for notification in notifications:
        fast, mapped = decode(notification), app.mapper.to_domain_event(notification)
        assert type(fast) is type(mapped) and vars(fast) == vars(mapped), notification.topic


def _search_index(services: Services) -> dict[str, Any]:
    """SQLite: every entry of the search tables with the id of its row; PostgreSQL: the trigram indexes."""
    with services.read.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            found: dict[str, Any] = {}
            for table in ("invoices", "clients"):
                entries = (
                    f'SELECT t.id, s.* FROM "{table}_search" s JOIN "{table}" t ON t.rowid = s.rowid ORDER BY t.id'
                )
                found[table] = [tuple(row) for row in conn.execute(text(entries))]
                found[f"{table} entries"] = conn.execute(text(f'SELECT count(*) FROM "{table}_search"')).scalar_one()
            return found
        return {
            table: sorted(
                str(index["name"]).removeprefix("rb_")
                for index in inspect(conn).get_indexes(table)
                if str(index["name"]).endswith("_trgm")
            )
            for table in ("invoices", "clients")
        }


def test_a_rebuilt_search_index_equals_the_live_one(services: Services):
    ids = busy_history(services)
    account = str(ids["seller"])
    live, found = _search_index(services), services.read.invoices(account, 1, 20, "müller").total
    assert all(live.values()) and found == 1
    for _ in range(2):  # the second rebuild takes the other generation of index names
        services.projector.rebuild()
        assert _search_index(services) == live
        assert services.read.invoices(account, 1, 20, "müller").total == found

"""The rebuild's replay (projections/replay.py, projections/handlers/replay_rows.py) keeps
new invoices as rows in memory, applies their lifecycle from memory and writes the rows at
the end of each transaction: whatever it holds, forgets or reads again, the rebuilt read
model equals the live one, which the handlers wrote one event at a time."""

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import msgspec
import pytest

from domain.invoice import InvoiceDraft, Sending
from domain.money import LineItemDraft
from gateway.services import Services
from projections import rebuild, replay
from projections.handlers import replay_rows
from projections.tables import LIVE
from tests.conftest import TODAY, FakeClock, dump_read_model


def _draft(client_id: UUID, n: int) -> InvoiceDraft:
    lines = [LineItemDraft(f"Line {n}.{i}", Decimal(i + 1), Decimal("19.99"), Decimal(7), Decimal(5)) for i in range(3)]
    past = TODAY.date() - timedelta(days=60)
    return InvoiceDraft(client_id, lines, issue_date=past, due_date=past + timedelta(days=30), notes=f"n{n}")


def _history(services: Services, clock: FakeClock) -> None:
    """Invoices whose sends, views, payments, reversals, voids, overdue marks and email
    outcomes come right after them, and again long after (many events later), between
    updates, moves, deletions and client changes."""
    app, run = services.app, services.execute
    seller = run(lambda: app.open_account("Seller", "business"))
    acme = run(lambda: app.create_client(seller, {"name": "Acme", "email": "ap@acme.test"}))
    beta = run(lambda: app.create_client(seller, {"name": "Beta"}))
    made = [run(lambda n=n: app.create_invoice(seller, _draft(acme if n % 2 else beta, n))) for n in range(12)]
    for n, invoice in enumerate(made[:8]):
        run(lambda invoice=invoice, n=n: app.send_invoice(seller, invoice, Sending(email=n % 2 == 1)))
    paid = run(lambda: app.record_payment(seller, made[0], Decimal("10.00"), method="card"))
    due = app.get_invoice(seller, made[1]).balance_due
    run(lambda: app.record_payment(seller, made[1], due))  # paid in full
    run(lambda: app.record_view(made[2]))
    run(lambda: app.update_client(seller, acme, {"name": "Acme Corporation"}))
    run(lambda: app.update_invoice(seller, made[9], {"client_id": acme, "notes": "moved"}))
    run(lambda: app.delete_invoice(seller, made[10]))
    clock.advance(hours=1)
    for invoice in made[3:6]:
        run(lambda invoice=invoice: app.mark_overdue(invoice))
    run(lambda: app.reverse_payment(seller, made[0], paid))
    run(lambda: app.void_invoice(seller, made[4], "Billed twice"))
    run(lambda: app.record_email_outcome(made[1], 1, ["ap@acme.test"], None, 1, None))
    run(lambda: app.record_email_outcome(made[3], 1, [], "550 no such user", 1, None))
    more = [run(lambda n=n: app.create_invoice(seller, _draft(beta, 100 + n))) for n in range(6)]
    run(lambda: app.send_invoice(seller, more[0], Sending()))
    run(lambda: app.record_payment(seller, more[0], Decimal("5.00"), paid_on=date(2024, 1, 2)))
    run(lambda: app.record_payment(seller, made[5], Decimal("3.00")))  # long after its invoice
    run(lambda: app.send_invoice(seller, made[11], Sending()))
    due = app.get_invoice(seller, made[6]).balance_due
    run(lambda: app.record_payment(seller, made[6], due))  # long after: paid in full
    run(lambda: app.deactivate_client(seller, beta))
    run(lambda: app.send_invoice(seller, made[2], Sending()))  # a second send keeps the first sentAt
    run(lambda: app.record_view(made[7]))


@pytest.mark.both_backends("the rebuild's bulk writes, reads by id and updates are per dialect")
@pytest.mark.parametrize(("batch", "remembered"), [(2_000, 20_000), (7, 2), (1, 0)])
def test_a_rebuild_equals_the_live_read_model_whatever_it_keeps_in_memory(
    services: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, batch: int, remembered: int
) -> None:
    """Batches of 7 events in transactions of one batch each, with 2 invoices kept: most
    lifecycle events find their invoice written and forgotten, and read it back."""
    _history(services, clock)
    live = dump_read_model(services)
    monkeypatch.setattr(replay, "REPLAY_BATCH", batch)
    monkeypatch.setattr(replay_rows, "INVOICES_REMEMBERED", remembered)
    monkeypatch.setattr(rebuild, "REBUILD_HOLD_SECONDS", 0.0 if batch < 100 else rebuild.REBUILD_HOLD_SECONDS)
    monkeypatch.setattr(rebuild, "REBUILD_HOLD_SECONDS_POSTGRES", 0.0 if batch < 100 else 2.0)
    services.projector.rebuild()
    assert dump_read_model(services) == live


def test_an_invoice_created_is_made_into_the_same_rows_from_its_json_as_by_its_handler(services: Services) -> None:
    """``ReplayRows.add_created`` reads the stored JSON; a line recorded before discounts
    (no discount fields) takes LineItem's defaults, as the decoded event does."""
    rows = replay_rows.ReplayRows(LIVE)
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05.000006+00:00"},
        "account_id": {"_type_": "uuid_hex", "_data_": "0" * 31 + "1"},
        "client_id": {"_type_": "uuid_hex", "_data_": "0" * 31 + "2"},
        "number": "INV-0001",
        "currency": "EUR",
        "issue_date": {"_type_": "date_iso", "_data_": "2026-01-02"},
        "due_date": {"_type_": "date_iso", "_data_": "2026-02-01"},
        "subtotal": {"_type_": "decimal_str", "_data_": "10.00"},
        "tax_total": {"_type_": "decimal_str", "_data_": "0.00"},
        "discount_total": {"_type_": "decimal_str", "_data_": "0.00"},
        "total": {"_type_": "decimal_str", "_data_": "10.00"},
        "notes": "Thanks",
        "line_items": [
            {
                "_type_": "line_item",
                "_data_": {
                    "description": "Old line",
                    "quantity": {"_type_": "decimal_str", "_data_": "1"},
                    "unit_price": {"_type_": "decimal_str", "_data_": "10.00"},
                    "tax_rate": {"_type_": "decimal_str", "_data_": "0"},
                    "amount": {"_type_": "decimal_str", "_data_": "10.00"},
                },
            }
        ],
    }
    rows.clients[str(UUID(int=2))] = {"client_name": "C", "client_email": None}
    with services.read.engine.connect() as conn:
        assert rows.add_created(conn, "i", 1, msgspec.json.encode(state))
        assert rows.lines == [("i", 0, "Old line", "1", "10.00", "0", "10.00", "0", "0")]
        row = rows.drafts["i"]
        assert (row["amount_paid"], row["balance_due"], row["notes"], row["terms"]) == ("0.00", "10.00", "Thanks", None)
        odd = {**state, "total": {"_type_": "decimal", "_data_": "10.00"}}  # a transcoding it does not know
        assert not rows.add_created(conn, "j", 1, msgspec.json.encode(odd)) and "j" not in rows.drafts
        other = {**state, "line_items": [{"_type_": "other", "_data_": {}}]}
        assert not rows.add_created(conn, "k", 1, msgspec.json.encode(other))

"""`cleverinvo invoices mark-overdue`, run in-process on a real data directory."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from domain.lifecycle import DRAFT, OVERDUE, PAID, PARTIALLY_PAID, SENT, VIEWED, VOID
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import TODAY, FakeClock
from tests.lifecycle_support import Books, web_line

Run = Callable[..., tuple[int, list[str], str]]




def statuses(settings: Settings, books: Books, invoices: dict[str, UUID]) -> dict[str, str]:
    services = Services(settings)
    try:
        found = {}
        for name, invoice_id in invoices.items():
            view = services.read.invoice(str(books.account), str(invoice_id))
            assert view is not None
            found[name] = view.status
        return found
    finally:
        services.close()


def test_mark_overdue_marks_sent_invoices_past_due_with_a_balance(cli: Run, settings: Settings):
    """Arranged with the FakeClock in 2024; the command runs by the real clock, years later."""
    services = Services(settings, clock=FakeClock(TODAY))
    try:
        books = Books.open(services, services.app.clock)  # type: ignore[arg-type]
        invoices = {}
        for status in (DRAFT, SENT, VIEWED, PARTIALLY_PAID, PAID, VOID):
            invoices[status] = books.in_status(status)[0]  # due 2024-05-31
        invoices["not yet due"] = books.draft(due_date=date(9999, 12, 31))
        books.send(invoices["not yet due"])
    finally:
        services.close()

    code, lines, err = cli("invoices", "mark-overdue")
    assert (code, lines, err) == (0, ["marked 3 invoices overdue"], "")
    assert statuses(settings, books, invoices) == {
        DRAFT: DRAFT,
        SENT: OVERDUE,
        VIEWED: OVERDUE,
        PARTIALLY_PAID: OVERDUE,
        PAID: PAID,
        VOID: VOID,
        "not yet due": SENT,
    }
    assert cli("invoices", "mark-overdue") == (0, ["marked 0 invoices overdue"], "")


def test_mark_overdue_follows_the_injected_clock(cli: Run, settings: Settings, monkeypatch: pytest.MonkeyPatch):
    clock = FakeClock(TODAY)
    monkeypatch.setattr("gateway.cli.main.Services", lambda settings: Services(settings, clock=clock))
    services = Services(settings, clock=clock)
    try:
        books = Books.open(services, clock)
        invoice_id = books.draft(web_line(), due_date=date(2024, 7, 15))
        books.send(invoice_id)
    finally:
        services.close()

    clock.now = datetime(2024, 7, 15, 23, 59, 59, tzinfo=UTC)  # the due date itself: not yet
    assert cli("invoices", "mark-overdue") == (0, ["marked 0 invoices overdue"], "")
    clock.now = datetime(2024, 7, 16, tzinfo=UTC)
    assert cli("invoices", "mark-overdue") == (0, ["marked 1 invoice overdue"], "")
    services = Services(settings, clock=clock)
    try:
        view = services.read.invoice(str(books.account), str(invoice_id))
        assert view is not None and view.status == OVERDUE and view.overdue_at == datetime(2024, 7, 16)
    finally:
        services.close()


def test_mark_overdue_on_an_empty_data_directory(cli: Run):
    assert cli("invoices", "mark-overdue") == (0, ["marked 0 invoices overdue"], "")


def test_invoices_without_an_action_is_a_usage_error(cli: Run):
    with pytest.raises(SystemExit) as exit_info:
        cli("invoices")
    assert exit_info.value.code == 2

"""One transaction per command (database/event_transactions.py): a command's events, its
read-model rows and the projection's position commit together or not at all; a create is
at most 15 statements and one commit; what a process caches of the store stays true
across rollbacks and other processes' writes (domain/command_cache.py)."""

from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import event

from domain.errors import NotFound, PlanLimitReached, ValidationError
from domain.invoice import InvoiceDraft
from domain.money import LineItemDraft
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import FakeClock, dump_read_model

pytestmark = pytest.mark.both_backends("the command's transaction is the database's own")


def _draft(client: UUID) -> InvoiceDraft:
    line = LineItemDraft("Work", Decimal(2), Decimal("10.00"), Decimal("0.21"))
    return InvoiceDraft(client_id=client, line_items=[line])


@pytest.fixture
def seller(services: Services) -> tuple[UUID, UUID]:
    account = services.execute(lambda: services.app.open_account("Seller", "business"))
    client = services.execute(lambda: services.app.create_client(account, {"name": "Acme"}))
    return account, client


@pytest.mark.sqlite_only("counts what SQLite runs; PostgreSQL's event inserts go through psycopg's pipeline")
def test_a_create_is_at_most_fifteen_statements_and_one_commit(services: Services, seller: tuple[UUID, UUID]) -> None:
    account, client = seller
    services.app.create_invoice(account, _draft(client))  # the caches warm, as in a running service
    raw: list[str] = []
    traced: list[Any] = []

    def trace(dbapi: Any, _record: Any) -> None:
        dbapi.set_trace_callback(raw.append)
        traced.append(dbapi)

    event.listen(services.engines[0], "connect", trace)
    services.engines[0].dispose()  # every connection from now on is a traced one
    try:
        services.app.create_invoice(account, _draft(client))
    finally:
        event.remove(services.engines[0], "connect", trace)
        for dbapi in traced:
            dbapi.set_trace_callback(None)
    # FTS5's own statements on its shadow tables ('main'.…, some traced with "--") are the
    # search index's insert, counted once as ours.
    ours = [sql for sql in raw if not sql.startswith("--") and "'main'." not in sql]
    assert len(ours) <= 15, "\n".join(ours)
    assert [sql for sql in ours if sql.split()[0].upper() in ("COMMIT", "BEGIN")] == ["BEGIN IMMEDIATE", "COMMIT"]
    assert not [sql for sql in ours if sql.split()[0].upper() == "ROLLBACK"]


def test_a_failure_before_the_commit_keeps_neither_events_nor_rows(
    services: Services, seller: tuple[UUID, UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    account, client = seller
    first = services.app.create_invoice(account, _draft(client))
    head = services.app.recorder.max_notification_id()
    rows = dump_read_model(services)
    applying = services.projector.apply_within

    def apply_then_fail(conn: Any, written: Any = ()) -> None:
        applying(conn, written)  # the rows are written in the transaction, then it fails
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(services.transactions, "before_commit", apply_then_fail)
    with pytest.raises(RuntimeError, match="disk went away"):
        services.app.create_invoice(account, _draft(client))
    assert services.app.recorder.max_notification_id() == head
    assert dump_read_model(services) == rows
    monkeypatch.undo()
    # Nothing cached of the lost write survives: the next create numbers as if it never was.
    second = services.app.create_invoice(account, _draft(client))
    numbers = [services.read.invoice(str(account), str(i)).invoice_number for i in (first, second)]  # type: ignore[union-attr]
    assert numbers == ["INV-0001", "INV-0002"]
    assert services.projector.position() == services.app.recorder.max_notification_id()


def test_a_refused_command_writes_nothing(services: Services, seller: tuple[UUID, UUID]) -> None:
    account, _client = seller
    head = services.app.recorder.max_notification_id()
    with pytest.raises(ValidationError, match="active client"):
        services.app.create_invoice(account, _draft(UUID(int=7)))
    with pytest.raises(NotFound):
        services.app.void_invoice(account, UUID(int=8))
    assert services.app.recorder.max_notification_id() == head


def test_another_process_write_is_seen_by_the_next_command(
    settings: Settings, clock: FakeClock, services: Services, seller: tuple[UUID, UUID]
) -> None:
    """The command cache is current at the store's head: another process's events evict
    what they touched, so its writes (a plan lowered, a client deactivated) count at once."""
    account, client = seller
    services.app.create_invoice(account, _draft(client))  # account, client and quota cached
    other = Services(settings, clock=clock)
    try:
        other.app.deactivate_client(account, client)
        with pytest.raises(ValidationError, match="active client"):
            services.app.create_invoice(account, _draft(client))
        fresh = other.app.create_client(account, {"name": "Beta"})
        other.app.create_invoice(account, _draft(fresh))
        other.app.change_plan(account, "free")
        made = 2  # this month, in this process
        with pytest.raises(PlanLimitReached):
            while made <= 20:
                services.app.create_invoice(account, _draft(fresh))
                made += 1
        assert made == 20  # the free plan's limit, counted with both processes' invoices
        assert services.app.version_of(account) == other.app.version_of(account)
    finally:
        other.close()


def test_commands_of_two_processes_interleaved_number_without_gaps(
    settings: Settings, clock: FakeClock, services: Services, seller: tuple[UUID, UUID]
) -> None:
    account, client = seller
    other = Services(settings, clock=clock)
    try:
        made = []
        for i in range(12):
            app = services.app if i % 3 else other.app
            made.append(app.create_invoice(account, _draft(client)))
        numbers = sorted(services.read.invoice(str(account), str(i)).invoice_number for i in made)  # type: ignore[union-attr]
        assert numbers == [f"INV-{n:04d}" for n in range(1, 13)]
        assert dump_read_model(services) == dump_read_model(other)
    finally:
        other.close()

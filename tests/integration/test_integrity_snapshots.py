"""Snapshots are sealed to the event they fold (``domain/snapshots.py``): an edited snapshot
is refused like an edited event, and one stored before snapshots were sealed is not used
(the aggregate is replayed from its events, which verify)."""

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain import integrity
from domain.integrity import Unverified
from domain.invoice import InvoiceDraft, Sending
from domain.ledger import LEDGER
from domain.money import LineItemDraft
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api, FakeClock, Tenant
from tests.integrity_support import Restarts, Store, Stored, resealed
from usecases.invoices import Moment

INTERVAL = 50  # an invoice's snapshots: every 50 events (domain/application.py)


@pytest.fixture(autouse=True)
def no_failures_yet() -> Iterator[None]:
    integrity.forget_all()
    yield
    integrity.forget_all()


@pytest.fixture
def restart(settings: Settings, clock: FakeClock, tenant: Tenant) -> Iterator[Callable[[], tuple[Services, Api]]]:
    with Restarts(settings, clock, tenant) as restarts:
        yield restarts.start


@pytest.fixture
def invoice(services: Services, tenant: Tenant) -> UUID:
    """An invoice of 52 events: created, sent, 50 payments of one cent (a snapshot at 50)."""
    app, account = services.app, tenant.account_id
    client = services.execute(lambda: app.create_client(account, {"name": "Acme Corp"}))
    lines = [LineItemDraft("Design", Decimal(1), Decimal("100.00"))]
    invoice_id = services.execute(lambda: app.create_invoice(account, InvoiceDraft(client, lines)))
    services.execute(lambda: app.send_invoice(account, invoice_id, Sending()))
    for _ in range(INTERVAL):
        services.execute(lambda: app.record_payment(account, invoice_id, Decimal("0.01")))
    return invoice_id


def snapshot(store: Store, invoice: UUID) -> Stored:
    found = store.rows(str(invoice), "snapshots")
    assert [row.version for row in found] == [INTERVAL], found
    return found[0]


def test_a_snapshot_is_sealed_to_the_event_it_folds(settings: Settings, invoice: UUID) -> None:
    store = Store(settings)
    seal = snapshot(store, invoice).state[LEDGER]
    event = next(row for row in store.rows(str(invoice)) if row.version == INTERVAL)
    assert seal["head"] == event.state[LEDGER]["hash"] and len(seal["hash"]) == 64


def test_an_edited_snapshot_is_refused(
    settings: Settings, invoice: UUID, tenant: Tenant, restart: Callable[[], tuple[Services, Api]]
) -> None:
    store = Store(settings)
    row = snapshot(store, invoice)
    state: dict[str, Any] = json.loads(json.dumps(row.state))
    state["state"]["notes"] = "Pay to another account"
    store.write(str(invoice), row, state, "snapshots")
    services, _ = restart()
    with pytest.raises(Unverified) as caught:
        services.app.get_invoice(tenant.account_id, invoice)
    assert f"the snapshot at version {INTERVAL} does not match its seal" in caught.value.message
    assert str(invoice) in caught.value.message
    with pytest.raises(Unverified):
        services.usecases.invoices.get(tenant.account_id, invoice, Moment(version=INTERVAL + 1))
    assert [failure.stream for failure in integrity.failures()] == [str(invoice)]


def test_a_snapshot_of_another_version_is_refused(
    settings: Settings, invoice: UUID, tenant: Tenant, restart: Callable[[], tuple[Services, Api]]
) -> None:
    """Resealed as a snapshot of the version it claims, but not folded from that event."""
    store = Store(settings)
    row = snapshot(store, invoice)
    event = next(r for r in store.rows(str(invoice)) if r.version == INTERVAL - 1)
    state: dict[str, Any] = json.loads(json.dumps(row.state))
    state[LEDGER] = {**state[LEDGER], "head": event.state[LEDGER]["hash"]}
    store.write(str(invoice), row, resealed(str(invoice), row, state), "snapshots")
    services, _ = restart()
    with pytest.raises(Unverified) as caught:
        services.app.get_invoice(tenant.account_id, invoice)
    assert f"is not of the stored version {INTERVAL}" in caught.value.message


def test_an_unsealed_snapshot_is_not_used_and_the_events_are(
    settings: Settings, invoice: UUID, tenant: Tenant, services: Services, restart: Callable[[], tuple[Services, Api]]
) -> None:
    """A snapshot stored before snapshots were sealed: the events say what the invoice is."""
    expected = vars(services.app.get_invoice(tenant.account_id, invoice))
    store = Store(settings)
    row = snapshot(store, invoice)
    state = {key: value for key, value in row.state.items() if key != LEDGER}
    state["state"]["notes"] = "Not from the events"
    store.write(str(invoice), row, state, "snapshots")
    again, _ = restart()
    loaded = again.app.get_invoice(tenant.account_id, invoice)
    assert loaded.notes is None and vars(loaded) == expected
    assert integrity.failures() == []

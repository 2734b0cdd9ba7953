"""Each process remembers the seal of the aggregates it stored last, so the next event
chains without a read of the store. Another process writing the same aggregate in between,
or a write that loses a race, must never leave a chain that `ledger verify` refuses."""

from collections.abc import Callable
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from domain.invoice import Invoice
from domain.ledger import LEDGER, ledger_of
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api, FakeClock, Tenant

Cli = Callable[..., tuple[int, list[str], str]]


def verified(cli: Cli) -> None:
    code, lines, err = cli("ledger", "verify")
    assert code == 0, (lines, err)


def test_two_processes_taking_turns_on_one_invoice_keep_one_chain(
    api: Api, services: Services, settings: Settings, clock: FakeClock, tenant: Tenant, cli: Cli
):
    invoice = UUID(api.create_invoice(api.create_client()["id"])["id"])
    other = Services(settings, clock=clock)  # a second process on the same stores
    try:
        for turn in range(6):
            writer = services if turn % 2 == 0 else other
            writer.execute(lambda w=writer, n=turn: w.app.update_invoice(tenant.account_id, invoice, {"notes": f"{n}"}))
    finally:
        other.close()
    events = services.app.recorder.select_events(invoice)
    for before, after in zip(events, events[1:], strict=False):
        assert ledger_of(after)["prev"] == ledger_of(before)["hash"]  # type: ignore[index]
    verified(cli)


def test_a_write_that_loses_a_race_is_not_remembered_as_the_seal(
    api: Api, services: Services, settings: Settings, clock: FakeClock, tenant: Tenant, cli: Cli
):
    invoice = UUID(api.create_invoice(api.create_client()["id"])["id"])
    app = services.app
    stale = app.repository.get(invoice)  # both start from the same version
    other = Services(settings, clock=clock)
    try:
        other.execute(lambda: other.app.update_invoice(tenant.account_id, invoice, {"notes": "theirs"}))
    finally:
        other.close()
    assert isinstance(stale, Invoice)
    stale.revise({"notes": "mine"})  # the same next version, sealed here, refused by the store
    with pytest.raises(IntegrityError):
        app.save(stale)
    services.execute(lambda: app.update_invoice(tenant.account_id, invoice, {"notes": "after"}))
    last = app.recorder.select_events(invoice, desc=True, limit=1)[0]
    assert b"after" in last.state and LEDGER.encode() in last.state
    verified(cli)

"""`cleverinvo projections rebuild` beside a running server: the new tables fill beside the
live ones, so writes (and reading them back) go on; the switch at the end is one short
transaction, and the result equals the live read model."""

import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal

from sqlalchemy import select

from database.migrations import catalog
from domain.invoice import InvoiceDraft
from domain.money import LineItemDraft
from gateway.services import Services
from projections.rebuild import REBUILD_KEY
from projections.tables import tracking
from tests.conftest import Tenant, dump_read_model


def _seed(services: Services, tenant: Tenant, invoices: int) -> None:
    app = services.app
    client = app.create_client(tenant.account_id, {"name": "Acme"})
    for n in range(invoices):
        draft = InvoiceDraft(client, [LineItemDraft(f"Line {n}", Decimal(1), Decimal(10))])
        invoice = app.create_invoice(tenant.account_id, draft)
        app.update_invoice(tenant.account_id, invoice, {"notes": f"n{n}"})
    services.projector.catch_up()


def _rebuild_position(services: Services) -> int | None:
    with services.read.engine.connect() as conn:
        query = select(tracking.c.notification_id).where(tracking.c.application_name == REBUILD_KEY)
        found = conn.execute(query).scalar_one_or_none()
    return None if found is None else int(found)


def test_writes_go_on_while_the_read_model_is_rebuilt(settings, services: Services, tenant: Tenant):
    services.execute(lambda: services.app.change_plan(tenant.account_id, "business"))  # no monthly cap
    _seed(services, tenant, 1500)
    client_id = services.app.create_client(tenant.account_id, {"name": "Written during the rebuild"})
    rebuilder = Services(settings)  # as `cleverinvo projections rebuild` does, in its own process
    done = threading.Event()
    failures: list[BaseException] = []

    def rebuild() -> None:
        try:
            rebuilder.projector.rebuild()
        except BaseException as exc:
            failures.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=rebuild)
    thread.start()
    try:
        while not (_rebuild_position(services) or 0) > 0:
            assert not done.is_set(), failures
        services.execute(lambda: services.app.update_client(tenant.account_id, client_id, {"notes": "during"}))
        assert services.read.client(str(tenant.account_id), str(client_id)).notes == "during"  # type: ignore[union-attr]
        assert not done.is_set(), "the write waited for the whole rebuild"
        assert _rebuild_position(services) is not None  # the rebuild was still filling its tables
    finally:
        thread.join(timeout=120)
        rebuilder.close()
    assert not failures, failures
    assert _rebuild_position(services) is None  # switched, and its row gone
    live = dump_read_model(services)
    assert services.read.client(str(tenant.account_id), str(client_id)).notes == "during"  # type: ignore[union-attr]
    services.projector.rebuild()  # again: the tables' index names alternate between rebuilds
    services.projector.rebuild()
    assert dump_read_model(services) == live


def test_a_rebuild_killed_on_the_way_leaves_the_live_read_model_and_the_next_one_finishes(
    settings, services: Services, tenant: Tenant
):
    """`cleverinvo projections rebuild` killed with SIGKILL while it fills its tables: the
    live tables are as they were, a restart serves them, and the next rebuild drops what
    the killed one left and ends equal to the live read model, with the declared schema."""
    services.execute(lambda: services.app.change_plan(tenant.account_id, "business"))
    _seed(services, tenant, 600)
    live = dump_read_model(services)
    environment = {**os.environ, "CLEVERINVO_DATA_DIR": str(settings.data_dir)}
    command = "from gateway.cli.main import main; raise SystemExit(main(['projections', 'rebuild']))"
    rebuild = subprocess.Popen([sys.executable, "-c", command], env=environment)
    try:
        deadline = time.monotonic() + 120
        while not (_rebuild_position(services) or 0) > 0:
            assert rebuild.poll() is None, "the rebuild ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        rebuild.send_signal(signal.SIGKILL)
    finally:
        rebuild.wait(timeout=60)
    assert _rebuild_position(services) is not None  # killed before its switch
    assert dump_read_model(services) == live
    restarted = Services(settings)
    try:
        assert dump_read_model(restarted) == live
        restarted.projector.rebuild()
        assert _rebuild_position(restarted) is None
        assert dump_read_model(restarted) == live
        assert catalog.differences(restarted.projector.writer) == []
    finally:
        restarted.close()

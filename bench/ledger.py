"""Ledger benchmarks: what sealing costs a write, and how fast an auditor's reads answer on an
invoice with 1,000 events.

Run by hand: python bench/ledger.py [--runs 3] [--requests 20]

- writes: invoice updates per second through the application, sealed (every event hashed
  and chained, the previous version's hash read from the store) against the same
  application with eventsourcing's plain event store, in the same run.
- reads: a fresh data directory with one invoice of 1,000 events (700 draft revisions, a
  send, then payments recorded and reversed in turn) and one of a single event; each
  request through the real ASGI app, against GET /api/v1/invoices/{id} (the read model)
  as the baseline: the history of 1,000 entries, the detail at versions 1, 500, 999 and
  1,000, as of the moment of version 750, a past version's PDF, the account's feed; and
  loading version 999 in-process from its snapshot against replaying all 999 events.

Every measurement is repeated --runs times; min/median/max of the per-run medians.
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eventsourcing.persistence import EventStore  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from domain.application import CleverInvo  # noqa: E402
from domain.invoice import InvoiceDraft, Sending  # noqa: E402
from domain.money import LineItemDraft  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.services import Services  # noqa: E402
from gateway.settings import Settings  # noqa: E402

EVENTS = 1000


class Unsealed(CleverInvo):
    """The same application with eventsourcing's own event store: no hashes, no actor."""

    def construct_event_store(self) -> EventStore[UUID]:
        return EventStore(mapper=self.mapper, recorder=self.recorder)


def draft(client_id: UUID, lines: int = 5) -> InvoiceDraft:
    items = [LineItemDraft(f"Line {n}", Decimal(2), Decimal("49.50"), Decimal(10)) for n in range(lines)]
    return InvoiceDraft(client_id=client_id, line_items=items)


def seconds(action: Callable[[], Any], repeat: int) -> float:
    """The median of ``repeat`` timings of ``action``, in seconds."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def updates_per_second(app_class: type[CleverInvo], folder: Path, count: int) -> float:
    app = app_class({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "events.db")})
    account = app.open_account("Bench", "pro")
    client = app.create_client(account, {"name": "Client"})
    invoice = app.create_invoice(account, draft(client))
    started = time.perf_counter()
    for number in range(count):
        app.update_invoice(account, invoice, {"notes": f"Revision {number}"})
    elapsed = time.perf_counter() - started
    app.close()
    return count / elapsed


def long_invoice(services: Services, account: UUID, client: UUID) -> UUID:
    app = services.app
    invoice = app.create_invoice(account, draft(client))
    for number in range(700 - 1):
        app.update_invoice(account, invoice, {"notes": f"Revision {number}"})
    app.send_invoice(account, invoice, Sending())
    version = 701
    while version < EVENTS:
        payment = app.record_payment(account, invoice, Decimal("1.00"), method="bank")
        version += 1
        if version < EVENTS:
            app.reverse_payment(account, invoice, payment)
            version += 1
    services.projector.catch_up()
    return invoice


def one_run(folder: Path, requests: int) -> dict[str, float]:
    results: dict[str, float] = {}
    (folder / "plain").mkdir()
    (folder / "sealed").mkdir()
    results["writes: updates/s unsealed"] = updates_per_second(Unsealed, folder / "plain", 500)
    results["writes: updates/s sealed"] = updates_per_second(CleverInvo, folder / "sealed", 500)

    environ = {"CLEVERINVO_DATA_DIR": str(folder / "data"), "CLEVERINVO_RATE_LIMIT": "1000000/minute"}
    settings = Settings.from_env(environ)
    services = Services(settings)
    account = services.app.open_account("Bench", "pro")
    _, key = services.app.issue_api_key(account, "bench")
    client = services.app.create_client(account, {"name": "Client"})
    invoice = long_invoice(services, account, client)
    short = services.app.create_invoice(account, draft(client))
    services.projector.catch_up()
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(settings, services)) as http:

        def get(path: str, **params: str) -> Callable[[], Any]:
            def call() -> Any:
                response = http.get(path, params=params or None, headers=headers)
                assert response.status_code == 200, (path, response.status_code, response.text[:200])
                return response

            return call

        base = f"/api/v1/invoices/{invoice}"
        history = get(f"{base}/history")().json()["data"]
        assert len(history) == EVENTS, len(history)
        moment = history[749]["occurredAt"]
        get("/api/v1/ledger/digest")()  # the follower catches up once, before timing
        probes = {
            "baseline: GET detail (read model)": get(base),
            "history of 1 event": get(f"/api/v1/invoices/{short}/history"),
            "history of 1,000 events": get(f"{base}/history"),
            "detail ?version=1": get(base, version="1"),
            "detail ?version=500": get(base, version="500"),
            "detail ?version=999": get(base, version="999"),
            "detail ?version=1000": get(base, version="1000"),
            "detail ?asOf=<version 750>": get(base, asOf=moment),
            "feed: 100 events": get("/api/v1/events", after="0", limit="100"),
            "pdf ?version=500 (rendered)": get(f"{base}/pdf", version="500"),
        }
        for name, probe in probes.items():
            results[f"reads ms: {name}"] = seconds(probe, requests) * 1000
    app = services.app
    results["load ms: version 999 from snapshot"] = seconds(lambda: app.repository.get(invoice, version=999), 20) * 1000

    def replay() -> Any:
        aggregate: Any = None
        for event in app.events.get(invoice, lte=999):
            aggregate = event.mutate(aggregate)  # type: ignore[attr-defined]
        return aggregate

    results["load ms: version 999 replaying all"] = seconds(replay, 20) * 1000
    services.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per probe and run")
    args = parser.parse_args()
    runs = []
    for number in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="cleverinvo-bench-") as folder:
            runs.append(one_run(Path(folder), args.requests))
        print(f"run {number + 1}/{args.runs} done", file=sys.stderr, flush=True)
    baseline = [run["reads ms: baseline: GET detail (read model)"] for run in runs]
    print(f"{'measurement':<50} {'min':>9} {'median':>9} {'max':>9} {'ratio':>7}")
    for name in runs[0]:
        values = [run[name] for run in runs]
        ratio = ""
        if name.startswith("reads ms"):
            ratio = f"{statistics.median(v / b for v, b in zip(values, baseline, strict=True)):6.1f}x"
        elif name == "writes: updates/s sealed":
            unsealed = [run["writes: updates/s unsealed"] for run in runs]
            ratio = f"{statistics.median(v / u for v, u in zip(values, unsealed, strict=True)):6.2f}x"
        print(f"{name:<50} {min(values):9.2f} {statistics.median(values):9.2f} {max(values):9.2f} {ratio:>7}")


if __name__ == "__main__":
    main()

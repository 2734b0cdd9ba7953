"""Recorded times follow the application's clock and never go backwards within a stream or
an account's feed, whatever the clock does (domain/timeline.py): stepped back (in a running
service and across a restart), and stepped forward then back. ``asOf`` at each event's own
``occurredAt`` finds that version; the newest invoice sorts first; ``/readyz`` shows the
largest step back and stays ready; the step back is logged once, not once per event."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import TODAY, Api, FakeClock, Tenant, payload
from tests.e2e.test_operations import json_lines, open_tenant_in, serving
from tests.graphql_support import data
from tests.outside_tools import missing
from usecases.wire import timestamp

HOUR_MS = 3_600_000


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text[:500])
    return payload(response)["data"]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def history(api: Api, invoice_id: str) -> list[dict[str, Any]]:
    return ok(api.get(f"/api/v1/invoices/{invoice_id}/history"))  # type: ignore[no-any-return]


def feed(api: Api, services: Services) -> list[dict[str, Any]]:
    services.ledger.catch_up()
    return ok(api.get("/api/v1/events", after="0", limit="500"))  # type: ignore[no-any-return]


def assert_in_order(times: list[str]) -> None:
    parsed = [moment(t) for t in times]
    assert parsed == sorted(parsed), times


def assert_history_holds(api: Api, invoice_id: str) -> list[dict[str, Any]]:
    """Each version later than the one before, and ``asOf`` at its own time finds it."""
    entries = history(api, invoice_id)
    times = [moment(entry["occurredAt"]) for entry in entries]
    assert all(a < b for a, b in zip(times, times[1:], strict=False)), [e["occurredAt"] for e in entries]
    query = "query($id: ID!, $t: DateTime!) { invoice(id: $id, asOf: $t) { balanceDue } }"
    for entry in entries:
        at = ok(api.get(f"/api/v1/invoices/{invoice_id}", asOf=entry["occurredAt"]))
        assert at == ok(api.get(f"/api/v1/invoices/{invoice_id}", version=str(entry["version"])))
        found = data(api, query, {"id": invoice_id, "t": entry["occurredAt"]})["invoice"]  # GraphQL too
        assert str(found["balanceDue"]) == str(at["balanceDue"])
    return entries


def sent_invoice(api: Api) -> str:
    client = api.create_client(name="Acme")
    invoice_id: str = api.create_invoice(client["id"])["id"]
    ok(api.post(f"/api/v1/invoices/{invoice_id}/send", {}))
    return invoice_id


def test_recorded_times_follow_the_applications_clock(api: Api, clock: FakeClock) -> None:
    """The clock passed in is the one events are recorded by (they took the host's before)."""
    invoice_id = sent_invoice(api)
    first = history(api, invoice_id)[0]
    assert moment(first["occurredAt"]) - TODAY < timedelta(seconds=1)


def test_a_clock_stepped_back_keeps_history_and_the_feed_in_order(
    api: Api, clock: FakeClock, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    invoice_id = sent_invoice(api)
    client_id = api.invoice(invoice_id)["clientId"]
    before = history(api, invoice_id)[-1]["occurredAt"]
    clock.advance(hours=-1)
    with caplog.at_level(logging.INFO, logger="cleverinvo.clock"):
        ok(api.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": "10.00"}), 201)
        newest = api.create_invoice(client_id)["id"]
        ok(api.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": "5.00"}), 201)
    entries = assert_history_holds(api, invoice_id)
    assert moment(entries[-2]["occurredAt"]) > moment(before)  # the payment, not an hour earlier
    assert_in_order([item["occurredAt"] for item in feed(api, services)])
    listed = ok(api.get("/api/v1/invoices"))
    assert listed[0]["id"] == newest  # the newest invoice sorts first
    stepped = [r for r in caplog.records if r.name == "cleverinvo.clock" and r.levelno == logging.WARNING]
    assert len(stepped) == 1 and "behind" in stepped[0].getMessage()  # one line, not one per save
    ready = api.http.get("/readyz")
    assert ready.status_code == 200, ready.text  # a clock behind does not take the host out
    state = payload(ready)["clock"]
    assert HOUR_MS <= state["largestStepBackMs"] < HOUR_MS + 60_000
    assert HOUR_MS - 60_000 < state["behindMs"] < HOUR_MS + 60_000 and state["clampedSaves"] >= 3
    assert state["latestRecordedAt"] == feed(api, services)[-1]["occurredAt"]


def test_a_clock_stepped_forward_then_back_holds_times_until_it_passes_them(api: Api, clock: FakeClock) -> None:
    invoice_id = sent_invoice(api)
    clock.advance(hours=2)
    ok(api.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": "1.00"}), 201)
    ahead = moment(history(api, invoice_id)[-1]["occurredAt"])
    clock.advance(hours=-2)
    ok(api.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": "1.00"}), 201)
    held = moment(history(api, invoice_id)[-1]["occurredAt"])
    assert ahead < held < ahead + timedelta(seconds=1)  # stuck at the forward time, a step past it
    clock.advance(hours=3)
    ok(api.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": "1.00"}), 201)
    assert history(api, invoice_id)[-1]["occurredAt"] == timestamp(clock.now)  # past them: the clock's own time
    assert_history_holds(api, invoice_id)


def test_a_restart_with_the_clock_behind_keeps_the_order(
    make_settings: Callable[..., Settings], open_tenant: Callable[..., Tenant], services: Services
) -> None:
    """A new process (fresh Services on the same store) whose clock is an hour behind: it
    reads the latest recorded time from the store, on SQLite and PostgreSQL alike."""
    tenant = open_tenant("pro")
    settings = make_settings()
    with TestClient(create_app(settings, services)) as http:
        invoice_id = sent_invoice(Api(http, tenant))
    services.close()
    behind = FakeClock(TODAY - timedelta(hours=1))
    restarted = Services(settings, clock=behind)
    try:
        with TestClient(create_app(settings, restarted)) as http:
            api = Api(http, tenant)
            ok(api.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": "10.00"}), 201)
            assert_history_holds(api, invoice_id)
            assert_in_order([item["occurredAt"] for item in feed(api, restarted)])
            assert payload(http.get("/readyz"))["clock"]["largestStepBackMs"] >= HOUR_MS
    finally:
        restarted.close()


# --- a real `cleverinvo serve` restarted with its clock an hour behind (libfaketime) -----------

# Debian's faketime package, wherever the architecture puts it (x86_64-linux-gnu, aarch64-…)
LIBFAKETIME = next(iter(sorted(Path("/usr/lib").glob("*/faketime/libfaketimeMT.so.1"))), None)


def test_a_server_restarted_with_its_clock_an_hour_behind_keeps_the_order(tmp_path: Path) -> None:
    if LIBFAKETIME is None:
        missing("libfaketime", "apt-get install faketime (Debian/Ubuntu)")
    data = tmp_path / "data"
    data.mkdir()
    tenant = open_tenant_in(data)
    with serving(data) as server, httpx.Client(base_url=server.url, headers=tenant.headers) as http:
        client = ok(http.post("/api/v1/clients", json={"name": "Acme"}), 201)
        lines = [{"description": "Work", "quantity": 1, "unitPrice": "100.00"}]
        invoice_id = ok(http.post("/api/v1/invoices", json={"clientId": client["id"], "lineItems": lines}), 201)["id"]
        ok(http.post(f"/api/v1/invoices/{invoice_id}/send", json={}))
        assert server.stop() == 0
    stepped = {"LD_PRELOAD": str(LIBFAKETIME), "FAKETIME": "-3600", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    with serving(data, **stepped) as server, httpx.Client(base_url=server.url, headers=tenant.headers) as http:
        ok(http.post(f"/api/v1/invoices/{invoice_id}/payments", json={"amount": "10.00"}), 201)
        ok(http.post(f"/api/v1/invoices/{invoice_id}/payments", json={"amount": "5.00"}), 201)
        entries = ok(http.get(f"/api/v1/invoices/{invoice_id}/history"))
        times = [moment(entry["occurredAt"]) for entry in entries]
        assert all(a < b for a, b in zip(times, times[1:], strict=False)), times
        for entry in entries:
            at = ok(http.get(f"/api/v1/invoices/{invoice_id}", params={"asOf": entry["occurredAt"]}))
            assert at == ok(http.get(f"/api/v1/invoices/{invoice_id}", params={"version": str(entry["version"])}))
        state = payload(http.get("/readyz"))["clock"]
        assert state["largestStepBackMs"] > HOUR_MS - 600_000 and state["clampedSaves"] >= 2
        assert server.stop() == 0
        warned = [line for line in json_lines(server.text()) if line.get("logger") == "cleverinvo.clock"]
    assert len(warned) == 1 and "behind" in str(warned[0].get("message", warned[0])), warned


def test_business_dates_follow_the_clock_not_the_held_times(api: Api, clock: FakeClock, services: Services) -> None:
    """Held recorded times do not move business dates: after a clock stepped forward three
    days and back, an invoice due tomorrow is not overdue, and a payment's date is today."""
    client = api.create_client(name="Acme")
    due = (clock.now + timedelta(days=1)).date().isoformat()
    invoice_id = api.create_invoice(client["id"], dueDate=due)["id"]
    ok(api.post(f"/api/v1/invoices/{invoice_id}/send", {}))
    clock.advance(days=3)
    api.create_client(name="Recorded three days ahead")
    clock.advance(days=-3)
    assert services.app.mark_overdue(UUID(invoice_id)) is False
    assert api.invoice(invoice_id)["status"] == "SENT"
    payment = ok(api.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": "1.00"}), 201)
    assert payment["date"] == clock.now.date().isoformat()
    assert moment(history(api, invoice_id)[-1]["occurredAt"]) > clock.now + timedelta(days=2)  # held

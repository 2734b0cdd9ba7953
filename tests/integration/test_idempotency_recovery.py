"""Idempotency keys after a crash, in one process: a request whose process died between
its commit and its answer is answered from the events it recorded, never run again; one
that died before its commit runs once; the holder of a key in flight is told dead at once
on this host and by its heartbeat from elsewhere. Real app, SQLite and PostgreSQL.
(Real processes killed mid-request: tests/e2e/test_idempotency_crash.py.)"""

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from domain.actors import API_KEY, Actor, acting_as, current_actor, for_request
from gateway.services import Services
from projections.marked_events import marked_events
from storage import holders
from storage.idempotency import (
    STALE_AFTER,
    Abandoned,
    Claimed,
    IdempotencyStore,
    StoredResponse,
    idempotency_keys,
)
from tests.conftest import Api, Tenant, assert_error, invoice_body, payload

REPLAYED = "idempotent-replayed"


def events(services: Services) -> int:
    return services.app.recorder.max_notification_id() or 0


def post(api: Api, path: str, body: Any, key: str) -> httpx.Response:
    return api.request("POST", path, body, headers={"Idempotency-Key": key})


def row(services: Services, key: str) -> Any:
    with services.read.engine.connect() as conn:
        return conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key)).one()


def set_row(services: Services, key: str, **values: Any) -> None:
    with services.projector.writer.begin() as conn:
        conn.execute(update(idempotency_keys).where(idempotency_keys.c.key == key).values(**values))


def dead_here() -> str:
    """A holder on this host that no longer runs: this very pid, started at another time
    (as a pid reused after its process died reads)."""
    name, boot, space, pid, _started = holders.this_process().rsplit("/", 4)
    return "/".join((name, boot, space, pid, "1"))


ELSEWHERE = "another-host/00000000-0000-0000-0000-000000000000/pid:[1]/4242/777"


@pytest.fixture
def moment(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """The idempotency table's clock, settable: ``moment[0] += timedelta(...)``."""
    now = [datetime.now(UTC).replace(tzinfo=None)]
    monkeypatch.setattr("storage.idempotency.now", lambda: now[0])
    yield now


@pytest.fixture
def dies_before_keeping(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """From now on a keyed request commits and answers, but its answer is never kept: the
    row stays in flight, as when the process dies between the commit and the answer."""

    def start() -> None:
        monkeypatch.setattr(IdempotencyStore, "complete", lambda self, claim, response: True)

    return start


@pytest.fixture
def acme(api: Api) -> dict[str, Any]:
    return api.create_client(email="billing@acme.test")


def sent(api: Api, client_id: str) -> dict[str, Any]:
    created = api.create_invoice(client_id)
    assert api.post(f"/api/v1/invoices/{created['id']}/send", {}).status_code == 200
    return created


# --- died after its commit: answered from its events ----------------------------------


def routes(api: Api, acme: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    draft = api.create_invoice(acme["id"])
    to_void, to_pay = sent(api, acme["id"]), sent(api, acme["id"])
    return [
        ("/api/v1/clients", {"name": "Globex", "email": "ap@globex.test", "address": "1 Main St"}),
        ("/api/v1/invoices", invoice_body(acme["id"], notes="Thanks")),
        (f"/api/v1/invoices/{draft['id']}/send", {"message": "Here it is"}),
        (f"/api/v1/invoices/{to_void['id']}/void", {"reason": "Billed twice"}),
        (f"/api/v1/invoices/{to_pay['id']}/payments", {"amount": 100.5, "date": "2024-06-15", "reference": "TX-1"}),
    ]


def test_a_request_that_died_after_its_commit_is_answered_from_its_events_on_every_route(
    api: Api, services: Services, acme: dict[str, Any], dies_before_keeping: Callable[[], None]
) -> None:
    cases = routes(api, acme)
    dies_before_keeping()
    for number, (path, body) in enumerate(cases):
        key = f"died-{number}"
        first = post(api, path, body, key)
        assert first.status_code in (200, 201), first.text
        assert row(services, key).state == "in_flight"
        set_row(services, key, holder=dead_here())
        recorded = events(services)
        again = post(api, path, body, key)
        assert again.status_code == first.status_code, again.text
        assert again.content == first.content, path  # the first answer, byte for byte
        assert again.headers["content-type"] == first.headers["content-type"]
        assert again.headers[REPLAYED] == "true"
        assert events(services) == recorded, path  # nothing ran again
        assert row(services, key).state == "done"
    clients = payload(api.get("/api/v1/clients"))["data"]
    assert [c["name"] for c in clients].count("Globex") == 1
    assert payload(api.get("/api/v1/invoices"))["total"] == 4


def test_later_changes_do_not_show_in_the_recovered_answer(
    api: Api, services: Services, acme: dict[str, Any], dies_before_keeping: Callable[[], None]
) -> None:
    dies_before_keeping()
    first = post(api, "/api/v1/invoices", invoice_body(acme["id"]), "create")
    invoice_id = payload(first)["data"]["id"]
    assert api.post(f"/api/v1/invoices/{invoice_id}/send", {}).status_code == 200
    set_row(services, "create", holder=dead_here())
    again = post(api, "/api/v1/invoices", invoice_body(acme["id"]), "create")
    assert again.content == first.content and payload(again)["data"]["status"] == "DRAFT"


def test_a_request_in_flight_past_the_old_five_minutes_is_recovered_not_run_again(
    api: Api, services: Services, moment: list[datetime], dies_before_keeping: Callable[[], None]
) -> None:
    """Before: an in-flight row ran out after 5 minutes and the retry ran the request again."""
    dies_before_keeping()
    first = post(api, "/api/v1/clients", {"name": "Acme Corp"}, "slow-retry")
    recorded = events(services)
    moment[0] += timedelta(minutes=10)
    again = post(api, "/api/v1/clients", {"name": "Acme Corp"}, "slow-retry")
    assert again.status_code == 201 and again.content == first.content and again.headers[REPLAYED] == "true"
    assert events(services) == recorded
    assert payload(api.get("/api/v1/clients"))["total"] == 1


def test_a_recovered_answer_is_kept_for_the_keys_24_hours(
    api: Api, services: Services, moment: list[datetime], dies_before_keeping: Callable[[], None]
) -> None:
    dies_before_keeping()
    first = post(api, "/api/v1/clients", {"name": "Acme Corp"}, "kept")
    set_row(services, "kept", holder=dead_here())
    moment[0] += timedelta(hours=23)
    assert post(api, "/api/v1/clients", {"name": "Acme Corp"}, "kept").content == first.content
    moment[0] += timedelta(hours=1, seconds=1)
    fresh = post(api, "/api/v1/clients", {"name": "Acme Corp"}, "kept")
    assert fresh.status_code == 201 and REPLAYED not in fresh.headers


# --- died before its commit: runs once -------------------------------------------------


def claim_as_dead(services: Services, tenant: Tenant, key: str, body: bytes, path: str = "/api/v1/clients") -> None:
    store = IdempotencyStore(services.projector.writer)
    store.claim(str(tenant.account_id), key, f"POST {path}", hashlib.sha256(body).hexdigest(), events(services))
    set_row(services, key, holder=dead_here())


def test_a_request_that_died_before_its_commit_runs_once_at_once(api: Api, services: Services, tenant: Tenant) -> None:
    body = b'{"name":"Acme Corp"}'
    claim_as_dead(services, tenant, "lost", body)
    recorded = events(services)
    ran = api.request("POST", "/api/v1/clients", content=body, headers={"Idempotency-Key": "lost"})
    assert ran.status_code == 201 and REPLAYED not in ran.headers, ran.text
    assert events(services) > recorded
    again = api.request("POST", "/api/v1/clients", content=body, headers={"Idempotency-Key": "lost"})
    assert again.content == ran.content and again.headers[REPLAYED] == "true"
    assert payload(api.get("/api/v1/clients"))["total"] == 1


def test_a_dead_holders_key_with_another_body_is_still_422(api: Api, services: Services, tenant: Tenant) -> None:
    claim_as_dead(services, tenant, "lost", b'{"name":"Acme Corp"}')
    answer = api.request("POST", "/api/v1/clients", content=b'{"name":"Globex"}', headers={"Idempotency-Key": "lost"})
    assert "Idempotency-Key" in assert_error(answer, 422)


def test_racing_retries_of_a_dead_holders_request_run_it_once(api: Api, services: Services, tenant: Tenant) -> None:
    body = b'{"name":"Acme Corp"}'
    claim_as_dead(services, tenant, "lost", body)
    start = threading.Barrier(6)

    def retry(_: int) -> httpx.Response:
        start.wait()
        return api.request("POST", "/api/v1/clients", content=body, headers={"Idempotency-Key": "lost"})

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(retry, range(6)))
    assert {a.status_code for a in answers} <= {201, 409}
    assert len({a.content for a in answers if a.status_code == 201}) == 1
    assert payload(api.get("/api/v1/clients"))["total"] == 1


# --- holders ---------------------------------------------------------------------------


def test_a_live_holder_on_this_host_is_waited_for_however_old_its_beat(
    api: Api, services: Services, tenant: Tenant, moment: list[datetime]
) -> None:
    body = b'{"name":"Acme Corp"}'
    store = IdempotencyStore(services.projector.writer)
    store.claim(str(tenant.account_id), "busy", "POST /api/v1/clients", hashlib.sha256(body).hexdigest(), 0)
    moment[0] += timedelta(minutes=4)  # no beat for minutes: but this process runs, so its request may yet finish
    refused = api.request("POST", "/api/v1/clients", content=body, headers={"Idempotency-Key": "busy"})
    assert "in progress" in assert_error(refused, 409)


def test_a_holder_elsewhere_is_gone_once_its_heartbeat_is_stale(
    api: Api, services: Services, tenant: Tenant, moment: list[datetime]
) -> None:
    body = b'{"name":"Acme Corp"}'
    claim_as_dead(services, tenant, "remote", body)
    set_row(services, "remote", holder=ELSEWHERE, beat_at=moment[0])
    assert holders.runs(ELSEWHERE) is None  # nothing to look at from here: the heartbeat decides

    def send() -> httpx.Response:
        return api.request("POST", "/api/v1/clients", content=body, headers={"Idempotency-Key": "remote"})

    moment[0] += STALE_AFTER - timedelta(milliseconds=1)
    assert_error(send(), 409)
    moment[0] += timedelta(milliseconds=1)
    assert send().status_code == 201
    assert payload(api.get("/api/v1/clients"))["total"] == 1


def test_a_running_request_beats_so_that_no_host_takes_it_over(
    api: Api, services: Services, moment: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    from usecases.clients import Clients

    monkeypatch.setattr("gateway.http.idempotency_keys.BEAT_EVERY", timedelta(milliseconds=5))
    real, entered, release = Clients.create, threading.Event(), threading.Event()

    def held(self: Clients, *args: Any) -> Any:
        entered.set()
        assert release.wait(30)
        return real(self, *args)

    monkeypatch.setattr(Clients, "create", held)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(post, api, "/api/v1/clients", {"name": "Acme Corp"}, "long")
        assert entered.wait(30)
        claimed = row(services, "long").beat_at
        moment[0] += timedelta(minutes=1)
        deadline = datetime.now() + timedelta(seconds=30)
        while row(services, "long").beat_at == claimed:  # bounded: a beat comes every 5 ms
            assert datetime.now() < deadline, "no beat came"
            threading.Event().wait(0.005)
        assert row(services, "long").beat_at == moment[0]
        release.set()
        assert running.result(30).status_code == 201


def test_a_taken_over_claim_keeps_nothing_and_beats_no_more(services: Services, tenant: Tenant) -> None:
    store = IdempotencyStore(services.projector.writer)
    first = store.claim(str(tenant.account_id), "k", "POST /api/v1/clients", "0" * 64, 0)
    set_row(services, "k", holder=dead_here())
    abandoned = store.claim(str(tenant.account_id), "k", "POST /api/v1/clients", "0" * 64, 0)
    assert isinstance(first, Claimed) and isinstance(abandoned, Abandoned) and abandoned.owner == first.owner
    taken = store.take_over(abandoned, 0)
    assert taken is not None and store.take_over(abandoned, 0) is None  # one retry wins
    assert not store.beat(first)
    assert not store.complete(first, StoredResponse(201, [], b"{}"))
    assert not store.settle(abandoned, StoredResponse(201, [], b"{}"))
    assert store.complete(taken, StoredResponse(201, [], b"{}"))


def test_this_process_runs_and_a_reused_pid_does_not() -> None:
    assert holders.runs(holders.this_process()) is True
    assert holders.runs(dead_here()) is False
    assert holders.runs("not a holder") is None


# --- what the ledger records -----------------------------------------------------------


def test_a_keyed_requests_events_carry_its_reference_and_the_wire_shows_the_actor_as_before(
    api: Api, services: Services, tenant: Tenant, acme: dict[str, Any]
) -> None:
    before = events(services)
    first = post(api, "/api/v1/invoices", invoice_body(acme["id"]), "create")
    reference = row(services, "create").owner
    found = marked_events(services.app, reference, before)
    assert {m.kind for m in found} >= {"Invoice.InvoiceCreated"}
    assert [m.position for m in found] == list(range(before + 1, events(services) + 1))  # all it wrote, no other
    assert marked_events(services.app, reference, events(services)) == []
    unkeyed = api.create_client(name="Initech")
    assert marked_events(services.app, reference, 0) == found and unkeyed
    history = payload(api.get(f"/api/v1/invoices/{payload(first)['data']['id']}/history"))["data"]
    assert history[0]["actor"] == {"type": "apiKey", "id": str(tenant.key_id), "name": "tests"}


def test_a_reference_written_into_a_text_field_is_no_match(api: Api, services: Services) -> None:
    reference = "f" * 32
    api.create_client(name="Acme", notes=json.dumps({"request": reference}, separators=(",", ":")))
    assert marked_events(services.app, reference, 0) == []


def test_for_request_adds_the_reference_to_whoever_acts() -> None:
    with acting_as(Actor(API_KEY, "id-1", "laptop")):
        with for_request("abc") as actor:
            assert current_actor() == actor
            assert actor.as_dict() == {"type": API_KEY, "id": "id-1", "name": "laptop", "request": "abc"}
        assert "request" not in current_actor().as_dict()


# --- failed after its commit -----------------------------------------------------------


def test_a_500_after_the_commit_keeps_the_rebuilt_answer_so_a_retry_does_not_write_twice(
    api: Api, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: any 5xx gave the key up, so a retry ran the command again."""
    from gateway.rest import render

    real, calls = render.client, []

    def breaks_once(view: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("rendering broke after the write")
        return real(view)

    monkeypatch.setattr(render, "client", breaks_once)
    assert_error(post(api, "/api/v1/clients", {"name": "Acme Corp"}, "after"), 500)
    recorded = events(services)
    again = post(api, "/api/v1/clients", {"name": "Acme Corp"}, "after")
    assert again.status_code == 201 and again.headers[REPLAYED] == "true"
    assert events(services) == recorded
    assert [c["name"] for c in payload(api.get("/api/v1/clients"))["data"]] == ["Acme Corp"]


def test_an_answer_that_cannot_be_rebuilt_is_a_kept_409_never_a_second_write(
    api: Api, services: Services, dies_before_keeping: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    dies_before_keeping()
    post(api, "/api/v1/clients", {"name": "Acme Corp"}, "lost")
    set_row(services, "lost", holder=dead_here())

    def broken(*_args: Any) -> Any:
        raise RuntimeError("the past cannot be read")

    monkeypatch.setattr("gateway.http.idempotency_recovery.Past.load", broken)
    recorded = events(services)
    for _ in range(2):
        answer = post(api, "/api/v1/clients", {"name": "Acme Corp"}, "lost")
        assert "took effect" in assert_error(answer, 409)
    assert events(services) == recorded
    assert payload(api.get("/api/v1/clients"))["total"] == 1

"""Safe retries: Idempotency-Key on the POSTs of /api/v1, through the real app and SQLite."""

import hashlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from storage.idempotency import IdempotencyStore, idempotency_keys
from tests.conftest import Api, FakeClock, Tenant, TestClient, assert_error, invoice_body, payload

REPLAYED = "idempotent-replayed"


def events(services: Services) -> int:
    return services.app.recorder.max_notification_id() or 0


def post(api: Api, path: str, body: Any, key: str | None = "key-1", **headers: str) -> httpx.Response:
    sent = {"Idempotency-Key": key} if key is not None else {}
    return api.request("POST", path, body, headers={**sent, **headers})


def stored_keys(services: Services) -> int:
    with services.read.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(idempotency_keys)).scalar_one())


@pytest.fixture
def acme(api: Api) -> dict[str, Any]:
    return api.create_client(email="billing@acme.test")


@pytest.fixture
def sent_invoice(api: Api, acme: dict[str, Any]) -> dict[str, Any]:
    created = api.create_invoice(acme["id"])
    answer = api.post(f"/api/v1/invoices/{created['id']}/send", {})
    assert answer.status_code == 200, answer.text
    return created


@pytest.fixture
def moment(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """The idempotency table's clock, settable: ``moment[0] += timedelta(...)``."""
    now = [datetime.now(UTC).replace(tzinfo=None)]
    monkeypatch.setattr("storage.idempotency.now", lambda: now[0])
    yield now


def assert_replay_of(first: httpx.Response, again: httpx.Response) -> None:
    assert again.status_code == first.status_code
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers[REPLAYED] == "true"
    assert REPLAYED not in first.headers


# --- replays ---------------------------------------------------------------------------


def test_a_retried_client_creation_replays_the_first_answer_and_records_nothing(api: Api, services: Services):
    body = {"name": "Acme Corp", "email": "billing@acme.test"}
    first = post(api, "/api/v1/clients", body)
    assert first.status_code == 201, first.text
    recorded = events(services)
    again = post(api, "/api/v1/clients", body)
    assert_replay_of(first, again)
    assert events(services) == recorded
    assert payload(api.get("/api/v1/clients"))["total"] == 1
    assert again.headers["ratelimit-remaining"]  # the guard still counts and labels the replay


def test_invoice_creation_send_and_void_replay(api: Api, services: Services, acme: dict[str, Any]):
    created = post(api, "/api/v1/invoices", invoice_body(acme["id"]), key="create-1")
    assert created.status_code == 201, created.text
    invoice_id = payload(created)["data"]["id"]
    steps = [
        ("/api/v1/invoices", invoice_body(acme["id"]), "create-1", created),
        (f"/api/v1/invoices/{invoice_id}/send", {"message": "Thanks"}, "send-1", None),
        (f"/api/v1/invoices/{invoice_id}/void", {"reason": "Billed twice"}, "void-1", None),
    ]
    for path, body, key, first in steps:
        first = first or post(api, path, body, key=key)
        assert first.status_code in (200, 201), first.text
        recorded = events(services)
        assert_replay_of(first, post(api, path, body, key=key))
        assert events(services) == recorded
    history = payload(api.get(f"/api/v1/invoices/{invoice_id}/history"))["data"]
    assert [entry["type"] for entry in history] == ["created", "sent", "voided"]
    assert payload(api.get("/api/v1/invoices"))["total"] == 1


def test_a_payment_posted_ten_times_with_one_key_is_recorded_once(
    api: Api, services: Services, sent_invoice: dict[str, Any]
):
    path = f"/api/v1/invoices/{sent_invoice['id']}/payments"
    body = {"amount": 1000.00, "date": "2024-06-15", "method": "bank transfer", "reference": "TX-1001"}
    answers = [post(api, path, body, key="pay-TX-1001") for _ in range(10)]
    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.content for answer in answers}) == 1
    assert [REPLAYED in answer.headers for answer in answers] == [False] + [True] * 9
    assert len(payload(api.get(path))["data"]) == 1
    assert str(api.invoice(sent_invoice["id"])["amountPaid"]) == "1000.00"


def test_without_a_key_a_retry_runs_again(api: Api, sent_invoice: dict[str, Any]):
    path = f"/api/v1/invoices/{sent_invoice['id']}/payments"
    for _ in range(2):
        assert post(api, path, {"amount": 10}, key=None).status_code == 201
    assert len(payload(api.get(path))["data"]) == 2


# --- misuse ----------------------------------------------------------------------------


def test_the_same_key_with_another_body_path_or_method_is_422(api: Api, services: Services, acme: dict[str, Any]):
    first = post(api, "/api/v1/clients", {"name": "Globex"}, key="k")
    assert first.status_code == 201
    recorded = events(services)
    reused = post(api, "/api/v1/clients", {"name": "Initech"}, key="k")
    assert "Idempotency-Key" in assert_error(reused, 422)
    assert reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert_error(post(api, "/api/v1/clients", {"name": "Globex", "email": "a@b.test"}, key="k"), 422)
    assert_error(post(api, "/api/v1/invoices", invoice_body(acme["id"]), key="k"), 422)
    assert_error(post(api, "/api/v1/clients?x=1", {"name": "Globex"}, key="k"), 422)
    assert events(services) == recorded
    # The first answer is still there for the request it belongs to.
    assert_replay_of(first, post(api, "/api/v1/clients", {"name": "Globex"}, key="k"))


def test_a_request_still_in_flight_with_the_key_is_409(api: Api, services: Services, tenant: Tenant, moment):
    body = b'{"name":"Acme Corp"}'
    store = IdempotencyStore(services.projector.writer)
    store.claim(str(tenant.account_id), "busy", "POST /api/v1/clients", hashlib.sha256(body).hexdigest())
    recorded = events(services)
    refused = api.request("POST", "/api/v1/clients", content=body, headers={"Idempotency-Key": "busy"})
    assert "in progress" in assert_error(refused, 409)
    assert refused.json()["code"] == "IDEMPOTENCY_IN_FLIGHT"
    assert refused.headers["retry-after"] == "1"
    assert events(services) == recorded
    # A claim older than any request runs is its holder's no more: its request recorded
    # nothing (tests/integration/test_idempotency_recovery.py has one that did), so it runs now.
    moment[0] += timedelta(minutes=6)
    taken = api.request("POST", "/api/v1/clients", content=body, headers={"Idempotency-Key": "busy"})
    assert taken.status_code == 201, taken.text
    assert events(services) > recorded


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "x" * 256,
        "clé".encode(),  # not ASCII
        b"a\x01b",  # a control character
    ],
)
def test_a_bad_key_is_400_and_nothing_runs(api: Api, services: Services, value: str | bytes):
    recorded = events(services)
    answer = api.http.post(
        "/api/v1/clients",
        content=b'{"name": "Acme Corp"}',
        headers={**api.tenant.headers, "Content-Type": "application/json", "Idempotency-Key": value},
    )
    assert "Idempotency-Key" in assert_error(answer, 400)
    assert events(services) == recorded


def test_the_longest_key_and_one_with_spaces_are_fine(api: Api):
    for key in ("k" * 255, "order 42 / attempt ~1"):
        first = post(api, "/api/v1/clients", {"name": "Acme Corp"}, key=key)
        assert first.status_code == 201, first.text
        assert_replay_of(first, post(api, "/api/v1/clients", {"name": "Acme Corp"}, key=key))


def test_two_keys_in_one_request_are_400(api: Api, services: Services):
    recorded = events(services)
    headers = [*api.tenant.headers.items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    answer = api.http.post("/api/v1/clients", content=b'{"name": "Acme Corp"}', headers=headers)
    assert_error(answer, 400)
    assert events(services) == recorded


def test_other_methods_and_graphql_ignore_the_header(api: Api, services: Services, acme: dict[str, Any]):
    bad = {"Idempotency-Key": ""}
    assert api.request("GET", "/api/v1/clients", headers=bad).status_code == 200
    path = f"/api/v1/clients/{acme['id']}"
    for _ in range(2):
        assert api.request("PATCH", path, {"notes": "again"}, headers={"Idempotency-Key": "same"}).status_code == 200
    assert api.request("DELETE", path, headers=bad).status_code == 204
    query = {"query": "{ clients { total } }"}
    for _ in range(2):
        answered = api.request("POST", "/graphql", query, headers={"Idempotency-Key": "same"})
        assert answered.status_code == 200 and REPLAYED not in answered.headers
    assert stored_keys(services) == 0


def test_an_oversized_body_with_a_key_is_413(make_settings: Callable[..., Settings], clock: FakeClock):
    settings = make_settings(CLEVERINVO_MAX_BODY_BYTES="64")
    services = Services(settings, clock=clock)
    try:
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
            account = services.execute(lambda: services.app.open_account("Seller", "pro"))
            key_id, key = services.execute(lambda: services.app.issue_api_key(account, "tests"))
            api = Api(http, Tenant(account, key_id, key))
            big = {"name": "Acme Corp", "notes": "n" * 100}
            assert_error(post(api, "/api/v1/clients", big), 413)
            chunks = iter([b'{"name": "Acme Corp", ', b'"notes": "' + b"n" * 100 + b'"}'])  # no Content-Length
            streamed = api.request("POST", "/api/v1/clients", content=chunks, headers={"Idempotency-Key": "s"})
            assert_error(streamed, 413)
            assert post(api, "/api/v1/clients", {"name": "Acme Corp"}).status_code == 201
            assert stored_keys(services) == 1
    finally:
        services.close()


# --- what is kept ----------------------------------------------------------------------


def test_a_4xx_answer_is_kept(api: Api, services: Services, acme: dict[str, Any]):
    draft = api.create_invoice(acme["id"])
    path = f"/api/v1/invoices/{draft['id']}/payments"
    refused = post(api, path, {"amount": 100}, key="early")
    assert "DRAFT" in assert_error(refused, 409)
    assert api.post(f"/api/v1/invoices/{draft['id']}/send", {}).status_code == 200
    # It would succeed now, but the key already has its answer.
    assert_replay_of(refused, post(api, path, {"amount": 100}, key="early"))
    assert payload(api.get(path))["data"] == []
    bad = post(api, "/api/v1/clients", {"email": "a@b.test"}, key="no-name")
    assert_replay_of(bad, post(api, "/api/v1/clients", {"email": "a@b.test"}, key="no-name"))


def test_a_5xx_answer_is_not_kept_so_a_retry_runs_again(api: Api, services: Services, monkeypatch: pytest.MonkeyPatch):
    from usecases.clients import Clients

    real = Clients.create
    calls: list[int] = []

    def fails_once(self: Clients, *args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return real(self, *args)

    monkeypatch.setattr(Clients, "create", fails_once)
    body = {"name": "Acme Corp"}
    assert_error(post(api, "/api/v1/clients", body, key="flaky"), 500)
    assert stored_keys(services) == 0
    retried = post(api, "/api/v1/clients", body, key="flaky")
    assert retried.status_code == 201 and REPLAYED not in retried.headers
    assert_replay_of(retried, post(api, "/api/v1/clients", body, key="flaky"))
    assert len(calls) == 2


def test_a_key_survives_a_restart(settings: Settings, clock: FakeClock, api: Api, tenant: Tenant, services: Services):
    body = {"name": "Acme Corp"}
    first = post(api, "/api/v1/clients", body, key="durable")
    assert first.status_code == 201
    recorded = events(services)
    restarted = Services(settings, clock=clock)
    try:
        with TestClient(create_app(settings, restarted), raise_server_exceptions=False) as http:
            again = post(Api(http, tenant), "/api/v1/clients", body, key="durable")
            assert_replay_of(first, again)
            assert events(restarted) == recorded
    finally:
        restarted.close()


def test_a_key_expires_after_24_hours_and_expired_rows_are_purged(api: Api, services: Services, moment):
    body = {"name": "Acme Corp"}
    first = post(api, "/api/v1/clients", body, key="daily")
    assert first.status_code == 201
    assert post(api, "/api/v1/clients", {"name": "Globex"}, key="other").status_code == 201
    moment[0] += timedelta(hours=23, minutes=59)
    assert_replay_of(first, post(api, "/api/v1/clients", body, key="daily"))
    moment[0] += timedelta(minutes=2)
    again = post(api, "/api/v1/clients", body, key="daily")
    assert again.status_code == 201 and REPLAYED not in again.headers
    assert payload(again)["data"]["id"] != payload(first)["data"]["id"]
    assert stored_keys(services) == 1  # "other" expired too and was purged on the way
    assert post(api, "/api/v1/clients", {"name": "Initech"}, key="other").status_code == 201


def test_two_accounts_may_use_the_same_key(http: TestClient, open_tenant: Callable[..., Tenant], services: Services):
    first, second = Api(http, open_tenant(name="First")), Api(http, open_tenant(name="Second"))
    one = post(first, "/api/v1/clients", {"name": "Acme Corp"}, key="shared")
    other = post(second, "/api/v1/clients", {"name": "Acme Corp"}, key="shared")
    assert one.status_code == other.status_code == 201 and REPLAYED not in other.headers
    assert payload(one)["data"]["id"] != payload(other)["data"]["id"]
    # Each account's key answers for its own first request.
    assert_replay_of(one, post(first, "/api/v1/clients", {"name": "Acme Corp"}, key="shared"))
    assert_replay_of(other, post(second, "/api/v1/clients", {"name": "Acme Corp"}, key="shared"))
    assert_error(post(second, "/api/v1/invoices", invoice_body(payload(other)["data"]["id"]), key="shared"), 422)
    assert payload(first.get("/api/v1/clients"))["total"] == payload(second.get("/api/v1/clients"))["total"] == 1


# --- racing duplicates -----------------------------------------------------------------


def race(requests: int, send: Callable[[], httpx.Response]) -> list[httpx.Response]:
    start = threading.Barrier(requests)

    def one(_: int) -> httpx.Response:
        start.wait()
        return send()

    with ThreadPoolExecutor(requests) as pool:
        return list(pool.map(one, range(requests)))


def assert_one_winner(answers: list[httpx.Response], success: int) -> None:
    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) <= {success, 409} and statuses.count(success) >= 1, statuses
    assert len({answer.content for answer in answers if answer.status_code == success}) == 1
    assert sum(REPLAYED not in answer.headers for answer in answers if answer.status_code == success) == 1
    for answer in answers:
        if answer.status_code == 409:
            assert "in progress" in assert_error(answer, 409)


def test_racing_invoice_creations_with_one_key_make_one_invoice(
    api: Api, http: TestClient, open_tenant: Callable[..., Tenant], services: Services, acme: dict[str, Any]
):
    recorded = events(services)
    answers = race(8, lambda: post(api, "/api/v1/invoices", invoice_body(acme["id"]), key="race-create"))
    assert_one_winner(answers, 201)
    listed = payload(api.get("/api/v1/invoices"))
    assert listed["total"] == 1 and listed["data"][0]["invoiceNumber"] == "INV-0001"
    raced = events(services) - recorded
    # Exactly the events of one first invoice, as another account's single creation makes.
    other = Api(http, open_tenant(name="Other"))
    client = other.create_client()
    before = events(services)
    other.create_invoice(client["id"])
    assert raced == events(services) - before


def test_racing_payments_with_one_key_are_recorded_once(api: Api, services: Services, sent_invoice: dict[str, Any]):
    path = f"/api/v1/invoices/{sent_invoice['id']}/payments"
    answers = race(8, lambda: post(api, path, {"amount": 500}, key="race-pay"))
    assert_one_winner(answers, 201)
    assert len(payload(api.get(path))["data"]) == 1
    assert str(api.invoice(sent_invoice["id"])["balanceDue"]) == "5000.00"
    # Once the winner is done, every retry gets its answer.
    winner = next(answer for answer in answers if answer.status_code == 201 and REPLAYED not in answer.headers)
    assert_replay_of(winner, post(api, path, {"amount": 500}, key="race-pay"))


def test_a_write_saved_but_not_yet_readable_is_not_written_again_on_retry(
    api: Api, services: Services, monkeypatch: pytest.MonkeyPatch
):
    def late() -> int:
        raise RuntimeError("the read model is behind")

    monkeypatch.setattr(services.projector, "catch_up", late)
    first = post(api, "/api/v1/clients", {"name": "Acme"})
    # Saved: answered with the write as its events make it, never as an error.
    assert first.status_code == 201 and first.json()["data"]["name"] == "Acme"
    written = events(services)
    again = post(api, "/api/v1/clients", {"name": "Acme"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert events(services) == written  # the retry wrote nothing a second time

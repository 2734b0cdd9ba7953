"""Idempotency keys across a crash, with real processes: a `cleverinvo serve` is SIGKILLed
with keyed writes in flight, between a commit and its answer; a new one answers every
retry with the first outcome or runs it once, and a dead process's in-flight key holds
nobody up: 0 duplicates, no retry kept waiting for 5 s. SQLite and PostgreSQL.

The kill is the server's own (``CLEVERINVO_TEST_KILL_AFTER_KEYED_WRITES``, see
``gateway/http/idempotency.py``): once that many keyed requests have committed, at the very
point between the commit and keeping the answer, so the test does not race the server."""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.http.idempotency import KILL_AFTER_WRITES
from gateway.services import Services
from gateway.settings import Settings
from tests import backends
from tests.conftest import Tenant, invoice_body
from tests.e2e.test_operations import serving, until

KILLED_AFTER = 3  # of 10 keyed writes sent at once
RECOGNISED_WITHIN = 5.0  # seconds: a dead process's key is taken up within this


@dataclass(frozen=True)
class Keyed:
    key: str
    path: str
    body: dict[str, Any]


def open_tenant_in(data: Path, backend_env: dict[str, str]) -> Tenant:
    """An account with its owner and a key, made beforehand as the command line would."""
    services = Services(Settings.from_env({"CLEVERINVO_DATA_DIR": str(data), **backend_env}))
    try:
        account = services.execute(lambda: services.app.open_account("Seller", "pro"))
        services.execute(lambda: services.app.add_owner(account, "owner@seller.test"))
        key_id, key = services.execute(lambda: services.app.issue_api_key(account, "crash"))
        return Tenant(account, key_id, key)
    finally:
        services.close()


def made(base: str, tenant: Tenant, path: str, body: dict[str, Any]) -> str:
    """A record made without a key (which the kill does not count); its id."""
    answer = httpx.post(f"{base}{path}", json=body, headers=tenant.headers, timeout=30)
    assert answer.status_code in (200, 201), answer.text
    return str(answer.json()["data"]["id"])


def writes(client_id: str, invoice_id: str) -> list[Keyed]:
    clients = [Keyed(f"client-{n}", "/clients", {"name": f"Client {n}"}) for n in range(4)]
    invoices = [Keyed(f"invoice-{n}", "/invoices", invoice_body(client_id, notes=f"Invoice {n}")) for n in range(3)]
    payments = [
        Keyed(f"payment-{n}", f"/invoices/{invoice_id}/payments", {"amount": n + 1, "reference": f"TX-{n}"})
        for n in range(3)
    ]
    return [*clients, *invoices, *payments]


def send(base: str, tenant: Tenant, keyed: Keyed) -> httpx.Response | None:
    """The answer, or None when the server died before giving one."""
    try:
        return httpx.post(
            f"{base}{keyed.path}",
            json=keyed.body,
            headers={**tenant.headers, "Idempotency-Key": keyed.key},
            timeout=60,
        )
    except httpx.TransportError:
        return None


def retried(base: str, tenant: Tenant, keyed: Keyed) -> tuple[httpx.Response, float]:
    """The retry's answer once it is not 409 (in flight), and how long that took."""
    started = time.monotonic()
    while True:
        answer = send(base, tenant, keyed)
        assert answer is not None, f"{keyed.key}: the restarted server did not answer"
        waited = time.monotonic() - started
        if answer.status_code != 409:
            return answer, waited
        assert waited < RECOGNISED_WITHIN, f"{keyed.key}: still in flight after {waited:.1f} s: {answer.text}"
        time.sleep(0.05)


def listed(base: str, tenant: Tenant, path: str) -> list[dict[str, Any]]:
    """Every row of a list (clients and invoices: far fewer than a page of 100)."""
    paged = path in ("/clients", "/invoices")
    answer = httpx.get(f"{base}{path}", params={"limit": 100} if paged else {}, headers=tenant.headers, timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert not paged or body["total"] == len(body["data"])
    rows: list[dict[str, Any]] = body["data"]
    return rows


def test_keyed_writes_killed_between_commit_and_answer_are_answered_once_after_a_restart(
    tmp_path: Path, backend_env: dict[str, str]
) -> None:
    tenant = open_tenant_in(tmp_path, backend_env)
    with serving(tmp_path, **{KILL_AFTER_WRITES: str(KILLED_AFTER)}) as doomed:
        base = f"{doomed.url}/api/v1"
        client_id = made(base, tenant, "/clients", {"name": "Acme Corp"})
        invoice_id = made(base, tenant, "/invoices", invoice_body(client_id))
        made(base, tenant, f"/invoices/{invoice_id}/send", {})
        planned = writes(client_id, invoice_id)
        payments_path = f"/invoices/{invoice_id}/payments"
        with ThreadPoolExecutor(len(planned)) as pool:
            first = dict(zip((k.key for k in planned), pool.map(lambda k: send(base, tenant, k), planned), strict=True))
        assert doomed.process.wait(30) == -9, doomed.text()  # it killed itself, as asked
    answered = {key: answer for key, answer in first.items() if answer is not None}
    assert all(answer.status_code in (200, 201) for answer in answered.values())
    assert len(answered) < KILLED_AFTER  # the last of them, at least, died with its answer

    with serving(tmp_path) as restarted:
        base = f"{restarted.url}/api/v1"
        clients_before = listed(base, tenant, "/clients")
        invoices_before = listed(base, tenant, "/invoices")
        payments_before = listed(base, tenant, payments_path)
        committed = len(clients_before) - 1 + len(invoices_before) - 1 + len(payments_before)
        assert committed >= KILLED_AFTER, "the kill came after that many commits"

        with ThreadPoolExecutor(len(planned)) as pool:
            again = dict(
                zip((k.key for k in planned), pool.map(lambda k: retried(base, tenant, k), planned), strict=True)
            )
        for key, (answer, waited) in again.items():
            assert answer.status_code in (200, 201), f"{key}: {answer.text}"
            assert waited < RECOGNISED_WITHIN
            if key in answered:  # answered before the kill: the same answer again
                assert answer.content == answered[key].content and answer.headers["idempotent-replayed"] == "true"

        # Each planned write took effect exactly once, and each retry names that one.
        clients = listed(base, tenant, "/clients")
        names = sorted(c["name"] for c in clients)
        assert names == ["Acme Corp", *(f"Client {n}" for n in range(4))], names
        by_name = {c["name"]: c["id"] for c in clients}
        for n in range(4):
            assert again[f"client-{n}"][0].json()["data"]["id"] == by_name[f"Client {n}"]
        invoices = listed(base, tenant, "/invoices")
        assert len(invoices) == 4
        created = {again[f"invoice-{n}"][0].json()["data"]["id"] for n in range(3)}
        assert created | {invoice_id} == {i["id"] for i in invoices}
        payments = listed(base, tenant, payments_path)
        assert sorted(Decimal(str(p["amount"])) for p in payments) == [Decimal(1), Decimal(2), Decimal(3)]
        assert {again[f"payment-{n}"][0].json()["data"]["id"] for n in range(3)} == {p["id"] for p in payments}

        # Those committed before the kill were not run again: answered from their events.
        before = (
            {c["id"] for c in clients_before} | {i["id"] for i in invoices_before} | {p["id"] for p in payments_before}
        )
        recovered = [key for key, (answer, _) in again.items() if answer.json()["data"]["id"] in before]
        assert len(recovered) == committed
        assert all(again[key][0].headers["idempotent-replayed"] == "true" for key in recovered)
        until(lambda: "took effect" in restarted.text(), 5, "the recovery to be logged")


@pytest.mark.postgres
def test_an_api_process_killed_after_its_commit_is_recovered_by_its_sibling_at_once(tmp_path: Path) -> None:
    """`serve --workers 2` on PostgreSQL: the process that committed dies (its supervisor
    starts another); the retry, whichever process takes it, answers from the events."""
    from tests.e2e.test_scaleout import Cluster, opened, tenant
    from tests.e2e.test_scaleout import serving as serving_processes

    with backends.postgres_env() as env:
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        env = {**env, "CLEVERINVO_DATA_DIR": str(data_dir), KILL_AFTER_WRITES: "1"}
        cluster = Cluster(env, data_dir, Settings.from_env(env))
        with opened(cluster) as services:
            headers = tenant(services, "pro")
        with serving_processes(cluster, "--workers", "2") as server:
            base = f"{server.url}/api/v1"
            keyed = {**headers, "Idempotency-Key": "sibling"}
            with pytest.raises(httpx.TransportError):  # its process died between the commit and the answer
                httpx.post(f"{base}/clients", json={"name": "Acme Corp"}, headers=keyed, timeout=60)
            started = time.monotonic()
            while True:
                again = httpx.post(f"{base}/clients", json={"name": "Acme Corp"}, headers=keyed, timeout=60)
                if again.status_code != 409:
                    break
                assert time.monotonic() - started < RECOGNISED_WITHIN, again.text
                time.sleep(0.05)
            assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true", again.text
            listed = httpx.get(f"{base}/clients", headers=headers, timeout=30).json()
            assert [c["id"] for c in listed["data"]] == [again.json()["data"]["id"]]

"""A full disk, for real: the data directory of a `cleverinvo serve` on a small tmpfs,
filled to the last byte while the server runs.

Writes answer 507 STORAGE_FULL with Retry-After and a message saying nothing was saved, and
nothing is saved; reads (the feed and a PDF included) keep answering, and at once; freeing
the space makes writes work again without a restart, a keyed write's retry included."""

import os
from pathlib import Path
from typing import Any

import httpx

from gateway.http import codes
from tests.conftest import invoice_body
from tests.e2e.test_operations import open_tenant_in, until
from tests.fault_support import fill, need_root_mount, serving_outside, tmpfs

RELAXED = {"CLEVERINVO_RATE_LIMIT": "100000/minute", "CLEVERINVO_ADDRESS_RATE_LIMIT": "100000/minute"}


def assert_storage_full(answer: httpx.Response) -> None:
    assert answer.status_code == 507, (answer.status_code, answer.text[:300])
    body = answer.json()
    assert body["code"] == codes.STORAGE_FULL, body
    assert "storage is full" in body["error"] and "nothing was saved" in body["error"], body
    assert int(answer.headers["retry-after"]) > 0
    assert answer.headers["write-saved"] == "false"


def test_a_full_disk_refuses_writes_with_507_and_keeps_serving_reads(tmp_path: Path) -> None:
    need_root_mount()
    logs = tmp_path / "logs"
    logs.mkdir()
    with tmpfs(tmp_path / "data", 40) as data:
        tenant = open_tenant_in(data)
        with serving_outside(data, logs, **RELAXED) as server:
            api, headers = f"{server.url}/api/v1", tenant.headers

            def post(path: str, body: dict[str, Any], **extra: str) -> httpx.Response:
                return httpx.post(f"{api}{path}", json=body, headers={**headers, **extra}, timeout=60)

            def get(path: str) -> httpx.Response:
                return httpx.get(f"{api}{path}", headers=headers, timeout=60)

            client = post("/clients", {"name": "Before"}).json()["data"]["id"]
            invoice = post("/invoices", invoice_body(client)).json()["data"]["id"]
            assert post(f"/invoices/{invoice}/send", {}).status_code == 200
            clients_before = get("/clients").json()["total"]
            invoice_before = get(f"/invoices/{invoice}").json()
            feed_before = get("/events?limit=500").json()["data"]

            filler = fill(data)
            assert_storage_full(post("/clients", {"name": "Refused"}))
            assert_storage_full(post("/invoices", invoice_body(client)))
            assert_storage_full(post(f"/invoices/{invoice}/payments", {"amount": 1}))
            assert_storage_full(post("/clients", {"name": "Keyed"}, **{"Idempotency-Key": "full-1"}))
            # Its retry is refused alike: the key is not left "in progress" (409).
            assert_storage_full(post("/clients", {"name": "Keyed"}, **{"Idempotency-Key": "full-1"}))

            # Reads keep working, and nothing changed.
            listed = get("/clients")
            assert listed.status_code == 200 and listed.json()["total"] == clients_before
            assert get(f"/invoices/{invoice}").json() == invoice_before
            feed = get("/events?limit=500")
            assert feed.status_code == 200, feed.text[:300]
            assert feed.json()["data"][: len(feed_before)] == feed_before
            pdf = get(f"/invoices/{invoice}/pdf")  # answers (the client's 60 s timeout is no bound)
            if pdf.status_code == 200:
                assert pdf.content.startswith(b"%PDF-")
            else:
                assert pdf.status_code in (503, 507) and "retry-after" in pdf.headers, pdf.text[:300]

            # Space freed: writes work again, without a restart; the keyed write runs once.
            os.remove(filler)
            until(lambda: post("/clients", {"name": "After"}).status_code == 201, 60, "a write after freeing space")
            first = post("/clients", {"name": "Keyed"}, **{"Idempotency-Key": "full-1"})
            assert first.status_code == 201, first.text[:300]
            again = post("/clients", {"name": "Keyed"}, **{"Idempotency-Key": "full-1"})
            assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true"
            assert again.json() == first.json()
            names = [row["name"] for row in get("/clients?limit=100").json()["data"]]
            assert sorted(names) == ["After", "Before", "Keyed"]
            assert server.process.poll() is None

"""Idempotency keys through real faults, at the worst moment: a keyed write committed, and
then the disk fills or the database goes before its answer is kept; or the connection dies
during the very COMMIT of its events. A saved write is never answered as a plain error, its
key is never left "in progress", and the keyed retry returns the first outcome or runs it
once: exactly one write, also after a restart.

The moment is the server's own: ``CLEVERINVO_TEST_KEYED_WRITE_GATE`` holds a keyed request
after its commit and before its answer is kept (``gateway/http/idempotency.py``); the COMMIT
cut is the proxy's (``tests/db_proxy.py``: ``cut_at_commit``)."""

import os
import threading
from pathlib import Path
from typing import Any

import httpx

from gateway.http import codes
from gateway.http.idempotency import WRITE_GATE
from tests import backends
from tests.conftest import Tenant
from tests.db_proxy import DbProxy
from tests.e2e.test_database_outage import through
from tests.e2e.test_idempotency_crash import open_tenant_in
from tests.e2e.test_operations import until
from tests.fault_support import fill, need_root_mount, serving_outside, tmpfs

RELAXED = {"CLEVERINVO_RATE_LIMIT": "100000/minute", "CLEVERINVO_ADDRESS_RATE_LIMIT": "100000/minute"}
FINISHED = "is finished now"  # gateway/http/unsettled.py's word once a record is kept after all


def keyed(base: str, tenant: Tenant, key: str, name: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/clients",
        json={"name": name},
        headers={**tenant.headers, "Idempotency-Key": key},
        timeout=60,
    )


def in_background(call: Any) -> tuple[threading.Thread, list[httpx.Response]]:
    answers: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answers.append(call()))
    thread.start()
    return thread, answers


def named(base: str, tenant: Tenant, name: str) -> int:
    page = httpx.get(f"{base}/api/v1/clients?limit=100&search={name}", headers=tenant.headers, timeout=60).json()
    return sum(1 for client in page["data"] if client["name"] == name)


def test_a_write_whose_answer_cannot_be_kept_on_a_full_disk_is_answered_and_replayed(tmp_path: Path) -> None:
    need_root_mount()
    logs, gate = tmp_path / "logs", tmp_path / "gate"
    logs.mkdir()
    gate.mkdir()
    with tmpfs(tmp_path / "data", 40) as data:
        tenant = open_tenant_in(data, {})
        with serving_outside(data, logs, **RELAXED, **{WRITE_GATE: str(gate)}) as server:
            thread, answers = in_background(lambda: keyed(server.url, tenant, "disk-1", "Held"))
            until(lambda: (gate / "held-1").exists(), 60, "the keyed write to commit")
            filler = fill(data)
            (gate / "open").touch()
            thread.join(timeout=120)
            first = answers[0]
            assert first.status_code == 201, first.text[:300]  # saved, and said so
            # The key is not "in progress": its retry gets the first answer, disk still full.
            again = keyed(server.url, tenant, "disk-1", "Held")
            assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true", again.text
            assert again.json() == first.json()
            os.remove(filler)
            until(lambda: FINISHED in server.text(), 60, "the answer to be kept once space is free")
        with serving_outside(data, logs, **RELAXED) as restarted:  # the kept answer is the store's
            after = keyed(restarted.url, tenant, "disk-1", "Held")
            assert after.status_code == 201 and after.headers.get("idempotent-replayed") == "true", after.text
            assert after.json() == first.json()
            assert named(restarted.url, tenant, "Held") == 1


def test_a_write_whose_answer_cannot_be_kept_while_the_database_is_gone_is_replayed(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.mkdir()
    with backends.postgres_env() as pg, DbProxy() as proxy:
        env = through(proxy, pg)
        tenant = open_tenant_in(tmp_path, env)
        with serving_outside(tmp_path, tmp_path, **env, **{WRITE_GATE: str(gate)}) as server:
            thread, answers = in_background(lambda: keyed(server.url, tenant, "db-1", "Held"))
            until(lambda: (gate / "held-1").exists(), 60, "the keyed write to commit")
            proxy.cut()
            (gate / "open").touch()
            thread.join(timeout=120)
            first = answers[0]
            assert first.status_code == 201, first.text[:300]
            during = keyed(server.url, tenant, "db-1", "Held")  # the key's lookup needs the database
            assert during.status_code == 201 or (during.status_code == 503 and "retry-after" in during.headers)
            proxy.restore()
            again = keyed(server.url, tenant, "db-1", "Held")
            assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true", again.text
            assert again.json() == first.json()
            until(lambda: FINISHED in server.text(), 60, "the answer to be kept once the database is back")
        with serving_outside(tmp_path, tmp_path, **env) as restarted:
            after = keyed(restarted.url, tenant, "db-1", "Held")
            assert after.status_code == 201 and after.headers.get("idempotent-replayed") == "true", after.text
            assert after.json() == first.json()
            assert named(restarted.url, tenant, "Held") == 1


def test_a_commit_whose_answer_is_lost_is_answered_unknown_and_settled_by_the_keyed_retry(tmp_path: Path) -> None:
    with backends.postgres_env() as pg, DbProxy() as proxy:
        env = through(proxy, pg)
        tenant = open_tenant_in(tmp_path, env)
        with serving_outside(tmp_path, tmp_path, **env) as server:
            assert keyed(server.url, tenant, "warm-up", "Warm").status_code == 201
            proxy.cut_at_commit(b"INSERT", b"cleverinvo_events")
            first = keyed(server.url, tenant, "commit-1", "Committed")
            assert proxy.cut_done.is_set()  # its events' COMMIT reached the server, its answer did not
            assert first.status_code == 503, first.text[:300]
            body = first.json()
            assert body["code"] == codes.DATABASE_UNAVAILABLE and "unknown" in body["error"], body
            assert first.headers["write-saved"] == "unknown" and "retry-after" in first.headers
            proxy.restore()
            retry = keyed(server.url, tenant, "commit-1", "Committed")
            assert retry.status_code == 201, retry.text[:300]  # the first run's outcome, rebuilt
            again = keyed(server.url, tenant, "commit-1", "Committed")
            assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true"
            assert again.json() == retry.json()
            until(lambda: named(server.url, tenant, "Committed") >= 1, 60, "the read model to catch up")
            assert named(server.url, tenant, "Committed") == 1  # exactly one write

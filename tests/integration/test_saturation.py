"""When no database connection is free in time (issue 16, defect 6: eventsourcing's pool
raised ConnectionUnavailableError under sustained writes), both doors answer "busy, retry"
(503 with Retry-After, or UNAVAILABLE), never a 500, and nothing is written."""

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from anyio import to_thread
from eventsourcing.persistence import ConnectionUnavailableError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from gateway.http import capacity
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api, TestClient, assert_error
from tests.graphql_support import error

SATURATIONS = [
    ConnectionUnavailableError("Timed out waiting for connection pool semaphore"),
    PoolTimeout("QueuePool limit of size 5 overflow 10 reached"),
]


@pytest.mark.parametrize("fault", SATURATIONS, ids=["event-store", "read-model"])
def test_a_saturated_store_is_busy_not_broken(api: Api, services: Services, monkeypatch: pytest.MonkeyPatch, fault):
    def saturated(*_args: Any) -> Any:
        raise fault

    monkeypatch.setattr("usecases.clients.Clients.create", saturated)
    monkeypatch.setattr("usecases.clients.Clients.list", saturated)
    before = services.app.recorder.max_notification_id()
    response = api.post("/api/v1/clients", {"name": "Acme"})
    assert assert_error(response, 503) == "The service is busy; retry shortly"
    assert response.headers["retry-after"] == "1" and "write-saved" not in response.headers
    assert assert_error(api.get("/api/v1/clients"), 503) == "The service is busy; retry shortly"
    assert error(api, "{ clients { total } }") == ("UNAVAILABLE", "The service is busy; retry shortly")
    assert error(api, 'mutation { createClient(input: {name: "A"}) { id } }')[0] == "UNAVAILABLE"
    assert services.app.recorder.max_notification_id() == before


# --- sized together: threads, pools and waits (defect 6) ---------------------------------


@pytest.mark.sqlite_only("checks the SQLite event store's pool (PostgreSQL's psycopg pool has its own sizes)")
def test_request_threads_never_outnumber_the_connections(http: TestClient, services: Services):
    """Before: 40 request threads shared the event store's 15 connections."""
    threads = http.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens)  # type: ignore[union-attr]
    pool = services.app.recorder.datastore.pool  # type: ignore[attr-defined]
    assert threads == capacity.connections(services.app, [services._writer, services._reader])
    assert threads <= pool.pool_size + pool.max_overflow
    assert pool.pool_timeout == 30  # as long as SQLite's own lock wait, not the stock 5 s


@pytest.mark.sqlite_only("holds the database's write lock through the sqlite3 module")
def test_a_write_lock_held_for_seconds_delays_writes_and_fails_none(api: Api, services: Services, settings: Settings):
    """Another process holding the event store's write lock longer than the stock 5 s pool
    wait (a long import, a slow disk, a pause) once turned every queued write into an error;
    now they wait their turn and all succeed, each exactly once."""
    blocker = sqlite3.connect(settings.data_dir / "readmodels.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with ThreadPoolExecutor(12) as pool:
            sent = [pool.submit(api.post, "/api/v1/clients", {"name": f"Client {i}"}) for i in range(12)]
            time.sleep(6.5)
            blocker.execute("COMMIT")
            statuses = [future.result().status_code for future in sent]
    finally:
        blocker.close()
    assert statuses == [201] * 12
    assert api.get("/api/v1/clients", limit="100").json()["total"] == 12

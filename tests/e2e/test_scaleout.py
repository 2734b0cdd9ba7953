"""Scale-out on PostgreSQL + Redis with real, separate processes: `cleverinvo serve
--workers 4`, or several `cleverinvo serve` processes on their own loopback ports, sharing
one database schema and one Redis prefix (tests/backends.py)."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, text

from domain.application import CleverInvo
from gateway.services import Services
from gateway.settings import Settings
from projections.tables import READ_MODEL_TABLES, tracking
from tests import backends

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


def until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    output: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def wait_healthy(self) -> None:
        def healthy() -> bool:
            assert self.process.poll() is None, self.text()
            try:
                return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        until(healthy, 90, "the server to start")

    def children(self) -> list[int]:
        """The API processes uvicorn's supervisor spawned (not the `cleverinvo workers` child)."""
        found = []
        for pid in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split():
            with contextlib.suppress(FileNotFoundError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():  # not its resource tracker
                    found.append(int(pid))
        return found


@dataclass(frozen=True)
class Cluster:
    env: dict[str, str]
    data_dir: Path
    settings: Settings


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A PostgreSQL schema and Redis prefix of the test's own, as the servers' environment."""
    with backends.postgres_env() as env:
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        env = {**env, "CLEVERINVO_DATA_DIR": str(data_dir)}
        yield Cluster(env, data_dir, Settings.from_env(env))


@contextlib.contextmanager
def serving(cluster: Cluster, *args: str) -> Iterator[Server]:
    """`cleverinvo serve ARGS` on a free port until the block ends."""
    with launched(cluster, *args) as server:
        server.wait_healthy()
        yield server


@contextlib.contextmanager
def launched(cluster: Cluster, *args: str) -> Iterator[Server]:
    """`cleverinvo serve ARGS` started (not yet serving, perhaps) until the block ends."""
    port = free_port()
    output = cluster.data_dir / f"serve-{port}.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "serve", "--no-workers", "--port", str(port), *args],
            cwd=ROOT,
            env={**os.environ, **cluster.env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, output)
    try:
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait()


@contextlib.contextmanager
def opened(cluster: Cluster) -> Iterator[Services]:
    services = Services(cluster.settings)
    try:
        yield services
    finally:
        services.close()


def tenant(services: Services, plan: str) -> dict[str, str]:
    account = services.execute(lambda: services.app.open_account("Seller", plan))
    _, key = services.execute(lambda: services.app.issue_api_key(account, "scale"))
    return {"Authorization": f"Bearer {key}"}


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Runs the calls from as many threads, released together."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_racing_creates_for_the_last_slots_of_a_plan_let_exactly_the_limit_through(cluster: Cluster) -> None:
    with opened(cluster) as services:
        headers = tenant(services, "free")  # 5 active clients
    with serving(cluster, "--workers", "4") as server:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as warm:
            assert warm.get("/api/v1/clients").status_code == 200

        def create(number: int) -> httpx.Response:
            with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:  # a connection each
                return http.post("/api/v1/clients", json={"name": f"Client {number}"})

        answers = at_once([partial(create, n) for n in range(16)])
        created = [a.json()["data"]["id"] for a in answers if a.status_code == 201]
        assert sorted(a.status_code for a in answers) == [201] * 5 + [403] * 11, [a.text for a in answers]
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            listed = http.get("/api/v1/clients", params={"limit": "100"}).json()
    assert listed["total"] == 5 and sorted(c["id"] for c in listed["data"]) == sorted(created)


def test_two_workers_updating_one_draft_lose_no_update(cluster: Cluster) -> None:
    with opened(cluster) as services:
        headers = tenant(services, "pro")
    with serving(cluster, "--workers", "4") as server:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            client = http.post("/api/v1/clients", json={"name": "Acme"}).json()["data"]
            body = {"clientId": client["id"], "lineItems": [{"description": "Work", "quantity": 1, "unitPrice": 10}]}
            invoice = http.post("/api/v1/invoices", json=body).json()["data"]
        path = f"/api/v1/invoices/{invoice['id']}"

        def patch(field: str, value: str) -> httpx.Response:
            with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
                return http.patch(path, json={field: value})

        applied = 0
        for round_ in range(8):
            answers = at_once([partial(patch, "notes", f"notes {round_}"), partial(patch, "terms", f"terms {round_}")])
            assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
            with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
                now = http.get(path).json()["data"]
            notes_ok, terms_ok = (a.status_code == 200 for a in answers)
            # what was accepted is there, whichever process answered it or reads it now
            assert not notes_ok or now["notes"] == f"notes {round_}"
            assert not terms_ok or now["terms"] == f"terms {round_}"
            applied += notes_ok + terms_ok
    with opened(cluster) as services:  # and each accepted update is one event on the draft
        stored = services.app.repository.get(invoice_id_of(invoice))
        assert stored.version == 1 + applied


def invoice_id_of(invoice: dict[str, Any]) -> Any:
    from uuid import UUID

    return UUID(invoice["id"])


def test_the_121st_request_of_a_minute_spread_over_four_processes_is_refused(cluster: Cluster) -> None:
    with opened(cluster) as services:
        headers = tenant(services, "pro")
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(serving(cluster)) for _ in range(4)]
        clients = [stack.enter_context(httpx.Client(base_url=s.url, headers=headers, timeout=60)) for s in servers]
        answers = [clients[n % 4].get("/api/v1/clients") for n in range(120)]
        assert [a.status_code for a in answers] == [200] * 120
        assert answers[-1].headers["RateLimit-Remaining"] == "0"
        refused = [client.get("/api/v1/clients") for client in clients]  # the 121st, on every process
    assert [a.status_code for a in refused] == [429] * 4
    assert all(int(a.headers["Retry-After"]) >= 1 for a in refused)


def read_model(engine: Engine, app_name: str) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        rows = {
            table.name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))]
            for table in READ_MODEL_TABLES
        }
        position = select(tracking.c.notification_id).where(tracking.c.application_name == app_name)
        rows[tracking.name] = [tuple(row) for row in conn.execute(position)]
    return rows


def test_a_worker_killed_mid_batch_and_restarted_ends_equal_to_a_full_rebuild(cluster: Cluster) -> None:
    with opened(cluster) as services:
        account = services.execute(lambda: services.app.open_account("Seller", "business"))
        held = services.execute(lambda: services.app.create_client(account, {"name": "Held"}))
        engine = services.projector.writer
        # Written straight to the store by an application nobody wired to the read model (a
        # wired one applies its rows in its own transaction): only the servers project them.
        app = CleverInvo(services.settings.event_store_env())
        with serving(cluster, "--workers", "4") as server, engine.connect() as lock:
            transaction = lock.begin()
            # The read model's row of one client is locked: the process applying the batch
            # that updates it stops there, in the middle of its transaction.
            lock.execute(text("SELECT id FROM clients WHERE id = :id FOR UPDATE"), {"id": str(held)})
            for n in range(150):
                app.create_client(account, {"name": f"Before {n}"})
            app.update_client(account, held, {"name": "Held, renamed"})
            for n in range(300):
                app.create_client(account, {"name": f"After {n}"})
            latest = app.recorder.max_notification_id()

            holder = int(lock.execute(text("SELECT pg_backend_pid()")).scalar_one())

            def blocked() -> bool:
                with engine.connect() as conn:
                    # waiting on this test's lock: other tests' processes share the database
                    query = (
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE :holder = ANY(pg_blocking_pids(pid)) AND query LIKE 'UPDATE clients%'"
                    )
                    return int(conn.execute(text(query), {"holder": holder}).scalar_one()) > 0

            until(blocked, 60, "a process to block in the middle of its batch")
            killed = server.children()
            assert len(killed) == 4
            for pid in killed:
                os.kill(pid, signal.SIGKILL)
            # A backend waiting on a lock notices its client is gone only once it gets the
            # lock: then its transaction fails and rolls back, having committed nothing.
            transaction.rollback()

            def caught_up() -> bool:
                with engine.connect() as conn:
                    position = select(tracking.c.notification_id).where(tracking.c.application_name == app.name)
                    return conn.execute(position).scalar_one() == latest

            until(lambda: len(set(server.children()) - set(killed)) == 4, 90, "uvicorn to restart the processes")
            until(caught_up, 90, "the restarted processes to catch up")
            assert "died" in server.text()
            live = read_model(engine, app.name)
        app.close()
        services.projector.rebuild()
        assert read_model(engine, app.name) == live
        assert [row[2] for row in live["clients"] if row[0] == str(held)] == ["Held, renamed"]


def test_two_hosts_starting_at_once_on_a_new_database_open_one_default_account(cluster: Cluster) -> None:
    with launched(cluster) as first, launched(cluster) as second:
        first.wait_healthy()
        second.wait_healthy()
        outputs = first.text() + second.text()
    assert outputs.count("Created a default account") == 1, outputs
    with opened(cluster) as services:
        assert len(services.read.accounts()) == 1

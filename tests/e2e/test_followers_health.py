"""Issue 24, item 4: serve supervises its worker child, and health tells liveness from
readiness: each follower's position and lag, the worker child, integrity failures.

The supervision is tested on a real `cleverinvo serve` whose child is SIGKILLed; the answer's
shape in-process, on both backends."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain import integrity
from followers import runner as workers
from followers.runner import WorkerSupervisor
from gateway.services import Services
from tests.conftest import Api, Tenant, TestClient, payload
from tests.e2e.test_operations import free_port, json_lines, open_tenant_in

ROOT = Path(__file__).resolve().parents[2]
FOLLOWERS = ["readModel", "pdfRendering", "emailDelivery", "ledgerDigest", "overdueSweep"]


def until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Waits for ``condition``, at most ``seconds`` (a bound, not a pace)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# --- the answer, in-process ---------------------------------------------------------------------


def test_health_stays_ok_for_liveness_and_names_every_follower_and_its_lag(
    http: TestClient, api: Api, services: Services
) -> None:
    api.create_client(name="Acme")
    answer = payload(http.get("/healthz"))
    assert answer["status"] == "ok"  # liveness, as it always was
    assert answer["database"] == {"ok": True}
    head = services.app.recorder.max_notification_id()
    assert answer["head"] == head and head
    followers = {follower["name"]: follower for follower in answer["followers"]}
    assert list(followers) == FOLLOWERS
    assert followers["readModel"] == {"name": "readModel", "position": head, "behind": 0}
    # No worker ran here: the PDF and email followers have not moved, and health says by how much.
    assert followers["pdfRendering"]["behind"] == head - followers["pdfRendering"]["position"] > 0
    assert followers["overdueSweep"] == {"name": "overdueSweep", "pending": 0}
    assert answer["workers"] == {"supervised": False}  # no serve here: nothing supervised
    assert answer["integrity"] == {"ok": True, "failures": []}
    assert answer["ready"] is True and answer["failing"] == []
    services.pdf_worker().run_once(budget_seconds=60)
    services.email_worker().run_once()
    followers = {follower["name"]: follower for follower in payload(http.get("/healthz"))["followers"]}
    assert followers["pdfRendering"]["behind"] == followers["emailDelivery"]["behind"] == 0


def test_health_shows_the_streams_that_failed_to_verify(http: TestClient) -> None:
    integrity.forget_all()
    try:
        integrity.record_failure("6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11", "the seal of version 3 does not verify")
        answer = payload(http.get("/healthz"))
    finally:
        integrity.forget_all()
    assert answer["status"] == "ok"
    [failure] = answer["integrity"]["failures"]
    assert answer["integrity"]["ok"] is False
    assert failure["stream"] == "6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"
    assert failure["reason"] == "the seal of version 3 does not verify" and failure["at"]


def test_a_follower_far_behind_makes_the_service_not_ready(
    http: TestClient, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gateway.http.health.MAX_LAG", 1)
    client = api.create_client(name="Acme")
    api.create_invoice(client["id"])
    answer = payload(http.get("/healthz"))
    assert (answer["status"], answer["ready"]) == ("ok", False)
    assert "follower:pdfRendering" in answer["failing"] and "follower:readModel" not in answer["failing"]


# --- the supervisor, with a stand-in child -------------------------------------------------------


def test_a_dead_child_shows_as_down_until_its_restart_and_stop_ends_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "RESTART_FIRST_SECONDS", 3600.0)  # it stays down: the test looks at that
    supervisor = WorkerSupervisor([sys.executable, "-c", "import time; time.sleep(3600)"])
    supervisor.start()
    try:
        first = supervisor.state()
        assert first.alive and first.pid and first.restarts == 0
        os.kill(first.pid, signal.SIGKILL)
        until(lambda: supervisor.state().last_exit is not None, 30, "the supervisor to see the death")
        down = supervisor.state()
        assert (down.alive, down.last_exit, down.restarts) == (False, -signal.SIGKILL, 0)
    finally:
        supervisor.stop()  # wakes the backoff: no restart, no hour-long wait
    assert supervisor.state().restarts == 0


def test_the_backoff_doubles_while_the_child_keeps_dying(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(workers, "RESTART_FIRST_SECONDS", 0.01)
    caplog.set_level("INFO", logger="cleverinvo.workers")
    supervisor = WorkerSupervisor([sys.executable, "-c", "raise SystemExit(3)"])
    supervisor.start()
    try:
        until(lambda: supervisor.state().restarts >= 3, 60, "three restarts")
    finally:
        supervisor.stop()
    delays = [r.fields["restartIn"] for r in caplog.records if r.getMessage().startswith("workers exited")][:3]
    assert delays == [0.01, 0.02, 0.04]
    assert all(r.fields["exitCode"] == 3 for r in caplog.records if r.getMessage().startswith("workers exited"))


# --- a real serve and its real child -------------------------------------------------------------


@contextlib.contextmanager
def serve_with_workers(data: Path, *options: str) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    port = free_port()
    output = data / f"serve-{port}.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "serve", "--port", str(port), *options],
            cwd=ROOT,
            env={**os.environ, "CLEVERINVO_DATA_DIR": str(data)},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        until(lambda: _health(url, process, output) is not None, 60, "the server to start")
        yield process, url, output
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def _health(url: str, process: subprocess.Popen[bytes], output: Path) -> dict[str, Any] | None:
    assert process.poll() is None, output.read_text(errors="replace")
    try:
        response = httpx.get(f"{url}/healthz", timeout=5)
    except httpx.HTTPError:
        return None
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def _children(pid: int) -> list[int]:
    """The children of every thread of ``pid`` (the supervisor starts a child from its own)."""
    return sorted(
        int(child) for task in Path(f"/proc/{pid}/task").iterdir() for child in (task / "children").read_text().split()
    )


def test_serve_restarts_a_killed_worker_child_within_five_seconds_and_health_shows_it(tmp_path: Path) -> None:
    tenant: Tenant = open_tenant_in(tmp_path)
    with serve_with_workers(tmp_path) as (serve, url, output):

        def health() -> dict[str, Any]:
            answer = _health(url, serve, output)
            assert answer is not None
            return answer

        until(lambda: health()["workers"].get("alive") is True, 30, "the worker child")
        before = health()["workers"]
        assert before["supervised"] is True and before["restarts"] == 0 and before["lastExitCode"] is None
        assert _children(serve.pid) == [before["pid"]]

        os.kill(before["pid"], signal.SIGKILL)
        killed = time.monotonic()

        def restarted() -> bool:
            now = health()["workers"]
            return now["alive"] is True and now["pid"] != before["pid"]

        until(restarted, 5, "the worker child to be started again")  # the bound: 5 s from the kill
        assert time.monotonic() - killed < 5
        after = health()["workers"]
        assert (after["restarts"], after["lastExitCode"]) == (1, -signal.SIGKILL)  # it was down, and why
        assert _children(serve.pid) == [after["pid"]]

        # The new child works: an invoice written now is rendered, and the follower catches up.
        headers = tenant.headers
        client = httpx.post(f"{url}/api/v1/clients", json={"name": "Acme"}, headers=headers).json()["data"]
        body = {"clientId": client["id"], "lineItems": [{"description": "Work", "quantity": 1, "unitPrice": 10}]}
        assert httpx.post(f"{url}/api/v1/invoices", json=body, headers=headers).status_code == 201

        def rendered() -> bool:
            followers = {f["name"]: f for f in health()["followers"]}
            return followers["pdfRendering"]["behind"] == 0 and health()["head"] > 0

        until(rendered, 60, "the restarted child to follow the store")

        serve.send_signal(signal.SIGTERM)
        assert serve.wait(30) == 0
        assert (
            not Path(f"/proc/{after['pid']}").exists() or "zombie" in Path(f"/proc/{after['pid']}/status").read_text()
        )

    lines = [line for line in json_lines(output.read_text()) if line.get("logger") == "cleverinvo.workers"]
    died = [line for line in lines if line["message"].startswith("workers exited")]
    again = [line for line in lines if line["message"] == "workers restarted"]
    assert [(d["pid"], d["exitCode"]) for d in died] == [(before["pid"], -signal.SIGKILL)]
    assert [(a["pid"], a["restarts"]) for a in again] == [(after["pid"], 1)]


def test_serve_in_several_processes_reports_its_worker_child_from_each_of_them(tmp_path: Path) -> None:
    open_tenant_in(tmp_path)
    with serve_with_workers(tmp_path, "--workers", "2") as (serve, url, output):

        def workers_seen() -> dict[str, Any]:
            answer = _health(url, serve, output)
            assert answer is not None
            seen: dict[str, Any] = answer["workers"]
            return seen

        until(lambda: workers_seen().get("alive") is True, 60, "the worker child, seen by an API process")
        before = workers_seen()
        assert before["supervised"] is True and before["pid"] in _children(serve.pid)
        os.kill(before["pid"], signal.SIGKILL)

        def restarted() -> bool:
            now = workers_seen()
            return now["alive"] is True and now["pid"] != before["pid"]

        until(restarted, 5, "the worker child to be started again")
        assert workers_seen()["pid"] in _children(serve.pid)
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(30) == 0


def test_a_child_that_cannot_be_started_again_is_retried_not_given_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(workers, "RESTART_FIRST_SECONDS", 0.01)
    caplog.set_level("INFO", logger="cleverinvo.workers")
    leave = tmp_path / "leave"  # the first child runs until this file appears
    waits = f"import os, time\nwhile not os.path.exists({str(leave)!r}): time.sleep(0.02)"
    supervisor = WorkerSupervisor([sys.executable, "-c", waits])
    supervisor.start()
    try:
        supervisor.command = [str(tmp_path / "no-such-program")]  # every start from now on fails
        leave.touch()
        until(lambda: "could not be started again" in caplog.text, 30, "a failed start to be logged")
        assert not supervisor.state().alive
        supervisor.command = [sys.executable, "-c", "import time; time.sleep(3600)"]
        until(lambda: supervisor.state().alive, 60, "a start that works")
        assert supervisor.state().restarts == 1
    finally:
        supervisor.stop()

"""Readiness follows Redis: a real redis-server of the test's own on a free loopback port,
frozen (SIGSTOP), thawed (SIGCONT) and stopped. /readyz answers 503 naming redis, requests
are refused with 503 quickly instead of hanging on the frozen server, and both are back once
it answers again. /healthz stays 200 (liveness) and says the same verdict beside."""

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.settings import Settings
from tests.conftest import Api, payload
from tests.e2e.test_operations import until

pytestmark = pytest.mark.sqlite_only("the store does not matter: what fails here is Redis")

BOUND = 3.0  # seconds a request may take against a frozen Redis (generous: 0.5 s timeouts)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        until(lambda: answers(self.port), 20, "redis-server to answer")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.thaw()
            self.process.terminate()
            self.process.wait(20)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def settings(make_settings: Callable[..., Settings], redis_server: RedisServer) -> Settings:
    return make_settings(
        CLEVERINVO_REDIS_URL=redis_server.url, CLEVERINVO_REDIS_PREFIX="ready-test", CLEVERINVO_REDIS_TIMEOUT_MS="500"
    )


def timed(call: Callable[[], object]) -> float:
    start = time.monotonic()
    call()
    return time.monotonic() - start


def ready(api: Api) -> tuple[int, dict[str, object]]:
    response = api.http.get("/readyz")
    return response.status_code, payload(response)


def test_a_frozen_redis_is_not_ready_and_requests_are_refused_quickly(api: Api, redis_server: RedisServer):
    status, body = ready(api)
    assert status == 200 and body["ready"] is True and body["failing"] == []
    assert body["redis"] == {"ok": True}
    assert api.get("/api/v1/clients").status_code == 200

    redis_server.freeze()
    try:
        took = timed(lambda: ready(api))
        status, body = ready(api)
        assert status == 503 and body["ready"] is False and "redis" in body["failing"]
        assert body["redis"] == {"ok": False, "error": "TimeoutError"}
        assert took < BOUND
        refused: list[int] = []
        took = timed(lambda: refused.append(api.get("/api/v1/clients").status_code))
        assert refused == [503] and took < BOUND
        health = api.http.get("/healthz")  # liveness: the process answers
        assert health.status_code == 200 and payload(health)["status"] == "ok"
        assert "redis" in payload(health)["failing"]
    finally:
        redis_server.thaw()
    until(lambda: ready(api)[0] == 200, 20, "/readyz to be 200 again after SIGCONT")
    until(lambda: api.get("/api/v1/clients").status_code == 200, 20, "requests to be served again")


def test_a_stopped_redis_is_not_ready(api: Api, redis_server: RedisServer):
    assert ready(api)[0] == 200
    redis_server.stop()
    status, body = ready(api)
    assert status == 503 and body["failing"] == ["redis"]
    assert body["redis"]["ok"] is False  # type: ignore[index]
    assert api.http.head("/readyz").status_code == 503

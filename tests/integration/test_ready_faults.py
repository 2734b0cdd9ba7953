"""/readyz against real faults: PostgreSQL cut behind a loopback proxy (refused, then
black-holed: a database that hangs), Redis at a loopback port where nothing listens, and a
data directory on a small tmpfs filled past the free-space threshold. Each answers 503
naming the failing check, never hangs, and /healthz stays 200 (liveness). Followers more
than MAX_LAG events behind, for real (no worker ran), and caught up again."""

import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.http.health import MAX_LAG
from gateway.services import Services
from gateway.settings import Settings
from tests import backends
from tests.conftest import FakeClock, payload
from tests.db_proxy import DbProxy
from tests.e2e.test_operations import until
from tests.outside_tools import in_ci

HANG = 60.0  # seconds after which a probe is taken to hang (a bound, not a pace)


def probe(http: TestClient, path: str = "/readyz") -> httpx.Response:
    """The answer to ``path``, failing the test if none comes within ``HANG`` seconds."""
    found: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: found.append(http.get(path)), daemon=True)
    worker.start()
    worker.join(HANG)
    assert found, f"{path} hung"
    return found[0]


def verdict(http: TestClient) -> tuple[int, dict[str, Any]]:
    response = probe(http)
    return response.status_code, payload(response)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def proxied_settings(data_dir: Path) -> Iterator[tuple[Settings, DbProxy]]:
    backends.need_postgres()
    with backends.postgres_env() as env, DbProxy() as proxy:
        options = parse_qs(urlparse(env["CLEVERINVO_DATABASE_URL"]).query)["options"][0]
        schema = options.split("search_path=")[1].split(",")[0]
        env = {**env, "CLEVERINVO_DATABASE_URL": proxy.url(schema), "CLEVERINVO_DATA_DIR": str(data_dir)}
        yield Settings.from_env(env), proxy


@pytest.mark.parametrize("mode", ["refuse", "blackhole"])
def test_a_database_cut_is_not_ready_and_the_probe_answers(
    proxied_settings: tuple[Settings, DbProxy], mode: str, clock: FakeClock
) -> None:
    settings, proxy = proxied_settings
    services = Services(settings, clock=clock)
    try:
        with TestClient(create_app(settings, services)) as http:
            status, body = verdict(http)
            assert status == 200, body
            proxy.cut(mode)  # type: ignore[arg-type]
            status, body = verdict(http)
            assert status == 503 and "database" in body["failing"], body
            assert body["database"]["ok"] is False and body["database"]["error"]
            assert "disk" not in body["failing"] and body["clock"]["behindMs"] == 0
            health = probe(http, "/healthz")
            assert health.status_code == 200 and payload(health)["ready"] is False
            proxy.restore()
            until(lambda: verdict(http)[0] == 200, HANG, "/readyz to be 200 once the database is back")
    finally:
        proxy.restore()
        services.close()


def test_redis_at_a_port_where_nothing_listens_is_not_ready(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    settings = make_settings(
        CLEVERINVO_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", CLEVERINVO_REDIS_TIMEOUT_MS="500"
    )
    services = Services(settings, clock=clock)
    try:
        with TestClient(create_app(settings, services)) as http:
            status, body = verdict(http)
            assert status == 503 and "redis" in body["failing"], body
            assert body["redis"]["ok"] is False and body["database"] == {"ok": True}
            assert probe(http, "/healthz").status_code == 200
    finally:
        services.close()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs of the test's own (root only: CI runs as root)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        if in_ci():
            pytest.fail("mounting a tmpfs needs root and mount(8) (CI runs as root)")
        pytest.skip("mounting a tmpfs needs root: run as root (sudo) to test a data directory short of space")
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)], check=True)
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.mark.sqlite_only("the data directory's disk is what fails")
def test_a_data_directory_short_of_space_is_not_ready_until_freed(
    small_disk: Path, backend_env: dict[str, str], clock: FakeClock
) -> None:
    data = small_disk / "data"
    data.mkdir()
    settings = Settings.from_env({"CLEVERINVO_DATA_DIR": str(data), "CLEVERINVO_READY_MIN_FREE_MB": "8"})
    services = Services(settings, clock=clock)
    filler = small_disk / "filler"
    try:
        with TestClient(create_app(settings, services)) as http:
            status, body = verdict(http)
            assert status == 200, body
            free = shutil.disk_usage(small_disk).free
            filler.write_bytes(b"\0" * (free - 4 * 1024 * 1024))  # leaves about 4 MiB
            status, body = verdict(http)
            assert status == 503 and body["failing"] == ["disk"], body
            assert body["disk"]["ok"] is False and body["disk"]["freeMb"] < 8 and body["disk"]["minFreeMb"] == 8
            assert probe(http, "/healthz").status_code == 200
            filler.unlink()
            assert verdict(http)[0] == 200  # freed: ready again, no restart
    finally:
        services.close()


def test_followers_more_than_the_allowed_lag_behind_are_not_ready(http: TestClient, services: Services) -> None:
    """No worker runs here: after more than MAX_LAG events the PDF and email followers are
    that far behind (for real, no threshold lowered), and once a worker turn has caught
    them up the service is ready again."""
    account_id = services.execute(lambda: services.app.open_account("Busy", "pro"))
    for n in range(MAX_LAG + 1):
        services.app.update_account(account_id, {"name": f"Busy {n}"})  # no catch-up: quicker
    status, body = verdict(http)
    assert status == 503, body
    assert {"follower:pdfRendering", "follower:emailDelivery"} <= set(body["failing"])
    behind = {f["name"]: f.get("behind") for f in body["followers"]}
    assert behind["pdfRendering"] > MAX_LAG and behind["emailDelivery"] > MAX_LAG

    def turn() -> bool:
        services.projector.catch_up()
        services.ledger.catch_up()
        services.pdf_worker().run_once(budget_seconds=60)
        services.email_worker().run_once()
        return verdict(http)[0] == 200

    until(turn, HANG * 5, "the followers to catch up and /readyz to be 200")

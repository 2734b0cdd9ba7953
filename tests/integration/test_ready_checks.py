"""/readyz on both stores: every check named in the answer, 200 while all pass, and the
verdict /healthz shows beside its liveness is the same."""

from collections.abc import Callable

from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api, FakeClock, payload


def test_ready_names_every_check_and_healthz_agrees(api: Api, backend: str) -> None:
    response = api.http.get("/readyz")
    assert response.status_code == 200, response.text
    body = payload(response)
    assert body["ready"] is True and body["failing"] == []
    assert body["database"] == {"ok": True}
    disk = body["disk"]
    assert disk["ok"] is True and disk["minFreeMb"] == 100 and disk["freeMb"] >= 100
    assert body["workers"] == {"supervised": False}
    # Redis is configured with PostgreSQL in the suite (tests/backends.py), not with SQLite
    assert body.get("redis") == ({"ok": True} if backend == "postgres" else None)
    health = api.http.get("/healthz")
    assert health.status_code == 200 and payload(health)["ready"] is True
    assert api.http.head("/readyz").status_code == 200


def test_too_little_free_space_is_not_ready(make_settings: Callable[..., Settings], clock: FakeClock) -> None:
    """A threshold no disk meets: /readyz 503 naming "disk"; /healthz still 200 (liveness)."""
    settings = make_settings(CLEVERINVO_READY_MIN_FREE_MB=str(1 << 40))
    services = Services(settings, clock=clock)
    try:
        with TestClient(create_app(settings, services)) as http:
            response = http.get("/readyz")
            assert response.status_code == 503, response.text
            body = payload(response)
            assert "disk" in body["failing"] and body["disk"]["ok"] is False
            assert body["disk"]["minFreeMb"] == 1 << 40
            assert http.get("/healthz").status_code == 200
    finally:
        services.close()

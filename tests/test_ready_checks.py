"""/readyz on both stores: every check named in the answer, 200 while all pass, and the
verdict /healthz shows beside its liveness is the same."""

from tests.conftest import Api, payload


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

"""The read path's cost (issue 26): a key this process has seen costs no lookup of its own,
only a freshness read in the same worker call as the request's first use case; a key
revoked elsewhere is still refused at once, whatever the route would have answered; the
read model's pools keep their connections instead of opening and closing them."""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import anyio.to_thread
import pytest
from sqlalchemy import Engine, event

from database.engines import CONNECTIONS, single_statements
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api, FakeClock, Tenant, assert_error


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(CLEVERINVO_RATE_LIMIT="100000/minute", CLEVERINVO_ADDRESS_RATE_LIMIT="100000/minute")


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the callables each worker-thread call of the app runs."""
    seen: list[str] = []
    real = anyio.to_thread.run_sync

    async def counted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(func, "__qualname__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return seen


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def revoke_elsewhere(settings: Settings, clock: FakeClock, tenant: Tenant) -> None:
    """What `cleverinvo keys revoke` does, in a process of its own beside the server."""
    cli = Services(settings, clock=clock)
    try:
        cli.execute(lambda: cli.app.revoke_api_key(tenant.account_id, tenant.key_id))
    finally:
        cli.close()


def test_a_seen_key_costs_one_worker_call_per_read(api: Api, hops: list[str]) -> None:
    client = api.create_client(name="Acme")
    api.get(f"/api/v1/clients/{client['id']}")  # the key is seen; its use is recorded
    hops.clear()
    assert api.get(f"/api/v1/clients/{client['id']}").status_code == 200
    assert len(hops) == 1, hops


def test_a_seen_key_revoked_elsewhere_is_refused_on_a_route_that_runs_no_use_case(
    api: Api, settings: Settings, clock: FakeClock, tenant: Tenant
) -> None:
    assert api.get("/api/v1/clients").status_code == 200
    revoke_elsewhere(settings, clock, tenant)
    # malformed ids and unknown paths are answered without a use case: still 401, not 404
    assert "Invalid or revoked" in assert_error(api.get("/api/v1/invoices/not-an-id"), 401)
    assert "Invalid or revoked" in assert_error(api.get("/api/v1/nothing-here"), 401)
    refused = api.post("/api/v1/invoices", {"clientId": 12})
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"


def test_a_seen_key_revoked_elsewhere_claims_no_idempotency_key(
    api: Api, services: Services, settings: Settings, clock: FakeClock, tenant: Tenant
) -> None:
    assert api.get("/api/v1/clients").status_code == 200
    revoke_elsewhere(settings, clock, tenant)
    headers = {**tenant.headers, "Idempotency-Key": "once", "Content-Type": "application/json"}
    response = api.http.post("/api/v1/clients", content=b'{"name": "Sneaky"}', headers=headers)
    assert_error(response, 401)
    assert services.read.clients(str(tenant.account_id), 1, 10).total == 0


def test_a_revoked_keys_refusal_spends_the_addresss_budget(
    api: Api, anonymous: Api, settings: Settings, clock: FakeClock, tenant: Tenant
) -> None:
    """As for any dead key: the budget of requests without a live key, not the key's."""
    for _ in range(3):
        assert api.get("/api/v1/clients").status_code == 200
    revoke_elsewhere(settings, clock, tenant)
    refused = api.get("/api/v1/clients")
    assert_error(refused, 401)
    keyless = anonymous.get("/api/v1/clients")
    remaining = int(refused.headers["ratelimit-remaining"])
    assert int(keyless.headers["ratelimit-remaining"]) == remaining - 1 == int(refused.headers["ratelimit-limit"]) - 2


def test_a_single_statement_read_begins_no_transaction(services: Services) -> None:
    engine = services.read.engine
    with statements(engine) as seen, single_statements(engine).connect() as conn:
        conn.exec_driver_sql("SELECT 1").scalar()
    assert seen == ["SELECT 1"]
    assert single_statements(engine) is single_statements(engine)  # made once per engine


def test_the_read_models_pools_keep_their_connections(api: Api, services: Services) -> None:
    """Under more requests at once than threads, no connection is closed on its return (the
    stock pool kept 5 and closed the rest, so they were opened again, PRAGMAs and all)."""
    client = api.create_client(name="Acme")
    opened: list[int] = []
    closed: list[int] = []
    for engine in services.engines:
        event.listen(engine, "connect", lambda *_: opened.append(1))
        event.listen(engine, "close", lambda *_: closed.append(1))

    def read(_: int) -> int:
        return api.get(f"/api/v1/clients/{client['id']}").status_code

    with ThreadPoolExecutor(32) as pool:
        assert set(pool.map(read, range(300))) == {200}
    assert closed == []
    assert len(opened) <= 2 * CONNECTIONS

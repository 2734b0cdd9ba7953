"""API keys and the per-key request budget, through the real ASGI app."""

import contextlib
from collections.abc import Callable, Iterator

import httpx
import pytest

from domain.keys import new_key
from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api, FakeClock, Tenant, TestClient, assert_error, invoice_body, payload

BUDGET_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
ROUTES = [
    ("GET", "/api/v1/clients"),
    ("POST", "/api/v1/clients"),
    ("GET", "/api/v1/clients/{client}"),
    ("PUT", "/api/v1/clients/{client}"),
    ("PATCH", "/api/v1/clients/{client}"),
    ("DELETE", "/api/v1/clients/{client}"),
    ("GET", "/api/v1/invoices"),
    ("POST", "/api/v1/invoices"),
    ("GET", "/api/v1/invoices/{invoice}"),
    ("PUT", "/api/v1/invoices/{invoice}"),
    ("PATCH", "/api/v1/invoices/{invoice}"),
    ("DELETE", "/api/v1/invoices/{invoice}"),
    ("GET", "/api/v1/invoices/{invoice}/pdf"),
]


def budget(response: httpx.Response) -> tuple[int, int, int]:
    return tuple(int(response.headers[name]) for name in BUDGET_HEADERS)  # type: ignore[return-value]


@pytest.fixture
def ids(api: Api) -> dict[str, str]:
    client = api.create_client(name="Acme Corp")["id"]
    return {"client": client, "invoice": api.create_invoice(client)["id"]}


@pytest.fixture
def small_budget(make_settings: Callable[..., Settings], clock: FakeClock) -> Iterator[tuple[TestClient, Services]]:
    with serving(make_settings(CLEVERINVO_RATE_LIMIT="5/minute"), clock) as served:
        yield served


def tenant_of(services: Services, plan: str = "pro") -> Tenant:
    account_id = services.execute(lambda: services.app.open_account("Seller", plan))
    key_id, key = services.execute(lambda: services.app.issue_api_key(account_id))
    return Tenant(account_id, key_id, key)


# --- authentication ------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_without_a_key_is_401_json(anonymous: Api, ids, method, path):
    response = anonymous.request(method, path.format(**ids), {"name": "x"} if method in ("POST", "PUT") else None)
    assert "API key" in assert_error(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "Bearer not_a_cinv_key_at_all_but_long_enough_0123456789",
        "Token cinv_" + "a" * 43,
        "cinv_" + "a" * 43,
        "Bearer cinv_" + "a" * 43 + "!",
    ],
)
def test_malformed_authorization_header_is_401(anonymous: Api, header):
    message = assert_error(anonymous.request("GET", "/api/v1/clients", headers={"Authorization": header}), 401)
    assert "Malformed" in message


@pytest.mark.parametrize("token", ["cinv_short", "cinv_" + "a" * 200, "cinv_wrong"])
def test_a_cinv_key_nobody_has_is_unknown_not_malformed(anonymous: Api, token):
    response = anonymous.request("GET", "/api/v1/clients", headers={"Authorization": f"Bearer {token}"})
    assert assert_error(response, 401) == "Invalid or revoked API key"


def test_non_ascii_authorization_header_is_401(http):
    response = http.get("/api/v1/clients", headers={"Authorization": ("Bearer cinv_" + "é" * 43).encode("latin-1")})
    assert_error(response, 401)


def test_unknown_well_formed_key_is_401(anonymous: Api):
    response = anonymous.request("GET", "/api/v1/clients", headers={"Authorization": f"Bearer {new_key()}"})
    assert "Invalid or revoked" in assert_error(response, 401)


def test_bearer_scheme_is_case_insensitive(anonymous: Api, tenant: Tenant):
    response = anonymous.request("GET", "/api/v1/clients", headers={"Authorization": f"bearer {tenant.key}"})
    assert response.status_code == 200


def test_revoked_key_is_401_while_the_accounts_other_keys_keep_working(api: Api, services: Services, tenant: Tenant):
    assert api.get("/api/v1/clients").status_code == 200
    _, spare = services.execute(lambda: services.app.issue_api_key(tenant.account_id, "spare"))
    services.execute(lambda: services.app.revoke_api_key(tenant.account_id, tenant.key_id))
    assert "Invalid or revoked" in assert_error(api.get("/api/v1/clients"), 401)
    other = api.http.get("/api/v1/clients", headers={"Authorization": f"Bearer {spare}"})
    assert other.status_code == 200


def test_refused_request_writes_nothing(api: Api, services: Services, tenant: Tenant):
    services.execute(lambda: services.app.revoke_api_key(tenant.account_id, tenant.key_id))
    assert_error(api.post("/api/v1/clients", {"name": "Sneaky"}), 401)
    assert services.read.clients(str(tenant.account_id), 1, 10).total == 0


def test_key_created_by_another_process_works_at_once(api: Api, settings: Settings, clock: FakeClock):
    cli = Services(settings, clock=clock)  # what `cleverinvo keys create` does, beside the server
    try:
        late = tenant_of(cli)
    finally:
        cli.close()
    response = api.http.get("/api/v1/clients", headers=late.headers)
    assert response.status_code == 200


def test_key_revoked_by_another_process_is_refused_at_once(api: Api, settings: Settings, clock: FakeClock, tenant):
    assert api.get("/api/v1/clients").status_code == 200
    cli = Services(settings, clock=clock)
    try:
        cli.execute(lambda: cli.app.revoke_api_key(tenant.account_id, tenant.key_id))
    finally:
        cli.close()
    assert_error(api.get("/api/v1/clients"), 401)


def test_each_key_sees_only_its_own_accounts_data(api: Api, http, open_tenant):
    mine = api.create_client(name="Mine")
    other = Api(http, open_tenant("pro", name="Other"))
    theirs = other.create_client(name="Theirs")
    assert [item["id"] for item in payload(api.get("/api/v1/clients"))["data"]] == [mine["id"]]
    assert [item["id"] for item in payload(other.get("/api/v1/clients"))["data"]] == [theirs["id"]]
    assert_error(other.get(f"/api/v1/clients/{mine['id']}"), 404)


def test_health_check_needs_no_key(anonymous: Api):
    response = anonymous.get("/healthz")
    assert response.status_code == 200 and payload(response)["status"] == "ok"


# --- the request budget --------------------------------------------------------------


def test_default_budget_is_120_per_minute_and_every_response_counts_down(api: Api):
    limits = [budget(api.get("/api/v1/clients")) for _ in range(3)]
    assert [(limit, remaining) for limit, remaining, _ in limits] == [(120, 119), (120, 118), (120, 117)]
    assert all(0 <= reset <= 60 for _, _, reset in limits)


def test_121st_request_in_a_minute_is_429_with_retry_after(api: Api):
    for _ in range(120):
        assert api.get("/api/v1/clients").status_code == 200
    response = api.get("/api/v1/clients")
    assert "Rate limit" in assert_error(response, 429)
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert budget(response)[:2] == (120, 0)


@contextlib.contextmanager
def serving(settings: Settings, clock: FakeClock) -> Iterator[tuple[TestClient, Services]]:
    services = Services(settings, clock=clock)
    try:
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
            yield http, services
    finally:
        services.close()


def test_budget_headers_are_on_every_kind_of_response(make_settings, clock):
    settings = make_settings(CLEVERINVO_RATE_LIMIT="9/minute", CLEVERINVO_MAX_BODY_BYTES="300")
    with serving(settings, clock) as (http, services):
        api = Api(http, tenant_of(services))
        client = api.create_client(name="Acme")
        api.create_invoice(client["id"], invoiceNumber="A")
        responses = {
            200: api.get("/api/v1/clients"),
            400: api.get("/api/v1/clients", page="0"),
            404: api.get("/api/v1/nothing"),
            405: api.request("DELETE", "/api/v1/clients"),
            409: api.post("/api/v1/invoices", invoice_body(client["id"], invoiceNumber="a")),
            413: api.post("/api/v1/clients", {"name": "x" * 400}),
            204: api.delete(f"/api/v1/clients/{client['id']}"),
        }
        responses[429] = api.get("/api/v1/clients")
        responses[401] = Api(http, None).get("/api/v1/clients")
    for status, response in responses.items():
        assert response.status_code == status, (status, response.text)
        assert all(name in response.headers for name in BUDGET_HEADERS), (status, response.headers)
        assert budget(response)[0] == 9


def test_over_budget_request_is_429_and_writes_nothing(small_budget):
    small, services = small_budget
    tenant = tenant_of(services)
    api = Api(small, tenant)
    for i in range(5):
        api.create_client(name=f"Client {i}")
    response = api.post("/api/v1/clients", {"name": "One too many"})
    assert_error(response, 429)
    assert int(response.headers["retry-after"]) >= 1
    assert budget(response)[1] == 0
    assert services.read.clients(str(tenant.account_id), 1, 100).total == 5


def test_budget_is_per_key(small_budget):
    small, services = small_budget
    first, second = Api(small, tenant_of(services)), Api(small, tenant_of(services))
    for _ in range(5):
        first.get("/api/v1/clients")
    assert_error(first.get("/api/v1/clients"), 429)
    response = second.get("/api/v1/clients")
    assert response.status_code == 200 and budget(response)[1] == 4


def test_keys_of_one_account_have_a_budget_each(small_budget):
    small, services = small_budget
    tenant = tenant_of(services)
    _, spare = services.execute(lambda: services.app.issue_api_key(tenant.account_id, "spare"))
    for _ in range(5):
        Api(small, tenant).get("/api/v1/clients")
    assert_error(Api(small, tenant).get("/api/v1/clients"), 429)
    assert small.get("/api/v1/clients", headers={"Authorization": f"Bearer {spare}"}).status_code == 200


def test_requests_without_a_valid_key_share_a_budget_per_address(small_budget):
    small, services = small_budget
    anonymous = Api(small, None)
    for _ in range(5):
        assert_error(anonymous.get("/api/v1/clients"), 401)
    assert_error(anonymous.request("GET", "/api/v1/clients", headers={"Authorization": f"Bearer {new_key()}"}), 429)
    valid = Api(small, tenant_of(services)).get("/api/v1/clients")
    assert valid.status_code == 200

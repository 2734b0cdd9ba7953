"""Defects a black-box probe of the running server found (issue 16), each pinned by a test.

The rate-limit and timeout tests run the real uvicorn, configured by the very function
`cleverinvo serve` uses, on a loopback port, and speak to it with raw sockets."""

import contextlib
import json
import random
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.websockets import WebSocketDisconnect
from websockets.sync.client import connect

from domain.errors import ValidationError
from domain.keys import new_key
from gateway.app import create_app
from gateway.cli.server import server_config
from gateway.services import Services
from gateway.settings import Settings, SettingsError
from tests.conftest import Api, FakeClock, Tenant, TestClient, assert_error, payload, stored_state
from tests.graphql_support import gql
from tests.serving import uvicorn_in_thread

# --- a real server, as `cleverinvo serve` configures it ---------------------------------------


@contextlib.contextmanager
def real_server(settings: Settings, services: Services) -> Iterator[int]:
    """uvicorn in a thread with `server_config` (logging left as the tests have it)."""

    def config(port: int) -> uvicorn.Config:
        found = server_config(create_app(settings, services), settings, "127.0.0.1", port, configure_logging=False)
        found.lifespan = "off"
        return found

    with uvicorn_in_thread(config) as port:
        yield port


@pytest.fixture
def served(make_settings: Callable[..., Settings], clock: FakeClock) -> Iterator[Callable[..., Any]]:
    """Starts a real server with the given settings; yields (port, services)."""
    with contextlib.ExitStack() as stack:

        def start(**env: str) -> tuple[int, Services]:
            settings = make_settings(**env)
            services = Services(settings, clock=clock)
            stack.callback(services.close)
            return stack.enter_context(real_server(settings, services)), services

        yield start


def tenant_of(services: Services) -> Tenant:
    account_id = services.execute(lambda: services.app.open_account("Seller", "pro"))
    key_id, key = services.execute(lambda: services.app.issue_api_key(account_id, "probe"))
    return Tenant(account_id, key_id, key)


def counting_lookups(services: Services, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counted: Counter[str] = Counter()
    lookup = services.read.key_by_hash

    def key_by_hash(wanted: str) -> Any:
        counted["lookups"] += 1
        return lookup(wanted)

    monkeypatch.setattr(services.read, "key_by_hash", key_by_hash)
    return counted


def random_address() -> str:
    return f"203.0.{random.randint(0, 255)}.{random.randint(1, 254)}"


# --- 1. the address pays first; forwarded headers only from trusted proxies -------------------


def test_a_flood_of_random_keys_is_cut_by_address_before_any_lookup(make_settings, clock, monkeypatch):
    # Before: 300 random keys cost 600 key lookups (and a projection catch-up each), even
    # the 180 of them answered 429.
    settings = make_settings(CLEVERINVO_ADDRESS_RATE_LIMIT="50/minute")
    services = Services(settings, clock=clock)
    try:
        counted = counting_lookups(services, monkeypatch)
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
            statuses = Counter(
                http.get("/api/v1/clients", headers={"Authorization": f"Bearer {new_key()}"}).status_code
                for _ in range(300)
            )
            refused = http.get("/api/v1/clients", headers={"Authorization": f"Bearer {new_key()}"})
    finally:
        services.close()
    assert statuses == {401: 50, 429: 250}
    assert counted["lookups"] <= 2 * 50  # a miss looks twice (once after catching up); none past the budget
    assert "address" in assert_error(refused, 429)
    assert refused.headers["ratelimit-limit"] == "50" and int(refused.headers["retry-after"]) >= 1


def test_anonymous_requests_are_cut_by_address_too(make_settings, clock):
    settings = make_settings(CLEVERINVO_ADDRESS_RATE_LIMIT="30/minute")
    services = Services(settings, clock=clock)
    try:
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
            statuses = Counter(http.get("/api/v1/clients").status_code for _ in range(100))
            graphql = http.post("/graphql", json={"query": "{ clients { total } }"})
    finally:
        services.close()
    assert statuses == {401: 30, 429: 70}  # before: 100 answers of 401 (the key budget is 120)
    assert graphql.status_code == 429 and graphql.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_a_key_keeps_its_own_budget_after_the_address_paid(make_settings, clock):
    settings = make_settings(CLEVERINVO_RATE_LIMIT="5/minute", CLEVERINVO_ADDRESS_RATE_LIMIT="100/minute")
    services = Services(settings, clock=clock)
    try:
        tenant = tenant_of(services)
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
            answers = [http.get("/api/v1/clients", headers=tenant.headers) for _ in range(6)]
    finally:
        services.close()
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert [a.headers["ratelimit-limit"] for a in answers] == ["5"] * 6


def test_graphql_websockets_spend_the_address_budget_too(make_settings, clock):
    settings = make_settings(CLEVERINVO_ADDRESS_RATE_LIMIT="2/minute")
    services = Services(settings, clock=clock)
    try:
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
            for _ in range(2):
                with http.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]):
                    pass
            with (
                pytest.raises(WebSocketDisconnect) as refused,
                http.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]),
            ):
                pass
    finally:
        services.close()
    assert refused.value.code == 1008


def test_the_address_budget_defaults_to_600_a_minute_or_the_key_rate_when_higher(make_settings):
    assert make_settings().address_rate_limit == "600/minute"
    assert make_settings(CLEVERINVO_RATE_LIMIT="5/second").address_rate_limit == "600/minute"
    assert make_settings(CLEVERINVO_RATE_LIMIT="100000/minute").address_rate_limit == "100000/minute"
    assert make_settings(CLEVERINVO_ADDRESS_RATE_LIMIT="10/second").address_rate_limit == "10/second"
    with pytest.raises(SettingsError, match="CLEVERINVO_ADDRESS_RATE_LIMIT"):
        make_settings(CLEVERINVO_ADDRESS_RATE_LIMIT="lots")


def test_300_anonymous_requests_with_forged_forwarded_addresses_are_limited(served):
    # Before: uvicorn believed X-Forwarded-For from loopback, so each request was "another
    # client" and all 300 were answered 401; never 429.
    port, _ = served()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        statuses = Counter(
            http.get("/api/v1/clients", headers={"X-Forwarded-For": random_address()}).status_code for _ in range(300)
        )
    assert statuses == {401: 120, 429: 180}


def test_forwarded_addresses_are_believed_from_a_trusted_proxy_only(served):
    port, _ = served(CLEVERINVO_TRUSTED_PROXIES="127.0.0.1", CLEVERINVO_ADDRESS_RATE_LIMIT="5/minute")
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        first = [http.get("/api/v1/clients", headers={"X-Forwarded-For": "198.51.100.7"}) for _ in range(6)]
        other = http.get("/api/v1/clients", headers={"X-Forwarded-For": "198.51.100.8"})
    assert [r.status_code for r in first] == [401] * 5 + [429]
    assert other.status_code == 401  # another client behind the proxy has its own budget


@pytest.mark.parametrize("bad", ["localhost", "10.0.0.0/33", "1.2.3.4,,nope"])
def test_a_bad_trusted_proxies_setting_is_refused(make_settings, bad):
    with pytest.raises(SettingsError, match="CLEVERINVO_TRUSTED_PROXIES"):
        make_settings(CLEVERINVO_TRUSTED_PROXIES=bad)


def test_trusted_proxies_accept_addresses_networks_or_any(make_settings):
    assert make_settings().trusted_proxies == ()
    assert make_settings(CLEVERINVO_TRUSTED_PROXIES=" 10.0.0.1, 10.1.0.0/16 ,::1").trusted_proxies == (
        "10.0.0.1",
        "10.1.0.0/16",
        "::1",
    )
    assert make_settings(CLEVERINVO_TRUSTED_PROXIES="*").trusted_proxies == ("*",)


# --- 2. slow and unfinished requests time out --------------------------------------------------

TIMEOUTS = {
    "CLEVERINVO_HEADER_TIMEOUT_SECONDS": "1",
    "CLEVERINVO_BODY_TIMEOUT_SECONDS": "2",
    "CLEVERINVO_KEEP_ALIVE_SECONDS": "1",
}


def trickle(conn: socket.socket, data: bytes, pause: float) -> None:
    """Sends a byte at a time; stops quietly once the server has hung up."""
    for byte in data:
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return
        time.sleep(pause)


def closed_within(conn: socket.socket, seconds: float) -> tuple[bool, bytes, float]:
    """Reads until the server closes; (closed?, what it sent, after how long)."""
    began = time.monotonic()
    conn.settimeout(0.2)
    received = b""
    while time.monotonic() - began < seconds:
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True, received, time.monotonic() - began
        if not chunk:
            return True, received, time.monotonic() - began
        received += chunk
    return False, received, time.monotonic() - began


def test_a_connection_that_sends_nothing_is_closed(served):
    port, _ = served(**TIMEOUTS)  # before: still open after 15 s
    with socket.create_connection(("127.0.0.1", port)) as conn:
        closed, sent, after = closed_within(conn, 6)
    assert closed and sent == b"" and 0.8 < after < 3


def test_a_request_head_sent_a_byte_at_a_time_is_cut_off_with_408(served):
    port, _ = served(**TIMEOUTS)  # before: open for as long as the bytes kept coming
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    with socket.create_connection(("127.0.0.1", port)) as conn:
        began = time.monotonic()
        trickle(conn, head[:15], 0.15)  # a byte now and then never restarts the clock
        closed, sent, _ = closed_within(conn, 5)
    assert closed and sent.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - began < 5


def test_a_body_that_never_arrives_is_answered_408_and_the_connection_closed(served):
    port, services = served(**TIMEOUTS)
    tenant = tenant_of(services)
    before = stored_state(services)
    head = (
        "POST /api/v1/clients HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {tenant.key}\r\nContent-Length: 100\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(head.encode() + b'{"na')
        closed, sent, after = closed_within(conn, 8)  # before: waited for ever
    assert closed and 1.8 < after < 5, (closed, after)
    status_line, _, rest = sent.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    assert json.loads(rest.partition(b"\r\n\r\n")[2]) == {
        "error": "Request body not received within 2 seconds",
        "code": "REQUEST_TIMEOUT",
    }
    assert stored_state(services) == before


def test_a_slow_body_within_the_bound_is_served(served):
    port, services = served(**TIMEOUTS)
    tenant = tenant_of(services)
    body = json.dumps({"name": "Patient"}).encode()
    head = (
        "POST /api/v1/clients HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {tenant.key}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(head.encode())
        for chunk in (body[:5], body[5:10], body[10:]):
            time.sleep(0.4)
            conn.sendall(chunk)
        assert conn.recv(65536).startswith(b"HTTP/1.1 201 ")


def test_an_idle_keep_alive_connection_is_closed(served):
    port, _ = served(**TIMEOUTS)
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        assert conn.recv(65536).startswith(b"HTTP/1.1 200 ")
        closed, _, after = closed_within(conn, 5)
    assert closed and after < 2.5


def test_a_second_request_trickled_on_a_kept_alive_connection_is_cut_off(served):
    port, _ = served(**TIMEOUTS)
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        assert conn.recv(65536).startswith(b"HTTP/1.1 200 ")
        trickle(conn, b"GET /healthz HTTP/1.1\r\n", 0.1)  # each byte cancels uvicorn's keep-alive timer
        closed, sent, _ = closed_within(conn, 4)
    assert closed and sent.startswith(b"HTTP/1.1 408 ")


def test_a_request_head_growing_past_16_kib_is_refused(served):
    """h11 buffers at most 16 KiB of a head still incomplete, and we answer it 431 with a
    JSON error (uvicorn's own answer was a plain-text 400); a head that arrives whole in
    one read is refused by the app (tests/integration/test_edge_framing.py)."""
    port, _ = served(**TIMEOUTS)
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        for _ in range(3):
            time.sleep(0.1)
            with contextlib.suppress(OSError):
                conn.sendall(b"a" * 8192)
        closed, sent, _ = closed_within(conn, 5)
    assert closed and sent.startswith(b"HTTP/1.1 431 ")
    assert json.loads(sent.partition(b"\r\n\r\n")[2]) == {
        "error": "Request head is larger than 16384 bytes",
        "code": "HEADERS_TOO_LARGE",
    }


def test_a_websocket_outlives_the_head_timeout(served):
    port, services = served(**TIMEOUTS)
    tenant = tenant_of(services)
    query = "subscription { accountEvents(after: 0) { position type } }"
    with connect(f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {tenant.key}"}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        time.sleep(2.5)  # past the head and keep-alive timeouts
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "next"


# --- 5. refused clearly: isActive on create, invisible names, two Authorization headers --------


def test_is_active_cannot_be_set_when_creating_a_client(api: Api, services: Services):
    before = stored_state(services)
    message = assert_error(api.post("/api/v1/clients", {"name": "Acme", "isActive": False}), 400)
    assert "isActive" in message and "create" in message  # before: 201, and the client was active
    assert_error(api.post("/api/v1/clients", {"name": "Acme", "isActive": "no"}), 400)
    assert stored_state(services) == before
    created = api.post("/api/v1/clients", {"name": "Acme", "isActive": True})  # what it reads back
    assert created.status_code == 201 and payload(created)["data"]["isActive"] is True


INVISIBLE_NAMES = [
    "\u200b\u200b",  # zero-width spaces
    "\u202e",  # right-to-left override
    "\u2060\ufeff",  # word joiner, BOM
    "\u00a0\u200b\u3000",  # a zero-width space between no-break and ideographic spaces
    "\x07\x1b",  # controls
    "\u3164",  # Hangul filler
    "\U000e0041\U000e0042",  # tag characters
    " \u200d\u200c ",  # joiners between spaces
]


@pytest.mark.parametrize("name", INVISIBLE_NAMES)
def test_a_client_name_of_invisible_characters_only_is_refused(api: Api, services: Services, name: str):
    before = stored_state(services)
    message = assert_error(api.post("/api/v1/clients", {"name": name}), 400)
    assert message == "Field 'name' must contain a visible character"  # before: 201
    assert stored_state(services) == before


def test_a_client_cannot_be_renamed_to_invisible_characters(api: Api):
    client = api.create_client(name="Acme")
    for method in ("PUT", "PATCH"):
        assert_error(api.request(method, f"/api/v1/clients/{client['id']}", {"name": "\u200b"}), 400)
    assert api.request("PATCH", f"/api/v1/clients/{client['id']}", {"name": "\u200bAcme\u200b"}).status_code == 200


def test_graphql_refuses_an_invisible_client_name_with_the_same_message(api: Api):
    answer = gql(api, 'mutation { createClient(input: {name: "\\u200b\\u202e"}) { id } }')
    [error] = answer["errors"]
    assert error["message"] == "Field 'name' must contain a visible character"
    assert error["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("name", INVISIBLE_NAMES)
def test_an_account_name_of_invisible_characters_only_is_refused(services: Services, name: str):
    with pytest.raises(ValidationError, match="Account name must contain a visible character"):
        services.execute(lambda: services.app.open_account(name, "pro"))
    account_id = services.execute(lambda: services.app.open_account("Seller", "pro"))
    with pytest.raises(ValidationError, match="visible"):
        services.execute(lambda: services.app.update_account(account_id, {"name": name}))


def test_cli_refuses_an_invisible_account_name(cli):
    code, _, err = cli("accounts", "create", "\u200b\u200b")
    assert code == 1 and "visible" in err


@pytest.mark.parametrize("valid_first", [True, False])
def test_two_authorization_headers_are_refused(anonymous: Api, tenant: Tenant, services: Services, valid_first: bool):
    valid, other = f"Bearer {tenant.key}", f"Bearer {new_key()}"
    sent = [("Authorization", valid), ("Authorization", other)]
    headers = httpx.Headers(sent if valid_first else sent[::-1])
    before = stored_state(services)
    response = anonymous.http.post(
        "/api/v1/clients", content=b'{"name": "Twice"}', headers=[*headers.raw, (b"content-type", b"application/json")]
    )
    assert assert_error(response, 400) == "Send one Authorization header, not 2"  # before: the first one won
    assert stored_state(services) == before


# --- 7. 415 for a body that is not declared JSON; an unknown key is unknown, not malformed -----


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", ""],
)
def test_a_json_body_sent_as_another_type_is_415(api: Api, services: Services, content_type: str):
    before = stored_state(services)
    headers = {**(api.tenant.headers if api.tenant else {}), "Content-Type": content_type}
    response = api.http.post("/api/v1/clients", content=b'{"name": "Plain"}', headers=headers)
    message = assert_error(response, 415)  # before: 201 with the client created
    assert "application/json" in message
    assert stored_state(services) == before


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"]
)
def test_json_with_or_without_parameters_is_accepted(api: Api, content_type: str):
    response = api.request(
        "POST", "/api/v1/clients", content='{"name": "Json"}', headers={"Content-Type": content_type}
    )
    assert response.status_code == 201, response.text


def test_a_body_sent_with_no_type_at_all_is_still_read_as_json(api: Api):
    response = api.http.post("/api/v1/clients", content=b'{"name": "Untyped"}', headers=api.tenant.headers)
    assert "content-type" not in response.request.headers
    assert response.status_code == 201, response.text


def test_json_in_another_charset_is_415(api: Api):
    response = api.request(
        "POST",
        "/api/v1/clients",
        content='{"name": "x"}',
        headers={"Content-Type": "application/json; charset=latin-1"},
    )
    assert "UTF-8" in assert_error(response, 415)


def test_every_json_route_checks_the_type(api: Api):
    client = api.create_client(name="Acme")
    invoice = api.create_invoice(client["id"])
    plain = {"Content-Type": "text/plain"}
    for method, path in [
        ("PUT", f"/api/v1/clients/{client['id']}"),
        ("PATCH", f"/api/v1/clients/{client['id']}"),
        ("POST", "/api/v1/invoices"),
        ("PATCH", f"/api/v1/invoices/{invoice['id']}"),
        ("POST", f"/api/v1/invoices/{invoice['id']}/send"),
    ]:
        assert_error(api.request(method, path, content="{}", headers=plain), 415)


def test_an_optional_body_may_still_be_left_out(api: Api):
    invoice = api.create_invoice(api.create_client(name="Acme")["id"])
    response = api.http.post(f"/api/v1/invoices/{invoice['id']}/send", headers=api.tenant.headers if api.tenant else {})
    assert response.status_code == 200, response.text


def test_a_missing_required_body_is_still_a_400(api: Api):
    response = api.http.post("/api/v1/clients", headers=api.tenant.headers if api.tenant else {})
    assert assert_error(response, 400) == "Request body must be a JSON object"


@pytest.mark.parametrize("token", ["cinv_wrong", "cinv_" + "a" * 10, "cinv_" + "b" * 200])
def test_a_key_of_the_right_prefix_that_nobody_has_is_unknown_not_malformed(
    anonymous: Api, services: Services, monkeypatch: pytest.MonkeyPatch, token: str
):
    counted = counting_lookups(services, monkeypatch)
    response = anonymous.request("GET", "/api/v1/clients", headers={"Authorization": f"Bearer {token}"})
    assert assert_error(response, 401) == "Invalid or revoked API key"  # before: "Malformed Authorization header"
    assert counted["lookups"] == 0  # no key has that shape: nothing to look up


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-key", "cinv_" + "a" * 43])
def test_a_header_that_is_not_a_bearer_key_is_still_malformed(anonymous: Api, header: str):
    response = anonymous.request("GET", "/api/v1/clients", headers={"Authorization": header})
    assert assert_error(response, 401).startswith("Malformed Authorization header")

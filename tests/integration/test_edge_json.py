"""Bodies no door may take, through REST and GraphQL alike (issue 24, items 3 and 13): a
clear 400, never a 5xx, and nothing written.

- JSON nested 1,000 deep (in GraphQL's `variables` or `extensions`, in a REST field),
  invalid UTF-8 inside a string, a name twice in one object;
- amounts written as strings with spaces or leading zeros (`" 10 "`, `"010"`), which the
  published patterns refuse too; `"0.50"` stays valid;
- a few hundred malformed bodies of every kind, generated.
"""

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.testclient import TestClient  # conftest imported it first, quietly
from starlette.websockets import WebSocketDisconnect

from gateway.app import create_app
from gateway.rest.contract.openapi import PATH as OPENAPI_PATH
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import TODAY, Api, FakeClock, Tenant, stored_state

CREATE_CLIENT = "mutation($input: ClientInput!) { createClient(input: $input) { id } }"


class World:
    """One app, one account with a client; every request here must leave it as it was."""

    def __init__(self, http: TestClient, services: Services) -> None:
        self.http = http
        self.services = services
        account_id = services.execute(lambda: services.app.open_account("Seller", "pro"))
        key_id, key = services.execute(lambda: services.app.issue_api_key(account_id, "edge"))
        self.api = Api(http, Tenant(account_id, key_id, key))
        self.client_id = self.api.create_client(name="Acme")["id"]
        self.invoice_id = self.api.create_invoice(self.client_id)["id"]

    def send(self, path: str, body: bytes, method: str = "POST") -> Any:
        headers = {**self.api.tenant.headers, "Content-Type": "application/json"} if self.api.tenant else {}
        return self.http.request(method, path, content=body, headers=headers)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    data = tmp_path_factory.mktemp("edge-json")
    settings = Settings.from_env({"CLEVERINVO_DATA_DIR": str(data), "CLEVERINVO_RATE_LIMIT": "100000/minute"})
    services = Services(settings, clock=FakeClock(TODAY))
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
        yield World(http, services)
    services.close()


@pytest.fixture
def world(shared: World) -> Iterator[World]:
    before = stored_state(shared.services)
    yield shared
    assert stored_state(shared.services) == before


def rest_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, (response.status_code, response.text[:300])
    body: dict[str, Any] = response.json()
    assert set(body) <= {"error", "code", "field"} and isinstance(body["error"], str), body
    return body


def graphql_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, (response.status_code, response.text[:300])
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST", error
    found: dict[str, Any] = error
    return found


def nested(depth: int, leaf: str = "1", kind: str = "object") -> str:
    opening, closing = ('{"a":', "}") if kind == "object" else ("[", "]")
    return opening * depth + leaf + closing * depth


# --- nesting, bytes, names twice --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["object", "array"])
@pytest.mark.parametrize("where", ["variables", "extensions"])
def test_graphql_json_nested_1000_deep_is_400(world: World, where: str, kind: str) -> None:
    inside = nested(1000, kind=kind) if kind == "object" else '{"a": ' + nested(1000, kind="array") + "}"
    body = '{"query": "{ clients { total } }", "' + where + '": ' + inside + "}"
    error = graphql_error(world.send("/graphql", body.encode()))
    assert error["message"] == "Request body nests deeper than 32 levels"
    assert error["extensions"]["reason"] == "MALFORMED_REQUEST"


def test_graphql_variables_nested_deep_in_a_get_are_400(world: World) -> None:
    response = world.http.get(
        "/graphql",
        params={"query": "{ clients { total } }", "variables": nested(1000)},
        headers=world.api.tenant.headers if world.api.tenant else {},
    )
    assert graphql_error(response)["message"] == "The JSON of a query parameter nests deeper than 32 levels"


@pytest.mark.parametrize("path", ["/api/v1/clients", "/api/v1/invoices"])
@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_rest_json_nested_deep_is_400(world: World, path: str, depth: int) -> None:
    body = f'{{"name": "Acme", "notes": {nested(depth, kind="array")}}}'
    found = rest_error(world.send(path, body.encode()))
    assert found == {"error": "Request body nests deeper than 32 levels", "code": "MALFORMED_REQUEST"}


def test_nesting_up_to_32_levels_is_taken(fresh_api: Api) -> None:
    """Deep enough for any real body: here a field sent back as read (readOnly, ignored)."""
    body = json.dumps({"name": "Deep enough", "createdAt": json.loads(nested(31))})
    response = fresh_api.request("POST", "/api/v1/clients", content=body)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("bad", [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80"])
def test_invalid_utf8_inside_a_string_is_400_on_both_doors(world: World, bad: bytes) -> None:
    rest = rest_error(world.send("/api/v1/clients", b'{"name": "Ac' + bad + b'me"}'))
    assert rest == {"error": "Request body is not valid UTF-8", "code": "MALFORMED_REQUEST"}
    body = b'{"query": "' + CREATE_CLIENT.encode() + b'", "variables": {"input": {"name": "A' + bad + b'"}}}'
    assert graphql_error(world.send("/graphql", body))["message"] == "Request body is not valid UTF-8"


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ('{"name": "Acme", "name": "Other"}', "name"),
        ('{"name": "Acme", "email": null, "email": "a@b.test"}', "email"),
        ('{"clientId": "x", "lineItems": [{"description": "a", "quantity": 1, "quantity": 2}]}', "quantity"),
    ],
)
def test_a_name_twice_in_one_object_is_400_naming_it(world: World, body: str, name: str) -> None:
    for path in ("/api/v1/clients", "/api/v1/invoices", f"/api/v1/clients/{world.client_id}"):
        method = "PATCH" if path.count("/") == 4 else "POST"
        found = rest_error(world.send(path, body.encode(), method))
        assert found == {
            "error": f"Request body holds the name '{name}' twice in one object",
            "code": "MALFORMED_REQUEST",
        }
    twice = '{"query": "' + CREATE_CLIENT + '", "variables": {"input": {"name": "A", "name": "B"}}}'
    assert graphql_error(world.send("/graphql", twice.encode()))["message"] == (
        "Request body holds the name 'name' twice in one object"
    )
    query_twice = '{"query": "{ clients { total } }", "query": "' + CREATE_CLIENT + '", "variables": {}}'
    assert "twice" in graphql_error(world.send("/graphql", query_twice.encode()))["message"]


# --- amounts as strings -----------------------------------------------------------------------

REFUSED_TEXTS = [" 10 ", "10 ", " 10", "\t10", "010", "00.50", "007", "+10", "1e2", "10.", ".5", "1_000", "0x10"]
TAKEN_TEXTS = ["0.50", "10", "10.00", "125.000001", "0"]


def line_with(field: str, value: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"description": "Work", "quantity": "1", "unitPrice": "10", "taxRate": "0"}
    line[field] = value
    return line


@pytest.mark.parametrize("text", REFUSED_TEXTS)
@pytest.mark.parametrize("field", ["quantity", "unitPrice", "taxRate", "discountRate"])
def test_amount_strings_with_spaces_or_leading_zeros_are_400(world: World, field: str, text: str) -> None:
    body = {"clientId": world.client_id, "lineItems": [line_with(field, text)]}
    found = rest_error(world.send("/api/v1/invoices", json.dumps(body).encode()))
    nullable = " or null" if field in ("taxRate", "discountRate") else ""
    assert found == {
        "error": f"Field 'lineItems[0].{field}' must be a number{nullable}",
        "code": "VALIDATION_FAILED",
        "field": f"lineItems[0].{field}",
    }


@pytest.mark.parametrize("text", [" 10 ", "010", "00.5", "+5"])
def test_a_payment_amount_with_spaces_or_leading_zeros_is_400(world: World, text: str) -> None:
    path = f"/api/v1/invoices/{world.invoice_id}/payments"
    found = rest_error(world.send(path, json.dumps({"amount": text}).encode()))
    assert found["field"] == "amount" and found["code"] == "VALIDATION_FAILED"


def test_amount_strings_written_as_numbers_are_taken_exactly(fresh_api: Api) -> None:
    client = fresh_api.create_client(name="Acme")["id"]
    for text in TAKEN_TEXTS[:-1]:
        created = fresh_api.create_invoice(client, lineItems=[line_with("unitPrice", text)])
        lines = fresh_api.invoice(created["id"])["lineItems"]
        assert Decimal(str(lines[0]["unitPrice"])) == Decimal(text)
    created = fresh_api.create_invoice(client, lineItems=[line_with("taxRate", "0")])
    assert created["status"] == "DRAFT"


@pytest.fixture
def fresh_api(data_dir: Path, clock: FakeClock) -> Iterator[Api]:
    settings = Settings.from_env({"CLEVERINVO_DATA_DIR": str(data_dir)})
    services = Services(settings, clock=clock)
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
        account_id = services.execute(lambda: services.app.open_account("Seller", "pro"))
        key_id, key = services.execute(lambda: services.app.issue_api_key(account_id, "edge"))
        yield Api(http, Tenant(account_id, key_id, key))
    services.close()


def number_patterns(document: dict[str, Any]) -> dict[str, str]:
    """Every string pattern of a number field in the published document, by field name."""
    found: dict[str, str] = {}

    def walk(node: Any, name: str = "") -> None:
        if isinstance(node, dict):
            options = [option for option in node.get("anyOf", []) if isinstance(option, dict)]
            if any(option.get("type") == "number" for option in options):
                for option in options:
                    if option.get("type") == "string" and "pattern" in option:
                        found[name] = option["pattern"]
            for key, value in node.items():
                walk(value, key if key not in ("properties", "anyOf", "items") else name)
        elif isinstance(node, list):
            for value in node:
                walk(value, name)

    walk(document)
    return found


def test_the_published_patterns_refuse_what_the_server_refuses(world: World) -> None:
    document = world.http.get(OPENAPI_PATH).json()
    patterns = number_patterns(document)
    assert {"quantity", "unitPrice", "taxRate", "discountRate", "amount"} <= set(patterns), patterns
    for name, pattern in patterns.items():
        compiled = re.compile(pattern)
        for text in REFUSED_TEXTS:
            assert compiled.search(text) is None, (name, text, pattern)
        assert compiled.search("10") is not None, (name, pattern)
    assert re.compile(patterns["unitPrice"]).search("0.50") is not None


# --- a few hundred malformed bodies -----------------------------------------------------------

VALID_CLIENT = b'{"name": "Acme", "email": "a@b.test"}'


def _not_a_json_object(data: bytes) -> bool:
    try:
        return not isinstance(json.loads(data.decode("utf-8")), dict)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return True


def _broken(data: bytes, at: int, byte: int) -> bytes:
    at %= len(data)
    return data[:at] + bytes([byte]) + data[at + 1 :]


unreadable = st.binary(max_size=200).filter(_not_a_json_object)
mangled = st.builds(_broken, st.just(VALID_CLIENT), st.integers(0, 200), st.sampled_from(b'{}[]:,"\\\xff\x00')).filter(
    _not_a_json_object
)
deep = st.builds(
    lambda depth, kind, leaf: ('{"name": "Acme", "notes": ' + nested(depth, leaf, kind) + "}").encode(),
    st.integers(33, 3000),
    st.sampled_from(["object", "array"]),
    st.sampled_from(["1", '"x"', "null", "1e999999", "[]"]),
)
bad_utf8 = st.builds(
    lambda prefix, bad: b'{"name": "' + prefix.encode() + bad + b'"}',
    st.text(max_size=10).filter(lambda s: '"' not in s and "\\" not in s),
    st.sampled_from([b"\xff", b"\xc0\xaf", b"\xed\xb0\x80", b"\xe2\x82", b"\xf8\x88\x80\x80\x80"]),
)
twice = st.builds(
    lambda name, first, second: (
        json.dumps({"name": "Acme"})[:-1].encode()
        + f', "{name}": {json.dumps(first)}, "{name}": {json.dumps(second)}}}'.encode()
    ),
    st.sampled_from(["name", "email", "notes", "bogus", ""]),
    st.one_of(st.none(), st.text(max_size=5), st.integers()),
    st.one_of(st.none(), st.text(max_size=5), st.integers()),
)
odd_numbers = st.builds(
    lambda text: ('{"clientId": "x", "lineItems": [{"description": "a", "quantity": ' + text + "}]}").encode(),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e99999999999999999999", "01", "- 1", "0x1", "1.", ".5"]),
)
MALFORMED = st.one_of(unreadable, mangled, deep, bad_utf8, twice, odd_numbers)


def _as_graphql(body: bytes) -> bytes:
    """The same bytes where GraphQL reads JSON: as the variables of a mutation."""
    return b'{"query": "' + CREATE_CLIENT.encode() + b'", "variables": {"input": ' + body + b"}}"


@hypothesis_settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(body=MALFORMED, door=st.sampled_from(["clients", "invoices", "patch", "graphql", "graphql-variables"]))
def test_malformed_bodies_get_a_4xx_on_both_doors_and_write_nothing(world: World, body: bytes, door: str) -> None:
    if door == "graphql":
        response = world.send("/graphql", body)
    elif door == "graphql-variables":
        response = world.send("/graphql", _as_graphql(body))
    elif door == "patch":
        response = world.send(f"/api/v1/clients/{world.client_id}", body, "PATCH")
    else:
        response = world.send(f"/api/v1/{door}", body)
    assert response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    answer = response.json()
    if door.startswith("graphql"):  # a request GraphQL could read at all is refused in its errors (200)
        assert response.status_code in (200, 400), response.text[:300]
        assert all(e["extensions"]["code"] == "BAD_REQUEST" for e in answer["errors"]), answer
        assert not answer.get("data"), answer
    else:
        assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
        assert isinstance(answer.get("error"), str) and isinstance(answer.get("code"), str), answer


@pytest.mark.parametrize(
    "message",
    [
        nested(1000),
        '{"type": "connection_init", "type": "ping"}',
        "{nope",
        '{"type": "connection_init", "payload": ' + nested(40) + "}",
    ],
    ids=["deep", "twice", "not-json", "deep-payload"],
)
def test_a_websocket_message_graphql_cannot_read_closes_the_socket_as_invalid(world: World, message: str) -> None:
    """graphql-transport-ws: a message that is not JSON closes with 4400; REST's reading of
    JSON decides what is not."""
    with world.http.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_text(message)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 4400

"""Bad input on every route: always the right 4xx with {"error": ...}, never a 500, and a
rejected write leaves the ledger and the read model exactly as they were."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import simplejson
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from simplejson import RawJSON

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import (
    TODAY,
    Api,
    FakeClock,
    Tenant,
    TestClient,
    assert_error,
    invoice_body,
    line,
    payload,
    stored_state,
)

MAX_BODY = 16_384
UNKNOWN_ID = "6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"
OTHER_CLIENT = "<another account's client>"


def limited_settings(data_dir: Path) -> Settings:
    return Settings.from_env(
        {
            "CLEVERINVO_DATA_DIR": str(data_dir),
            "CLEVERINVO_MAX_BODY_BYTES": str(MAX_BODY),
            "CLEVERINVO_RATE_LIMIT": "100000/minute",
        }
    )


@dataclass
class World:
    """Two accounts, each with a client and an invoice; `api` is the first one's door."""

    services: Services
    api: Api
    client: str
    invoice: str
    other_client: str
    other_invoice: str

    def path(self, template: str) -> str:
        return template.format(client=self.client, invoice=self.invoice)


def build_world(http: TestClient, services: Services) -> World:
    def door(name: str) -> Api:
        account_id = services.execute(lambda: services.app.open_account(name, "pro"))
        key_id, key = services.execute(lambda: services.app.issue_api_key(account_id))
        return Api(http, Tenant(account_id, key_id, key))

    api, other = door("Seller"), door("Other")
    client = api.create_client(name="Acme Corp", email="billing@acme.test")["id"]
    invoice = api.create_invoice(client, invoiceNumber="INV-0042")["id"]
    other_client = other.create_client(name="Theirs")["id"]
    other_invoice = other.create_invoice(other_client)["id"]
    return World(services, api, client, invoice, other_client, other_invoice)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One app for the matrix of rejected requests: each of them must leave it unchanged."""
    settings = limited_settings(tmp_path_factory.mktemp("shared"))
    services = Services(settings, clock=FakeClock(TODAY))
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
        yield build_world(http, services)
    services.close()


@pytest.fixture
def world(shared: World) -> Iterator[World]:
    """The shared world, checked after the test to hold exactly what it held before."""
    before = stored_state(shared.services)
    yield shared
    assert stored_state(shared.services) == before


@pytest.fixture
def fresh(data_dir: Path, clock: FakeClock) -> Iterator[World]:
    """A world of its own, for tests whose requests may succeed and change it."""
    settings = limited_settings(data_dir)
    services = Services(settings, clock=clock)
    with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
        yield build_world(http, services)
    services.close()


CLIENT_ROUTES = [
    ("POST", "/api/v1/clients"),
    ("PUT", "/api/v1/clients/{client}"),
    ("PATCH", "/api/v1/clients/{client}"),
]
INVOICE_ROUTES = [
    ("POST", "/api/v1/invoices"),
    ("PUT", "/api/v1/invoices/{invoice}"),
    ("PATCH", "/api/v1/invoices/{invoice}"),
]
WRITE_ROUTES = CLIENT_ROUTES + INVOICE_ROUTES
ITEM_ROUTES = [
    ("GET", "/api/v1/clients/{id}"),
    ("PUT", "/api/v1/clients/{id}"),
    ("PATCH", "/api/v1/clients/{id}"),
    ("DELETE", "/api/v1/clients/{id}"),
    ("GET", "/api/v1/invoices/{id}"),
    ("PUT", "/api/v1/invoices/{id}"),
    ("PATCH", "/api/v1/invoices/{id}"),
    ("DELETE", "/api/v1/invoices/{id}"),
    ("GET", "/api/v1/invoices/{id}/pdf"),
]


def valid_body(world: World, method: str, path: str) -> dict[str, Any]:
    if method != "POST":
        return {}
    return {"name": "Acme"} if "clients" in path else invoice_body(world.client)


# --- bodies that are not a JSON object ------------------------------------------------

NOT_JSON = [
    b"",
    b"   ",
    b"{",
    b'{"name": "x"',
    b"{'name': 'x'}",
    b'{"name": "x",}',
    b'{"name": "x"} {"name": "y"}',
    b'{"name": "x"} trailing',
    b"nul",
    b"\xff\xfe\x00",
    b'{"name": "\xff\xfe"}',
    b'{"name": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 bytes: not valid UTF-8
    b'{"name": NaN}',
    b'{"name": Infinity}',
    b'{"name": -Infinity}',
    b'{"name": undefined}',
    b'{"name": 1e9999999999999999999}',  # beyond any Decimal exponent
    b'{"name": "x", "notes": -1E-9999999999999999999}',
    b"[" * 4000,
    b'{"a":' * 3000,
]
NOT_AN_OBJECT = [b"[]", b'["name"]', b'"name"', b"1", b"1e999", b"null", b"true"]


@pytest.mark.parametrize("raw", NOT_JSON + NOT_AN_OBJECT, ids=lambda raw: repr(raw[:24]))
@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
def test_body_that_is_not_a_json_object_is_400(world, method, path, raw):
    assert_error(world.api.request(method, world.path(path), content=raw), 400)


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
@pytest.mark.parametrize(
    "unknown",
    [{"bogus": 1}, {"Name": "x", "invoiceNumber_": 1}, {"\ud800": 1}, {"name\u0000": "x"}, {"": None}],
    ids=["bogus", "near-miss", "lone-surrogate-key", "nul-key", "empty-key"],
)
def test_unknown_field_is_400_naming_it(world, method, path, unknown):
    body = {**valid_body(world, method, path), **unknown}
    message = assert_error(world.api.request(method, world.path(path), body), 400)
    assert message.startswith("Unknown field")


# --- wrong values, field by field ---------------------------------------------------

CLIENT_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("name-number", {"name": 1}, "any"),
    ("name-float", {"name": 1.5}, "any"),
    ("name-bool", {"name": True}, "any"),
    ("name-list", {"name": ["Acme"]}, "any"),
    ("name-object", {"name": {"first": "Acme"}}, "any"),
    ("name-empty", {"name": ""}, "any"),
    ("name-blank", {"name": " \t\n "}, "any"),
    ("name-null", {"name": None}, "any"),
    ("name-too-long", {"name": "x" * 256}, "any"),
    ("name-nul", {"name": "Ac\u0000me"}, "any"),
    ("name-lone-surrogate", {"name": "\ud800"}, "any"),
    ("name-lone-low-surrogate", {"name": "Acme \udfff"}, "any"),
    ("email-number", {"email": 5}, "any"),
    ("email-invalid", {"email": "nope"}, "any"),
    ("email-no-domain-dot", {"email": "a@b"}, "any"),
    ("email-too-long", {"email": "x" * 250 + "@a.test"}, "any"),
    ("email-surrogate", {"email": "\ud800@acme.test"}, "any"),
    ("address-too-long", {"address": "x" * 1001}, "any"),
    ("taxId-too-long", {"taxId": "x" * 65}, "any"),
    ("phone-too-long", {"phone": "x" * 65}, "any"),
    ("phone-list", {"phone": ["+1"]}, "any"),
    ("notes-too-long", {"notes": "x" * 5001}, "any"),
    ("notes-nul", {"notes": "\u0000"}, "any"),
    ("isActive-string", {"isActive": "yes"}, "update"),
    ("isActive-number", {"isActive": 1}, "update"),
    ("isActive-null", {"isActive": None}, "update"),
]


def applicable(cases, routes) -> list[Any]:
    return [
        pytest.param(method, path, delta, id=f"{method} {path.split('/')[3]} {name}")
        for method, path in routes
        for name, delta, where in cases
        if where == "any" or (where == "create") == (method == "POST")
    ]


@pytest.mark.parametrize(("method", "path", "delta"), applicable(CLIENT_CASES, CLIENT_ROUTES))
def test_bad_client_field_is_400(world, method, path, delta):
    body = {**valid_body(world, method, path), **delta}
    assert_error(world.api.request(method, world.path(path), body), 400)


def with_line(**fields: Any) -> dict[str, Any]:
    item = {**line(), **fields}
    return {"lineItems": [{key: value for key, value in item.items() if value is not DROP}]}


DROP = object()

INVOICE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("clientId-number", {"clientId": 5}, "any"),
    ("clientId-null", {"clientId": None}, "any"),
    ("clientId-not-uuid", {"clientId": "nope"}, "any"),
    ("clientId-unknown", {"clientId": UNKNOWN_ID}, "any"),
    ("clientId-other-account", {"clientId": OTHER_CLIENT}, "any"),
    ("clientId-surrogate", {"clientId": "\ud800"}, "any"),
    ("lineItems-null", {"lineItems": None}, "any"),
    ("lineItems-string", {"lineItems": "x"}, "any"),
    ("lineItems-object", {"lineItems": {}}, "any"),
    ("lineItems-empty", {"lineItems": []}, "any"),
    ("lineItems-number-item", {"lineItems": [1]}, "any"),
    ("lineItems-list-item", {"lineItems": [[]]}, "any"),
    ("line-unknown-field", with_line(discountPercent=5), "any"),
    ("line-discount-over-100", with_line(discountRate=101), "any"),
    ("line-discount-negative", with_line(discountRate=-1), "any"),
    ("line-discount-text", with_line(discountRate="ten"), "any"),
    ("line-discount-too-precise", with_line(discountRate=1.00001), "any"),
    ("line-no-description", with_line(description=DROP), "any"),
    ("line-description-empty", with_line(description=""), "any"),
    ("line-description-blank", with_line(description="   "), "any"),
    ("line-description-number", with_line(description=5), "any"),
    ("line-description-nul", with_line(description="a\u0000"), "any"),
    ("line-description-surrogate", with_line(description="\udbff"), "any"),
    ("line-description-too-long", with_line(description="x" * 1001), "any"),
    ("line-no-quantity", with_line(quantity=DROP), "any"),
    ("line-quantity-null", with_line(quantity=None), "any"),
    ("line-quantity-text", with_line(quantity="abc"), "any"),
    ("line-quantity-exponent-text", with_line(quantity="1e5"), "any"),
    ("line-quantity-bool", with_line(quantity=True), "any"),
    ("line-quantity-list", with_line(quantity=[1]), "any"),
    ("line-quantity-zero", with_line(quantity=0), "any"),
    ("line-quantity-negative", with_line(quantity=-1), "any"),
    ("line-quantity-nan", with_line(quantity=RawJSON("NaN")), "any"),
    ("line-quantity-infinity", with_line(quantity=RawJSON("Infinity")), "any"),
    ("line-quantity-huge", with_line(quantity=RawJSON("1e999999999")), "any"),
    ("line-quantity-long-integer", with_line(quantity=RawJSON("9" * 5000)), "any"),
    ("line-quantity-tiny", with_line(quantity=RawJSON("1e-999999999")), "any"),
    ("line-quantity-exponent-overflow", with_line(quantity=RawJSON("1e9999999999999999999")), "any"),
    ("line-quantity-too-precise", with_line(quantity=RawJSON("1.0000001")), "any"),
    ("line-no-unitPrice", with_line(unitPrice=DROP), "any"),
    ("line-unitPrice-negative", with_line(unitPrice=RawJSON("-0.01")), "any"),
    ("line-unitPrice-too-big", with_line(unitPrice=RawJSON("1e13")), "any"),
    ("line-unitPrice-text", with_line(unitPrice="ten"), "any"),
    ("line-unitPrice-neg-infinity", with_line(unitPrice=RawJSON("-Infinity")), "any"),
    ("line-taxRate-negative", with_line(taxRate=-1), "any"),
    ("line-taxRate-over-100", with_line(taxRate=RawJSON("100.01")), "any"),
    ("line-taxRate-text", with_line(taxRate="10%"), "any"),
    ("line-taxRate-too-precise", with_line(taxRate=RawJSON("1.00001")), "any"),
    ("currency-number", {"currency": 840}, "any"),
    ("currency-empty", {"currency": ""}, "any"),
    ("currency-short", {"currency": "US"}, "any"),
    ("currency-unknown", {"currency": "XXX"}, "any"),
    ("currency-surrogate", {"currency": "\ud800"}, "any"),
    ("currency-null", {"currency": None}, "update"),
    ("issueDate-month-13", {"issueDate": "2024-13-01"}, "any"),
    ("issueDate-feb-30", {"issueDate": "2024-02-30"}, "any"),
    ("issueDate-year-0", {"issueDate": "0000-01-01"}, "any"),
    ("issueDate-us-format", {"issueDate": "06/01/2024"}, "any"),
    ("issueDate-short", {"issueDate": "2024-6-1"}, "any"),
    ("issueDate-timestamp", {"issueDate": "2024-06-01T00:00:00Z"}, "any"),
    ("issueDate-number", {"issueDate": 20240601}, "any"),
    ("issueDate-empty", {"issueDate": ""}, "any"),
    ("issueDate-unicode-digits", {"issueDate": "٢٠٢٤-٠٦-٠١"}, "any"),
    ("issueDate-null", {"issueDate": None}, "update"),
    ("issueDate-last-day-no-dueDate", {"issueDate": "9999-12-31"}, "create"),
    ("dueDate-before-issueDate", {"issueDate": "2024-06-02", "dueDate": "2024-06-01"}, "any"),
    ("dueDate-bad", {"dueDate": "2024-06-31"}, "any"),
    ("invoiceNumber-number", {"invoiceNumber": 42}, "any"),
    ("invoiceNumber-empty", {"invoiceNumber": ""}, "any"),
    ("invoiceNumber-blank", {"invoiceNumber": "   "}, "any"),
    ("invoiceNumber-too-long", {"invoiceNumber": "x" * 65}, "any"),
    ("invoiceNumber-nul", {"invoiceNumber": "INV\u0000"}, "any"),
    ("invoiceNumber-control", {"invoiceNumber": "INV\u0001"}, "any"),
    ("invoiceNumber-newline", {"invoiceNumber": "INV\n1"}, "any"),
    ("invoiceNumber-surrogate", {"invoiceNumber": "\ud800"}, "any"),
    ("invoiceNumber-null", {"invoiceNumber": None}, "update"),
    ("notes-number", {"notes": 5}, "any"),
    ("notes-list", {"notes": []}, "any"),
    ("notes-nul", {"notes": "a\u0000b"}, "any"),
    ("notes-too-long", {"notes": "x" * 5001}, "any"),
    ("terms-object", {"terms": {}}, "any"),
    ("terms-surrogate", {"terms": "\udc00"}, "any"),
]


@pytest.mark.parametrize(("method", "path", "delta"), applicable(INVOICE_CASES, INVOICE_ROUTES))
def test_bad_invoice_field_is_400(world, method, path, delta):
    body = {**valid_body(world, method, path), **delta}
    if body.get("clientId") == OTHER_CLIENT:
        body["clientId"] = world.other_client
    assert_error(world.api.request(method, world.path(path), body), 400)


def test_taken_invoice_number_is_409_not_400(world):
    response = world.api.post("/api/v1/invoices", invoice_body(world.client, invoiceNumber="inv-0042"))
    assert_error(response, 409)


# --- query parameters ----------------------------------------------------------------

LIST_CASES = [
    {"page": "0"},
    {"page": "-1"},
    {"page": "abc"},
    {"page": "1.5"},
    {"page": ""},
    {"page": " 1"},
    {"page": "1e3"},
    {"page": "9" * 19},
    {"page": "١"},
    {"page": "\u0000"},
    {"limit": "0"},
    {"limit": "101"},
    {"limit": "-5"},
    {"limit": "x"},
    {"limit": ""},
    {"limit": "1.0"},
    {"limit": "9" * 40},
    {"search": "x" * 256},
    {"search": "a\u0000b"},
]
STATUS_CASES = [
    {"status": "draft"},
    {"status": "BOGUS"},
    {"status": "DRAFT,SENT"},
    {"status": " DRAFT"},
    {"status": "\0"},
]


@pytest.mark.parametrize("query", LIST_CASES, ids=repr)
@pytest.mark.parametrize("path", ["/api/v1/clients", "/api/v1/invoices"])
def test_bad_list_parameter_is_400(world, path, query):
    message = assert_error(world.api.request("GET", path, params=query), 400)
    assert next(iter(query)) in message


@pytest.mark.parametrize("query", STATUS_CASES, ids=repr)
def test_status_filter_accepts_exactly_the_status_names(world, query):
    assert_error(world.api.request("GET", "/api/v1/invoices", params=query), 400)


@pytest.mark.parametrize(
    "query",
    [{"page": "1", "limit": "1"}, {"limit": "100"}, {"search": "x" * 255}, {"search": "   "}],
    ids=repr,
)
@pytest.mark.parametrize("path", ["/api/v1/clients", "/api/v1/invoices"])
def test_list_parameters_at_their_bounds_are_accepted(world, path, query):
    assert world.api.request("GET", path, params=query).status_code == 200


def test_an_empty_status_filter_is_no_filter(world):
    """Invoices only: clients have no status, and an unknown parameter is refused."""
    assert world.api.request("GET", "/api/v1/invoices", params={"status": ""}).status_code == 200


def test_page_far_past_the_end_is_an_empty_page(world):
    body = payload(world.api.request("GET", "/api/v1/invoices", params={"page": "9" * 18, "limit": "100"}))
    assert (body["data"], body["total"], body["page"]) == ([], 1, int("9" * 18))


# --- ids -------------------------------------------------------------------------------

ODD_IDS = {
    "unknown": UNKNOWN_ID,
    "nil-uuid": "00000000-0000-0000-0000-000000000000",
    "not-uuid": "nope",
    "number": "123",
    "nul": "%00",
    "bad-utf8": "%ED%A0%80",
    "long": "a" * 2000,
    "sql": "1'%20OR%20'1'='1",
}


@pytest.mark.parametrize("kind", list(ODD_IDS) + ["other-account", "wrong-type"])
@pytest.mark.parametrize(("method", "template"), ITEM_ROUTES)
def test_unknown_malformed_or_foreign_id_is_404(world, method, template, kind):
    is_client = "/clients/" in template
    if kind == "other-account":
        raw_id = world.other_client if is_client else world.other_invoice
    elif kind == "wrong-type":
        raw_id = world.invoice if is_client else world.client
    else:
        raw_id = ODD_IDS[kind]
    body = ({"name": "Renamed"} if is_client else {"notes": "Changed"}) if method in ("PUT", "PATCH") else None
    assert_error(world.api.request(method, template.format(id=raw_id), body), 404)


@pytest.mark.parametrize("path", ["/api/v1", "/api/v1/", "/api/v1/nothing", "/api/v1/clients/x/y", "/api/v2/clients"])
def test_unknown_api_path_is_404_json(world, path):
    assert_error(world.api.get(path), 404)


# --- methods ----------------------------------------------------------------------------

WRONG_METHODS = [
    ("PUT", "/api/v1/clients"),
    ("PATCH", "/api/v1/clients"),
    ("DELETE", "/api/v1/clients"),
    ("POST", "/api/v1/clients/{client}"),
    ("PUT", "/api/v1/invoices"),
    ("PATCH", "/api/v1/invoices"),
    ("DELETE", "/api/v1/invoices"),
    ("POST", "/api/v1/invoices/{invoice}"),
    ("POST", "/api/v1/invoices/{invoice}/pdf"),
    ("PUT", "/api/v1/invoices/{invoice}/pdf"),
    ("PATCH", "/api/v1/invoices/{invoice}/pdf"),
    ("DELETE", "/api/v1/invoices/{invoice}/pdf"),
]


@pytest.mark.parametrize(("method", "path"), WRONG_METHODS)
def test_wrong_method_is_405_with_allow(world, method, path):
    response = world.api.request(method, world.path(path), {"name": "x"})
    assert_error(response, 405)
    assert method not in response.headers["allow"]


# --- size -------------------------------------------------------------------------------


def padded(body: dict[str, Any], size: int) -> bytes:
    """`body` as JSON text, padded with trailing whitespace to exactly `size` bytes."""
    text = simplejson.dumps(body).encode()
    assert len(text) <= size
    return text + b" " * (size - len(text))


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
def test_body_over_the_limit_is_413(world, method, path):
    raw = padded(valid_body(world, method, path), MAX_BODY + 1)
    assert_error(world.api.request(method, world.path(path), content=raw), 413)


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
def test_streamed_body_over_the_limit_is_413(world, method, path):
    raw = padded(valid_body(world, method, path), MAX_BODY + 1)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size is only known while reading
        for start in range(0, len(raw), 1000):
            yield raw[start : start + 1000]

    response = world.api.http.request(method, world.path(path), content=chunks(), headers={**world.api.tenant.headers})
    assert "content-length" not in response.request.headers
    assert_error(response, 413)


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
def test_body_exactly_at_the_limit_is_accepted(fresh, method, path):
    raw = padded(valid_body(fresh, method, path), MAX_BODY)
    assert fresh.api.request(method, fresh.path(path), content=raw).status_code in (200, 201)


# --- anything at all: never a 500 ------------------------------------------------------

# Numbers written with any exponent, many beyond what Decimal can hold.
exponents = st.builds(
    lambda digits, exponent: RawJSON(f"{digits}e{exponent}"), st.integers(0, 99), st.integers(-(10**20), 10**20)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | exponents | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
CLIENT_KEYS = ["name", "email", "address", "taxId", "phone", "notes", "isActive", "id", "createdAt"]
LINE_KEYS = ["description", "quantity", "unitPrice", "taxRate", "amount"]
INVOICE_KEYS = ["clientId", "invoiceNumber", "currency", "issueDate", "dueDate", "notes", "terms", "status", "total"]
numberish = (
    st.integers(-(10**30), 10**30)
    | exponents
    | st.decimals(allow_nan=True, allow_infinity=True).map(lambda d: RawJSON(str(d)))
    | st.text(alphabet="0123456789.-eE+ ", max_size=12)
)
dates = st.dates().map(str) | st.text(alphabet="0123456789-", max_size=12)
line_items = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "description": st.text(max_size=10) | json_values,
            "quantity": numberish | json_values,
            "unitPrice": numberish,
            "taxRate": numberish,
            "amount": json_values,
        },
    ),
    max_size=3,
)
client_bodies = st.dictionaries(st.sampled_from(CLIENT_KEYS) | st.text(max_size=5), json_values, max_size=5)
invoice_bodies = st.fixed_dictionaries(
    {},
    optional={
        "clientId": st.sampled_from([UNKNOWN_ID, "<client>"]) | json_values,
        "lineItems": line_items | json_values,
        "invoiceNumber": st.text(max_size=10) | json_values,
        "currency": st.sampled_from(["USD", "jpy", "KWD", "XXX"]) | json_values,
        "issueDate": dates,
        "dueDate": dates,
        "notes": json_values,
        "bogus": json_values,
    },
) | st.dictionaries(st.sampled_from(INVOICE_KEYS), json_values, max_size=4)

FUZZ = hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def never_500(world: World, method: str, path: str, body: Any = None, content: Any = None) -> None:
    if isinstance(body, dict) and body.get("clientId") == "<client>":
        body = {**body, "clientId": world.client}
    before = stored_state(world.services)
    response = world.api.request(method, world.path(path), body, content=content)
    assert response.status_code in (200, 201, 400, 403, 404, 409, 413), (response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert_error(response, response.status_code)
        assert stored_state(world.services) == before


@FUZZ
@given(body=client_bodies | json_values)
@pytest.mark.parametrize(("method", "path"), CLIENT_ROUTES)
def test_any_client_body_gets_a_deliberate_answer(fresh, method, path, body):
    never_500(fresh, method, path, body)


@FUZZ
@given(body=invoice_bodies | json_values)
@pytest.mark.parametrize(("method", "path"), INVOICE_ROUTES)
def test_any_invoice_body_gets_a_deliberate_answer(fresh, method, path, body):
    never_500(fresh, method, path, body)


@FUZZ
@given(raw=st.binary(max_size=64))
@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
def test_any_bytes_get_a_deliberate_answer(fresh, method, path, raw):
    never_500(fresh, method, path, content=raw)


@FUZZ
@given(query=st.dictionaries(st.sampled_from(["page", "limit", "search", "status", "clientId"]), st.text(max_size=12)))
@pytest.mark.parametrize("path", ["/api/v1/clients", "/api/v1/invoices"])
def test_any_query_gets_200_or_400(world, path, query):
    response = world.api.request("GET", path, params=query)
    assert response.status_code in (200, 400), (response.status_code, response.text[:300])
    if response.status_code == 400:
        assert_error(response, 400)


@FUZZ
# "/" and dot segments are left out: they make another path (".", say, is the list itself).
@given(raw_id=st.text(min_size=1, max_size=40).filter(lambda text: "/" not in text and text.strip(".")))
@pytest.mark.parametrize("template", ["/api/v1/clients/{}", "/api/v1/invoices/{}", "/api/v1/invoices/{}/pdf"])
def test_any_id_gets_a_404(world, template, raw_id):
    assert_error(world.api.get(template.format(quote(raw_id, safe=""))), 404)

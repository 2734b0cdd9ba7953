"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document that cannot drift from the app.

- it is valid OpenAPI 3.1, served without a key, with the hardening headers;
- every route under /api/v1 is in it with exactly its methods, and nothing else is;
- what the API answers along an invoice's whole life matches the response schemas;
- what a client reads and sends back matches the request schemas (and is taken);
- the request schemas say exactly which client bodies are taken: a body the schema allows
  is created, one it refuses is refused (hypothesis, over the Basic Multilingual Plane);
- a number written as text matches its field's pattern exactly when the domain takes it.
"""

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import simplejson
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from starlette.routing import Route

from domain.errors import ValidationError
from domain.money import LineItemDraft, check_line
from gateway.app import create_app
from gateway.rest.contract import fields
from gateway.rest.contract.openapi import document
from gateway.rest.contract.operations import OPERATIONS
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api, Tenant, TestClient, line, payload
from usecases import wire

PREFIX = "/api/v1"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def validator(spec: dict[str, Any], name: str) -> Draft202012Validator:
    """Validates against one of the document's schemas, its references resolved in it."""
    root = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    return Draft202012Validator(root, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_matches(spec: dict[str, Any], name: str, body: Any) -> None:
    problems = [f"{list(error.absolute_path)}: {error.message}" for error in validator(spec, name).iter_errors(body)]
    assert problems == [], (name, problems)


def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    OpenAPIV31SpecValidator(spec).validate()
    Draft202012Validator.check_schema({"$defs": spec["components"]["schemas"]})


def test_it_is_served_without_a_key_with_the_hardening_headers(anonymous: Api, spec: dict[str, Any]) -> None:
    for headers in ({}, {"Authorization": "Bearer cinv_nobody"}):
        response = anonymous.http.get(f"{PREFIX}/openapi.json", headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-request-id"]
        assert response.json() == spec
    assert anonymous.http.head(f"{PREFIX}/openapi.json").status_code == 200
    assert anonymous.http.post(f"{PREFIX}/openapi.json").status_code == 401  # only reading it is free


def test_every_api_route_is_in_the_document_with_its_methods_and_nothing_else(
    spec: dict[str, Any], http: TestClient
) -> None:
    served: dict[str, set[str]] = {}
    for route in http.app.routes:  # type: ignore[attr-defined]  # the app under test
        if isinstance(route, Route) and route.path.startswith(PREFIX + "/"):
            served.setdefault(route.path, set()).update((route.methods or set()) - {"HEAD"})
    documented = {path: {method.upper() for method in operations} for path, operations in spec["paths"].items()}
    assert documented == served


def test_path_parameters_are_the_routes_own(spec: dict[str, Any]) -> None:
    for path, operations in spec["paths"].items():
        named = set(path.replace("}", "{").split("{")[1::2])
        for method, operation in operations.items():
            declared = {param["name"] for param in operation["parameters"] if param["in"] == "path"}
            assert declared == named, (method, path)


def test_operations_are_named_once_and_links_lead_to_them(spec: dict[str, Any]) -> None:
    names = [operation.operation_id for operation in OPERATIONS]
    assert len(names) == len(set(names))
    params = {operation.operation_id: {param.name for param in operation.params} for operation in OPERATIONS}
    for operation in OPERATIONS:
        for link in operation.links:
            assert link.operation in params
            assert set(link.parameters) <= params[link.operation], link


def test_every_post_takes_an_idempotency_key_and_every_body_is_json(spec: dict[str, Any]) -> None:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            headers = {param["name"] for param in operation["parameters"] if param["in"] == "header"}
            assert "X-Request-ID" in headers
            if method == "post" and operation["operationId"] != "getOpenApi":
                assert "Idempotency-Key" in headers, path
                assert {"409", "422"} <= set(operation["responses"])
            if "requestBody" in operation:
                assert set(operation["requestBody"]["content"]) == {"application/json"}
                assert {"400", "413", "415"} <= set(operation["responses"])
            if operation.get("security") != []:
                assert {"401", "429"} <= set(operation["responses"])
                for status, answer in operation["responses"].items():
                    if status not in ("408", "431", "default"):  # refused before the budget, or unexpected
                        assert "RateLimit-Remaining" in answer["headers"], (path, status)


def test_the_caps_are_the_domains(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert schemas["InvoiceCreate"]["properties"]["lineItems"]["maxItems"] == 500
    assert schemas["InvoiceCreate"]["properties"]["notes"]["anyOf"][0]["maxLength"] == 5000
    assert schemas["ClientCreate"]["properties"]["name"]["maxLength"] == 255
    assert schemas["LineItemInput"]["properties"]["description"]["maxLength"] == 1000
    assert schemas["SendInput"]["properties"]["to"]["anyOf"][0]["maxItems"] == 20
    quantity = schemas["LineItemInput"]["properties"]["quantity"]["anyOf"][0]
    assert (quantity["exclusiveMinimum"], quantity["maximum"]) == (0, 1_000_000_000)
    for name in ("ClientCreate", "InvoiceCreate", "LineItemInput", "PaymentCreate", "SendInput", "VoidInput"):
        assert schemas[name]["additionalProperties"] is False


# --- the answers along an invoice's life match the response schemas ---------------------------


def _check(spec: dict[str, Any], response: Any, method: str, path: str) -> Any:
    """The response's status is documented for the operation, and its body matches."""
    operation = spec["paths"][path.split("?")[0]][method]
    assert str(response.status_code) in operation["responses"], (method, path, response.status_code)
    answer = operation["responses"][str(response.status_code)]
    for name, header in answer["headers"].items():
        if spec["components"]["headers"][header["$ref"].rsplit("/", 1)[1]]["required"]:
            assert name.lower() in response.headers, (method, path, name)
    content = answer.get("content", {})
    if "application/json" in content:
        name = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        body = payload(response)
        assert_matches(spec, name, response.json())  # the JSON as any client parses it
        return body
    if "application/pdf" in content:
        assert response.headers["content-type"] == "application/pdf"
    return None


def test_the_answers_along_an_invoices_life_match_their_schemas(spec: dict[str, Any], api: Api) -> None:
    def call(method: str, template: str, body: Any = None, **ids: str) -> Any:
        response = api.request(method, template.format(**ids), body)
        return _check(spec, response, method.lower(), template)

    client = call("POST", "/api/v1/clients", {"name": "Acme", "email": "billing@acme.test", "taxId": "X1"})["data"]
    ids = {"client_id": client["id"]}
    call("GET", "/api/v1/clients")
    call("PATCH", "/api/v1/clients/{client_id}", {"phone": "+1 555"}, **ids)
    body = {"clientId": client["id"], "lineItems": [line(), {**line(), "discountRate": "12.5"}], "notes": "Thanks"}
    created = call("POST", "/api/v1/invoices", body)["data"]
    ids["invoice_id"] = created["id"]
    call("GET", "/api/v1/invoices/{invoice_id}", **ids)
    call("PUT", "/api/v1/invoices/{invoice_id}", {"terms": "Net 30"}, **ids)
    call("GET", "/api/v1/invoices/{invoice_id}/pdf", **ids)
    call("POST", "/api/v1/invoices/{invoice_id}/send", {"email": True, "message": "Hi"}, **ids)
    paid = call("POST", "/api/v1/invoices/{invoice_id}/payments", {"amount": "100.00", "method": "wire"}, **ids)
    call("GET", "/api/v1/invoices/{invoice_id}/payments", **ids)
    call("DELETE", "/api/v1/invoices/{invoice_id}/payments/{payment_id}", payment_id=paid["data"]["id"], **ids)
    call("POST", "/api/v1/invoices/{invoice_id}/void", {"reason": "Duplicate"}, **ids)
    call("GET", "/api/v1/invoices", **ids)
    call("GET", "/api/v1/invoices/{invoice_id}?version=1", **ids)  # query strings are no part of a template
    call("GET", "/api/v1/invoices/{invoice_id}/history", **ids)
    call("GET", "/api/v1/clients/{client_id}/history", **ids)
    assert call("GET", "/api/v1/events")["data"]
    call("GET", "/api/v1/ledger/digest")
    call("DELETE", "/api/v1/clients/{client_id}", **ids)
    # refusals too: each status documented, each body {"error", "code"}
    call("POST", "/api/v1/invoices/{invoice_id}/payments", {"amount": 1}, **ids)  # 409: void
    call("GET", "/api/v1/invoices/{invoice_id}", invoice_id="00000000-0000-4000-8000-000000000000")
    call("POST", "/api/v1/clients", {"name": "x", "bogus": 1})
    refused = _check(spec, api.http.get("/api/v1/clients"), "get", "/api/v1/clients")
    assert refused == {"error": api_key_missing(), "code": "UNAUTHENTICATED"}


def api_key_missing() -> str:
    return "Missing API key: send 'Authorization: Bearer cinv_...'"


def test_what_a_client_reads_it_may_send_back(spec: dict[str, Any], api: Api) -> None:
    client = api.create_client(name="Acme", email="billing@acme.test")
    assert_matches(spec, "ClientUpdate", client)
    assert api.put(f"/api/v1/clients/{client['id']}", client).status_code == 200
    invoice = api.invoice(api.create_invoice(client["id"])["id"])
    assert_matches(spec, "InvoiceUpdate", invoice)
    assert api.put(f"/api/v1/invoices/{invoice['id']}", invoice).status_code == 200


# --- the request schemas say exactly what is taken -------------------------------------------

BMP = st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"])
ODD = ["", " ", "\u200b", "\u202e", "\u00a0x", "a\x00", "x" * 256, " Acme ", "\x85", "é@ü.example", " a@b.test "]
WRONG = [None, True, 0, 1.5, ["x"], {"x": 1}, "a@b", "nope", "x" * 250 + "@a.test", "x" * 65, "bogus"]
texts = st.text(BMP, min_size=1, max_size=12) | st.sampled_from(ODD)
good_client_fields = {
    "email": st.sampled_from(["a@b.test", " a@b.test ", "", "é@ü.example"]) | st.none(),
    "phone": st.text(BMP, max_size=10) | st.none(),
    "taxId": st.text(BMP, max_size=10),
    "address": texts,
    "notes": st.text(BMP, max_size=10) | st.none(),
    "isActive": st.just(True),
    "id": st.uuids().map(str),
    "createdAt": st.just("2024-06-15T12:00:00.000Z"),
}


@st.composite
def client_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A body that may be right, with now and then one field set to something odd."""
    body = draw(st.fixed_dictionaries({"name": texts}, optional=good_client_fields))
    if draw(st.booleans()):
        name = draw(st.sampled_from([*good_client_fields, "name", "bogus", "Name"]))
        body[name] = draw(st.sampled_from(WRONG + ODD))
    return body


@pytest.fixture(scope="module")
def business(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = Settings.from_env(
        {"CLEVERINVO_DATA_DIR": str(tmp_path_factory.mktemp("business")), "CLEVERINVO_RATE_LIMIT": "100000/minute"}
    )
    services = Services(settings)
    account_id = services.execute(lambda: services.app.open_account("Seller", "business"))
    key_id, key = services.execute(lambda: services.app.issue_api_key(account_id))
    with TestClient(create_app(settings, services)) as http:
        yield Api(http, Tenant(account_id, key_id, key))
    services.close()


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=client_bodies())
def test_a_client_body_is_taken_exactly_when_the_schema_allows_it(spec: dict[str, Any], business: Api, body) -> None:
    allowed = validator(spec, "ClientCreate").is_valid(body)
    response = business.post("/api/v1/clients", body)
    assert response.status_code in (201, 400), response.text
    assert (response.status_code == 201) == allowed, (body, response.text)


def _line_taken(**given: Decimal) -> bool:
    numbers = {"quantity": Decimal(1), "unit_price": Decimal(1), "tax_rate": Decimal(0), "discount_rate": Decimal(0)}
    try:
        check_line(LineItemDraft(description="x", **{**numbers, **given}), "lineItems[0]")
    except ValidationError:
        return False
    return True


numbers_as_text = st.decimals(allow_nan=False, allow_infinity=False, min_value=-10, max_value=10**13).map(str) | (
    st.from_regex(r"-?[0-9]{1,14}(\.[0-9]{1,8})?", fullmatch=True).filter(lambda text: not text.startswith(("0", "-0")))
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(text=numbers_as_text | st.sampled_from(["0", "-0", "0.0", "-0.000", "100.0000", "100.00001", "1000000000"]))
@pytest.mark.parametrize(
    ("field", "wire_name"),
    [("quantity", "quantity"), ("unit_price", "unitPrice"), ("tax_rate", "taxRate"), ("discount_rate", "discountRate")],
)
def test_a_number_as_text_matches_the_pattern_exactly_when_the_domain_takes_it(
    spec: dict[str, Any], field: str, wire_name: str, text: str
) -> None:
    schema = spec["components"]["schemas"]["LineItemInput"]["properties"][wire_name]
    schema = schema["anyOf"][0] if "anyOf" in schema["anyOf"][0] else schema  # taxRate: nullable
    number = wire.number_text(text)
    taken = number is not None and _line_taken(**{field: number})
    assert Draft202012Validator(schema).is_valid(text) == taken, (wire_name, text)
    if taken:  # the same value as a JSON number is allowed too (its decimals are the domain's to count)
        assert Draft202012Validator(schema).is_valid(number), (wire_name, number)


def test_fields_module_caps_are_what_the_schema_says(spec: dict[str, Any]) -> None:
    payment = spec["components"]["schemas"]["PaymentCreate"]["properties"]
    assert payment["method"]["anyOf"][0]["maxLength"] == fields.MAX_SHORT_TEXT
    assert payment["amount"]["anyOf"][0]["exclusiveMinimum"] == 0


def test_the_readme_and_the_contract_point_to_the_document_and_stay_in_the_repository() -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    contract = (root / "docs" / "api.md").read_text(encoding="utf-8")
    for text, folder in ((readme, root), (contract, root / "docs")):
        assert "/api/v1/openapi.json" in text and "/docs" in text
        assert not re.search(r"(?<!docs/)\bAPI\.md", text)
        # every relative link lands inside the checkout (a user's clone has nothing beside it)
        for target in re.findall(r"\]\((?![a-z]+:|/|#)([^)#\s]+)", text):
            assert (folder / target).resolve().is_relative_to(root), target
    assert "(docs/api.md)" in readme


def test_answers_are_written_as_before_decimals_at_their_scale(api: Api) -> None:
    """msgspec writes what simplejson (use_decimal) wrote: compact, UTF-8, the Structs' field
    order, every number at the scale it holds."""
    client = api.create_client(name='Ünïcödé \u2028 "Quoted" <b>&</b> Ltd', email="billing@acme.test")
    lines = [
        line(quantity=Decimal("0.5"), unit_price=Decimal("125.00")),
        line(unit_price=Decimal("1E+1"), tax_rate="7.50"),
    ]
    invoice_id = api.create_invoice(client["id"], lineItems=lines, currency="KWD", notes="é\tß\n")["id"]
    for path in ("/api/v1/clients", f"/api/v1/invoices/{invoice_id}", "/api/v1/invoices", "/api/v1/events"):
        raw = api.get(path).content
        again = simplejson.dumps(
            simplejson.loads(raw, use_decimal=True), use_decimal=True, ensure_ascii=False, separators=(",", ":")
        )
        assert raw == again.encode(), path
    detail = payload(api.get(f"/api/v1/invoices/{invoice_id}"))["data"]
    assert [str(item["unitPrice"]) for item in detail["lineItems"]] == ["125.00", "10"]
    assert str(detail["lineItems"][0]["quantity"]) == "0.5"
    assert str(detail["total"]) == "498.750"  # 62.5 + 6.25 tax + 400 + 30 tax, at KWD's 3 decimals


def _bounds(schema: dict[str, Any]) -> list[tuple[str, bool]]:
    """Query values at and just past a parameter's documented bounds, and whether allowed."""
    if "enum" in schema:
        return [*((str(value), True) for value in schema["enum"]), ("BOGUS", False)]
    if schema.get("type") == "integer":
        low, high = schema["minimum"], schema["maximum"]
        return [(str(low), True), (str(high), True), (str(low - 1), False), (str(high + 1), False), ("1.5", False)]
    if "maxLength" in schema:
        return [("x" * schema["maxLength"], True), ("x" * (schema["maxLength"] + 1), False), ("a\x00b", False)]
    return []


@pytest.mark.parametrize("operation_id", ["listClients", "listInvoices", "listEvents"])
def test_query_parameters_are_taken_exactly_within_their_documented_bounds(
    spec: dict[str, Any], api: Api, operation_id: str
) -> None:
    (path, operation), *_ = [
        (path, found)
        for path, operations in spec["paths"].items()
        for found in operations.values()
        if found["operationId"] == operation_id
    ]
    for param in operation["parameters"]:
        if param["in"] != "query" or param["schema"].get("type") == "string" and param["name"] == "after":
            continue  # an opaque cursor has no value to make up: only one a page gave back is valid
        for value, allowed in _bounds(param["schema"]):
            status = api.request("GET", path, params={param["name"]: value}).status_code
            assert status == (200 if allowed else 400), (path, param["name"], value[:20], status)


def test_text_patterns_hold_the_domains_rules_in_python_and_in_rust(spec: dict[str, Any]) -> None:
    """Over the Basic Multilingual Plane, and a sample of the planes above it (where an
    unassigned or private-use character once passed the pattern): a client's name is allowed exactly when it shows
    something, an invoice number exactly when it holds no character of category C, read
    alike by Python's `re` (jsonschema) and Rust's engine (jsonschema-rs, which schemathesis
    validates with)."""
    import unicodedata

    import jsonschema_rs

    from domain.client import has_visible_text
    from domain.invoice_checks import check_number

    schemas = spec["components"]["schemas"]
    name = schemas["ClientCreate"]["properties"]["name"]
    number = schemas["InvoiceCreate"]["properties"]["invoiceNumber"]["anyOf"][0]
    engines = [(jsonschema_rs.validator_for(name), jsonschema_rs.validator_for(number))]
    python = (Draft202012Validator(name), Draft202012Validator(number))
    for point in (*range(0xD800), *range(0xE000, 0x10000), *range(0x10000, 0x110000, 251), 0xD321F, 0xF0000):
        if point == 0xD7FF:  # left out of the class for Rust's sake (gateway.rest.contract.fields._class_of)
            continue
        char = chr(point)
        shows = char != "\x00" and has_visible_text(char)
        try:
            taken = check_number(f"A{char}1") == f"A{char}1"
        except ValidationError:
            taken = False
        assert taken == (not unicodedata.category(char).startswith("C")), hex(point)
        checked = [*engines, python] if point % 97 == 0 or not shows or not taken else engines
        for name_rule, number_rule in checked:
            assert name_rule.is_valid(char) == shows, hex(point)
            assert number_rule.is_valid(f"A{char}1") == taken, hex(point)

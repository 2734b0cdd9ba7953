"""Machine-readable errors on both doors (issue 24, item 14).

REST keeps `{"error": "<for people>"}` and adds `code` (stable, for programs) and, when one
field of the body is at fault, `field` (its path, `lineItems[0].quantity`). GraphQL keeps
its `extensions.code` (clients branch on it) and adds the same finer code as
`extensions.reason`, the same `field`, and `retryAfter` where a wait is due. Messages are
the use cases' words, never a parser's.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient  # conftest imported it first, quietly

from domain.errors import Conflict, DomainError, NotFound, PlanLimitReached, ValidationError, field_named
from gateway.app import create_app
from gateway.graphql.errors import CODES as GRAPHQL_CODES
from gateway.graphql.errors import classify_exception
from gateway.http import codes
from gateway.http.problems import BadRequest, HeadersTooLarge, PayloadTooLarge, UnsupportedMediaType
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api, FakeClock, Tenant, invoice_body, line, payload
from tests.graphql_support import gql
from usecases.errors import Unauthenticated, Unavailable

UNKNOWN_ID = "6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"
CREATE_INVOICE = "mutation($input: InvoiceInput!) { createInvoice(input: $input) { id } }"


def coded(response: Any, status: int, code: str, field: str | None = None) -> str:
    """The answer is `status` with {"error", "code"} (and "field" when one is at fault)."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = payload(response)
    expected = {"error", "code"} | ({"field"} if field is not None else set())
    assert set(body) == expected, body
    assert body["code"] == code, body
    assert body.get("field") == field, body
    assert isinstance(body["error"], str) and body["error"].strip()
    return str(body["error"])


def graphql_errors(api: Api, query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = gql(api, query, variables)["errors"]
    return errors


# --- REST ---------------------------------------------------------------------------------


def test_a_missing_unknown_or_mistyped_field_is_validation_failed_with_its_path(api: Api) -> None:
    client = api.create_client()["id"]
    coded(api.post("/api/v1/clients", {}), 400, "VALIDATION_FAILED", "name")
    coded(api.post("/api/v1/clients", {"name": "A", "bogus": 1}), 400, "VALIDATION_FAILED", "bogus")
    nested = api.post("/api/v1/invoices", invoice_body(client, lineItems=[{**line(), "quantity": {}}]))
    assert coded(nested, 400, "VALIDATION_FAILED", "lineItems[0].quantity") == (
        "Field 'lineItems[0].quantity' must be a number"
    )
    missing = api.post("/api/v1/invoices", {"clientId": client, "lineItems": [{"description": "a", "quantity": 1}]})
    coded(missing, 400, "VALIDATION_FAILED", "lineItems[0].unitPrice")


def test_a_broken_rule_of_the_domain_names_its_field(api: Api) -> None:
    client = api.create_client()["id"]
    zero = api.post("/api/v1/invoices", invoice_body(client, lineItems=[line(), line(quantity=0)]))
    assert coded(zero, 400, "VALIDATION_FAILED", "lineItems[1].quantity").startswith(
        "Field 'lineItems[1].quantity' must be greater than 0"
    )
    dates = api.post("/api/v1/invoices", invoice_body(client, issueDate="2024-06-15", dueDate="2024-06-01"))
    coded(dates, 400, "VALIDATION_FAILED", "dueDate")
    coded(api.post("/api/v1/clients", {"name": "A", "email": "nope"}), 400, "VALIDATION_FAILED", "email")


def test_an_empty_list_of_lines_is_refused_in_the_domains_words_on_both_doors(api: Api) -> None:
    """Before: 'Request body does not match the contract: Expected `array` of length >= 1 - at `$.lineItems`'."""
    client = api.create_client()["id"]
    rest = coded(
        api.post("/api/v1/invoices", {"clientId": client, "lineItems": []}), 400, "VALIDATION_FAILED", "lineItems"
    )
    assert rest == "Field 'lineItems' must hold at least one line item"
    [error] = graphql_errors(api, CREATE_INVOICE, {"input": {"clientId": client, "lineItems": []}})
    assert error["message"] == rest
    assert error["extensions"] == {"code": "BAD_REQUEST", "reason": "VALIDATION_FAILED", "field": "lineItems"}


def test_each_kind_of_refusal_has_its_code(api: Api, open_tenant: Callable[..., Tenant]) -> None:
    client = api.create_client()["id"]
    api.create_invoice(client, invoiceNumber="INV-0100")
    coded(api.get(f"/api/v1/clients/{UNKNOWN_ID}"), 404, "NOT_FOUND")
    coded(api.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    coded(api.request("DELETE", "/api/v1/ledger/digest"), 405, "METHOD_NOT_ALLOWED")
    coded(api.post("/api/v1/invoices", invoice_body(client, invoiceNumber="inv-0100")), 409, "CONFLICT")
    coded(api.request("POST", "/api/v1/clients", content=b"{nope"), 400, "MALFORMED_REQUEST")
    typed = api.request("POST", "/api/v1/clients", content=b"{}", headers={"Content-Type": "text/plain"})
    coded(typed, 415, "UNSUPPORTED_MEDIA_TYPE")
    coded(api.get("/api/v1/invoices", page="0"), 400, "VALIDATION_FAILED")
    coded(Api(api.http, None).get("/api/v1/clients"), 401, "UNAUTHENTICATED")
    free = Api(api.http, open_tenant("free", "Small"))
    for number in range(5):
        free.create_client(name=f"Client {number}")
    coded(free.post("/api/v1/clients", {"name": "Sixth"}), 403, "PLAN_LIMIT")
    first = api.request("POST", "/api/v1/clients", {"name": "Once"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    reused = api.request("POST", "/api/v1/clients", {"name": "Twice"}, headers={"Idempotency-Key": "k-1"})
    coded(reused, 422, "IDEMPOTENCY_KEY_REUSED")


@pytest.fixture
def tight(make_settings: Callable[..., Settings], clock: FakeClock) -> Iterator[Api]:
    """An app with a budget of 3 requests a minute and bodies of at most 1 KiB."""
    settings = make_settings(CLEVERINVO_RATE_LIMIT="3/minute", CLEVERINVO_MAX_BODY_BYTES="1024")
    services = Services(settings, clock=clock)
    try:
        account_id = services.execute(lambda: services.app.open_account("Seller", "pro"))
        key_id, key = services.execute(lambda: services.app.issue_api_key(account_id, "tight"))
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
            yield Api(http, Tenant(account_id, key_id, key))
    finally:
        services.close()


def test_too_large_and_too_many_have_their_codes_and_graphql_says_when_to_retry(tight: Api) -> None:
    assert tight.tenant is not None
    coded(tight.post("/api/v1/clients", {"name": "x" * 2000}), 413, "PAYLOAD_TOO_LARGE")
    too_large = tight.http.post(
        "/graphql", json={"query": "{ clients { total } }", "x": "y" * 2000}, headers=tight.tenant.headers
    )
    assert too_large.status_code == 413
    assert too_large.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "reason": "PAYLOAD_TOO_LARGE"}
    tight.get("/api/v1/clients")
    coded(tight.get("/api/v1/clients"), 429, "RATE_LIMITED")
    refused = tight.http.post("/graphql", json={"query": "{ clients { total } }"}, headers=tight.tenant.headers)
    assert refused.status_code == 429
    extensions = refused.json()["errors"][0]["extensions"]
    assert extensions == {
        "code": "RATE_LIMITED",
        "reason": "RATE_LIMITED",
        "retryAfter": int(refused.headers["retry-after"]),
    }


# --- GraphQL ------------------------------------------------------------------------------


def test_graphql_refuses_the_same_input_with_the_same_message_code_and_field(api: Api) -> None:
    client = api.create_client()["id"]
    body = invoice_body(client, lineItems=[line(), line(quantity=0)])
    rest = coded(api.post("/api/v1/invoices", body), 400, "VALIDATION_FAILED", "lineItems[1].quantity")
    [error] = graphql_errors(api, CREATE_INVOICE, {"input": body})
    assert error["message"] == rest
    assert error["extensions"] == {
        "code": "BAD_REQUEST",
        "reason": "VALIDATION_FAILED",
        "field": "lineItems[1].quantity",
    }


@pytest.mark.parametrize(
    ("change", "message", "field"),
    [
        ({"quantity": {}}, "Field 'lineItems[0].quantity' must be a number", "lineItems[0].quantity"),
        ({"taxRate": "abc"}, "Field 'lineItems[0].taxRate' must be a number", "lineItems[0].taxRate"),
        ({"description": 5}, "Field 'lineItems[0].description' must be a string", "lineItems[0].description"),
        ({"quantity": None}, "Missing required field: lineItems[0].quantity", "lineItems[0].quantity"),
        ({"bogus": 1}, "Unknown field: lineItems[0].bogus", "lineItems[0].bogus"),
    ],
)
def test_a_variable_of_the_wrong_shape_is_told_in_rests_words(
    api: Api, change: dict[str, Any], message: str, field: str
) -> None:
    """Before: "Variable '$input' has invalid value at .lineItems[0]: Expected value of type
    'LineItemInput' to include required field 'quantity', found: {...}." """
    client = api.create_client()["id"]
    body = {"clientId": client, "lineItems": [{**line(), **change}]}
    rest = coded(api.post("/api/v1/invoices", body), 400, "VALIDATION_FAILED", field)
    [error] = graphql_errors(api, CREATE_INVOICE, {"input": body})
    graphql = {"message": error["message"], **error["extensions"]}
    assert graphql == {"message": message, "code": "BAD_REQUEST", "reason": "VALIDATION_FAILED", "field": field}
    assert rest.startswith(message)  # REST adds " or null" where null is allowed


def test_graphql_keeps_its_codes_and_adds_the_reason(api: Api, open_tenant: Callable[..., Tenant]) -> None:
    [missing] = graphql_errors(api, "query($id: ID!) { client(id: $id) { name } }", {"id": UNKNOWN_ID})
    assert missing["extensions"] == {"code": "NOT_FOUND", "reason": "NOT_FOUND"}
    free = Api(api.http, open_tenant("free", "Small"))
    for number in range(5):
        free.create_client(name=f"Client {number}")
    [limit] = graphql_errors(free, 'mutation { createClient(input: {name: "Sixth"}) { id } }')
    assert limit["extensions"] == {"code": "FORBIDDEN", "reason": "PLAN_LIMIT"}
    [unparsed] = graphql_errors(api, "{ clients {")
    assert unparsed["extensions"] == {"code": "BAD_REQUEST", "reason": "INVALID_QUERY"}


# --- the table ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "status", "graphql"),
    [
        (ValidationError("Field 'email' must be a valid email address"), "VALIDATION_FAILED", 400, "BAD_REQUEST"),
        (DomainError("This email already signs in to an account"), "VALIDATION_FAILED", 400, "BAD_REQUEST"),
        (NotFound("Invoice not found"), "NOT_FOUND", 404, "NOT_FOUND"),
        (Conflict("Invoice number already exists: INV-0001"), "CONFLICT", 409, "CONFLICT"),
        (PlanLimitReached("Plan limit reached: at most 5 active clients"), "PLAN_LIMIT", 403, "FORBIDDEN"),
        (Unavailable("The write was saved"), "UNAVAILABLE", 503, "UNAVAILABLE"),
        (Unauthenticated("The key was revoked"), "UNAUTHENTICATED", 401, "UNAUTHENTICATED"),
        (BadRequest("Request body is not valid JSON"), "MALFORMED_REQUEST", 400, "BAD_REQUEST"),
        (BadRequest("Unknown field: bogus"), "VALIDATION_FAILED", 400, "BAD_REQUEST"),
        (BadRequest("Parameter 'page' must be an integer >= 1"), "VALIDATION_FAILED", 400, "BAD_REQUEST"),
        (PayloadTooLarge("Request body is larger than 10 bytes"), "PAYLOAD_TOO_LARGE", 413, "BAD_REQUEST"),
        (UnsupportedMediaType("Request body must be sent as JSON"), "UNSUPPORTED_MEDIA_TYPE", 415, "BAD_REQUEST"),
        (HeadersTooLarge("Request head is larger than 16384 bytes"), "HEADERS_TOO_LARGE", 431, "BAD_REQUEST"),
    ],
)
def test_one_table_gives_each_error_its_code_status_and_graphql_code(
    error: Exception, code: str, status: int, graphql: str
) -> None:
    meaning = codes.meaning_of(error)
    assert meaning == codes.Meaning(code, status, graphql)
    assert meaning.code in codes.CODES and meaning.graphql in GRAPHQL_CODES


class StoreTampered(DomainError):
    """A domain error of a class the table does not list yet, with a code of its own."""

    code = "INTEGRITY_FAILURE"
    status = 503


def test_a_domain_error_the_table_does_not_list_keeps_its_own_code_and_status() -> None:
    assert codes.meaning_of(StoreTampered("Stream x does not verify")) == codes.Meaning(
        "INTEGRITY_FAILURE", 503, "UNAVAILABLE"
    )
    told = classify_exception(StoreTampered("Stream x does not verify"))
    assert (told.code, told.reason, told.message) == ("UNAVAILABLE", "INTEGRITY_FAILURE", "Stream x does not verify")


def test_every_status_we_answer_has_a_code() -> None:
    for status in (400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 431, 500, 503):
        meaning = codes.by_status(status)
        assert meaning.code in codes.CODES and meaning.graphql in GRAPHQL_CODES and meaning.status == status
    assert codes.by_status(418).code == "MALFORMED_REQUEST"  # a 4xx we never send: the client's
    assert codes.by_status(502).code == "INTERNAL"


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("Field 'lineItems[0].quantity' must be greater than 0", "lineItems[0].quantity"),
        ("Missing required field: lineItems[2].unitPrice", "lineItems[2].unitPrice"),
        ("Unknown field: bogus", "bogus"),
        ("Field 'dueDate' must be on or after 'issueDate'", "dueDate"),
        ("Fields 'to' and 'cc' need \"email\": true", None),
        ("Invoice not found", None),
        ("Parameter 'page' must be an integer >= 1", None),
    ],
)
def test_the_field_is_read_from_the_contracts_words(message: str, field: str | None) -> None:
    assert field_named(message) == field
    assert ValidationError(message).field == field

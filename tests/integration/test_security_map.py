"""Gaps the OWASP API Security Top 10 map (tests/README.md) found in the other test files.

Each test here closes one gap named in that map; the rest of the map points at the tests
that already cover an item. Nothing is faked: the real app, the real store, two accounts.
"""

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import graphql
import pytest
from starlette.routing import Mount, Route, WebSocketRoute

from gateway.app import create_app
from gateway.services import Services
from gateway.settings import Settings
from tests.conftest import Api, TestClient, assert_error, line, payload, stored_state
from tests.graphql_support import error, gql

ROOT = Path(__file__).resolve().parents[2]
UNKNOWN_ID = "6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"


@dataclass
class Foreign:
    """Our account (``api``) and records of another account that we must never reach."""

    api: Api
    other: Api
    client: str  # theirs
    draft: str  # theirs, DRAFT
    sent: str  # theirs, SENT with a live payment
    payment: str  # theirs, on ``sent``
    my_sent: str  # ours, SENT with a live payment
    my_payment: str


def _sent_with_payment(api: Api, client_id: str, number: str) -> tuple[str, str]:
    invoice_id = api.create_invoice(client_id, invoiceNumber=number)["id"]
    assert api.post(f"/api/v1/invoices/{invoice_id}/send", {}).status_code == 200
    response = api.post(f"/api/v1/invoices/{invoice_id}/payments", {"amount": "10.00"})
    assert response.status_code == 201, response.text
    return invoice_id, payload(response)["data"]["id"]


@pytest.fixture
def foreign(api: Api, http: TestClient, open_tenant: Any) -> Foreign:
    other = Api(http, open_tenant("pro", "Other"))
    client = other.create_client(name="Theirs", email="theirs@other.test")["id"]
    draft = other.create_invoice(client, invoiceNumber="THEIRS-1")["id"]
    sent, payment = _sent_with_payment(other, client, "THEIRS-2")
    mine = api.create_client(name="Mine")["id"]
    my_sent, my_payment = _sent_with_payment(api, mine, "MINE-1")
    return Foreign(api, other, client, draft, sent, payment, my_sent, my_payment)


# --- API1: object level, every REST route with an id ---------------------------------------------

# Routes whose path takes a record id, each with how to call it; the sweep below checks
# this list against the app's own route table, so a new route cannot be left out.
REST_CALLS: dict[tuple[str, str], Any] = {
    ("GET", "/api/v1/clients/{client_id}"): None,
    ("PUT", "/api/v1/clients/{client_id}"): {"name": "Mine now"},
    ("PATCH", "/api/v1/clients/{client_id}"): {"isActive": False},
    ("DELETE", "/api/v1/clients/{client_id}"): None,
    ("GET", "/api/v1/clients/{client_id}/history"): None,
    ("GET", "/api/v1/invoices/{invoice_id}"): None,
    ("PUT", "/api/v1/invoices/{invoice_id}"): {"notes": "mine now"},
    ("PATCH", "/api/v1/invoices/{invoice_id}"): {"notes": "mine now"},
    ("DELETE", "/api/v1/invoices/{invoice_id}"): None,
    ("GET", "/api/v1/invoices/{invoice_id}/pdf"): None,
    ("GET", "/api/v1/invoices/{invoice_id}/history"): None,
    ("POST", "/api/v1/invoices/{invoice_id}/send"): {"email": True, "to": ["x@evil.test"]},
    ("POST", "/api/v1/invoices/{invoice_id}/void"): {"reason": "gotcha"},
    ("GET", "/api/v1/invoices/{invoice_id}/payments"): None,
    ("POST", "/api/v1/invoices/{invoice_id}/payments"): {"amount": "1.00"},
    ("DELETE", "/api/v1/invoices/{invoice_id}/payments/{payment_id}"): None,
}
# Outside /api/ no route takes a record id: /i/{token} is a capability link (the unguessable
# token is the authorisation, tests/integration/test_share.py) and /graphql/static/{name} a vendored asset.


def _routes_with_ids(app: Any) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if isinstance(route, Route) and "{" in route.path and route.path.startswith("/api/"):
            found |= {(method, route.path) for method in route.methods or () if method != "HEAD"}
    return found


def test_the_sweep_covers_every_rest_route_with_an_id(settings: Settings, services: Services):
    assert _routes_with_ids(create_app(settings, services)) == set(REST_CALLS)


@pytest.mark.parametrize("state", ["draft", "sent"])
@pytest.mark.parametrize(("method", "template"), list(REST_CALLS))
def test_another_accounts_id_is_404_on_every_rest_route_in_any_state_and_changes_nothing(
    foreign: Foreign, services: Services, method: str, template: str, state: str
):
    """404, never 409 or 403: a foreign record's state must not show through either."""
    invoice = foreign.draft if state == "draft" else foreign.sent
    url = template.format(client_id=foreign.client, invoice_id=invoice, payment_id=foreign.payment)
    before = stored_state(services)
    assert_error(foreign.api.request(method, url, REST_CALLS[(method, template)]), 404)
    for query in ({"version": "1"}, {"asOf": "2030-01-01T00:00:00.000Z"}):
        if method == "GET" and "{invoice_id}" in template and template.endswith(("}", "/pdf")):
            assert_error(foreign.api.get(url, **query), 404)
    assert stored_state(services) == before


def test_our_invoice_cannot_reverse_or_be_moved_onto_another_accounts_records(foreign: Foreign, services: Services):
    draft = foreign.api.create_invoice(foreign.api.create_client(name="Mine too")["id"])["id"]
    before = stored_state(services)
    assert_error(foreign.api.delete(f"/api/v1/invoices/{foreign.my_sent}/payments/{foreign.payment}"), 404)
    for method in ("PUT", "PATCH"):
        url = f"/api/v1/invoices/{draft}"
        theirs = assert_error(foreign.api.request(method, url, {"clientId": foreign.client}), 400)
        unknown = assert_error(foreign.api.request(method, url, {"clientId": UNKNOWN_ID}), 400)
        assert theirs == unknown  # refused like a client that does not exist: nothing to learn
    listed = payload(foreign.api.get("/api/v1/invoices", clientId=foreign.client))
    assert listed["total"] == 0 and listed["data"] == []
    assert stored_state(services) == before


# --- API1: object level, every GraphQL field taking an id ----------------------------------------

GRAPHQL_CALLS = {
    "Query.client": '{{ client(id: "{client}") {{ id }} }}',
    "Query.invoice": '{{ invoice(id: "{invoice}") {{ id }} }}',
    "Query.invoice@version": '{{ invoice(id: "{invoice}", version: 1) {{ id }} }}',
    "Query.invoice@asOf": '{{ invoice(id: "{invoice}", asOf: "2030-01-01T00:00:00.000Z") {{ id }} }}',
    "Mutation.updateClient": 'mutation {{ updateClient(id: "{client}", input: {{name: "x"}}) {{ id }} }}',
    "Mutation.deleteClient": 'mutation {{ deleteClient(id: "{client}") }}',
    "Mutation.updateInvoice": 'mutation {{ updateInvoice(id: "{invoice}", input: {{notes: "x"}}) {{ id }} }}',
    "Mutation.deleteInvoice": 'mutation {{ deleteInvoice(id: "{invoice}") }}',
    "Mutation.sendInvoice": 'mutation {{ sendInvoice(id: "{invoice}", input: {{email: true}}) {{ id }} }}',
    "Mutation.voidInvoice": 'mutation {{ voidInvoice(id: "{invoice}", reason: "x") {{ id }} }}',
    "Mutation.recordPayment": 'mutation {{ recordPayment(id: "{invoice}", input: {{amount: "1"}}) {{ id }} }}',
    "Mutation.reversePayment": 'mutation {{ reversePayment(id: "{invoice}", paymentId: "{payment}") {{ id }} }}',
    "Mutation.reversePayment@ours": 'mutation {{ reversePayment(id: "{mine}", paymentId: "{payment}") {{ id }} }}',
}
# Fields whose ID argument filters a list instead of naming a record, and input fields
# naming a client: their foreign ids are checked by the second GraphQL test below.
GRAPHQL_FILTERS = {"Query.invoices", "InvoiceInput.clientId", "InvoiceUpdateInput.clientId"}


def _schema() -> graphql.GraphQLSchema:
    return graphql.build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))


def _named(kind: Any) -> Any:
    return graphql.get_named_type(kind)


def test_the_sweep_covers_every_graphql_field_taking_an_id():
    schema = _schema()
    taking_ids = set()
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        for name, field in (root.fields if root else {}).items():
            if any(_named(arg.type).name == "ID" for arg in field.args.values()):
                taking_ids.add(f"{root.name}.{name}")  # type: ignore[union-attr]
    for type_ in schema.type_map.values():
        if isinstance(type_, graphql.GraphQLInputObjectType):
            taking_ids |= {f"{type_.name}.{n}" for n, f in type_.fields.items() if _named(f.type).name == "ID"}
    assert taking_ids == {call.split("@")[0] for call in GRAPHQL_CALLS} | GRAPHQL_FILTERS


@pytest.mark.parametrize("state", ["draft", "sent"])
@pytest.mark.parametrize("call", list(GRAPHQL_CALLS))
def test_another_accounts_id_is_not_found_on_every_graphql_field_and_changes_nothing(
    foreign: Foreign, services: Services, call: str, state: str
):
    invoice = foreign.draft if state == "draft" else foreign.sent
    query = GRAPHQL_CALLS[call].format(
        client=foreign.client, invoice=invoice, payment=foreign.payment, mine=foreign.my_sent
    )
    before = stored_state(services)
    code, _ = error(foreign.api, query)
    assert code == "NOT_FOUND", (call, code)
    assert stored_state(services) == before


def test_graphql_filters_and_inputs_with_another_accounts_client_reach_nothing(foreign: Foreign, services: Services):
    before = stored_state(services)
    listed = gql(foreign.api, f'{{ invoices(clientId: "{foreign.client}") {{ total data {{ id }} }} }}')
    assert listed["data"]["invoices"] == {"total": 0, "data": []}
    lines = '[{description: "x", quantity: "1", unitPrice: "1"}]'
    draft = foreign.api.create_invoice(foreign.api.create_client(name="Mine too")["id"])["id"]
    before = stored_state(services)
    create = f'mutation {{ createInvoice(input: {{clientId: "CLIENT", lineItems: {lines}}}) {{ id }} }}'
    update = f'mutation {{ updateInvoice(id: "{draft}", input: {{clientId: "CLIENT"}}) {{ id }} }}'
    for template in (create, update):
        theirs = error(foreign.api, template.replace("CLIENT", foreign.client))
        assert theirs == error(foreign.api, template.replace("CLIENT", UNKNOWN_ID))  # as if it were not there
        assert theirs[0] == "BAD_REQUEST"
    assert stored_state(services) == before


# --- API2: a key is kept only as its hash --------------------------------------------------------


@pytest.mark.sqlite_only("reads every byte the stores keep from the SQLite files in the data directory")
def test_a_key_is_kept_only_as_its_hash(api: Api, services: Services, data_dir: Path):
    """Events are stored uncompressed, so a key written anywhere would show in the bytes."""
    assert api.tenant is not None
    api.create_client(name="Acme Corp")  # the key in use: authenticated, rate-counted, logged
    services.projector.catch_up()
    stored = b"".join(path.read_bytes() for path in data_dir.rglob("*") if path.is_file())
    assert b"Acme Corp" in stored  # what was written is readable there
    assert api.tenant.key.encode() not in stored
    assert api.tenant.key.removeprefix("cinv_").encode() not in stored


# --- API4: GraphQL pages are capped as REST's are ------------------------------------------------


@pytest.mark.parametrize(
    ("field", "rest", "args"),
    [
        ("clients", "/api/v1/clients", {"limit": "101"}),
        ("invoices", "/api/v1/invoices", {"limit": "100000"}),
        ("invoices", "/api/v1/invoices", {"page": "0"}),
        ("events", "/api/v1/events", {"limit": "501"}),
    ],
)
def test_graphql_pages_have_the_rest_caps_with_the_same_message(api: Api, field: str, rest: str, args: dict[str, str]):
    arguments = ", ".join(f"{name}: {value}" for name, value in args.items())
    selection = "next" if field == "events" else "total"
    code, message = error(api, f"{{ {field}({arguments}) {{ {selection} }} }}")
    assert code == "BAD_REQUEST"
    assert message == assert_error(api.get(rest, **args), 400)


# --- API3: property level ------------------------------------------------------------------------

HOSTILE_READ_ONLY = {
    "status": "DRAFT",  # the one value it may be sent back as (other values: tests/integration/test_api_lifecycle.py)
    "subtotal": "0.01",
    "taxTotal": "0",
    "discountTotal": "4999",
    "total": "0.01",
    "amountPaid": "5500.00",
    "balanceDue": "0",
    "paidAt": "2024-01-01T00:00:00.000Z",
    "sentAt": "2024-01-01T00:00:00.000Z",
    "voidedAt": None,
    "shareUrl": "https://evil.test/i/x",
    "emailStatus": "delivered",
    "pdfWarnings": [],
    "createdAt": "2000-01-01T00:00:00.000Z",
}


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_invoice_fields_the_service_computes_cannot_be_assigned(api: Api, method: str):
    client_id = api.create_client()["id"]
    hostile_line = {**line(), "amount": "0.01", "discount": "4999"}
    body = {"clientId": client_id, "lineItems": [hostile_line], **HOSTILE_READ_ONLY}
    if method == "POST":
        response = api.post("/api/v1/invoices", body)
        assert response.status_code == 201, response.text
        invoice_id = payload(response)["data"]["id"]
    else:
        invoice_id = api.create_invoice(client_id)["id"]
        response = api.request(method, f"/api/v1/invoices/{invoice_id}", {**body, "id": UNKNOWN_ID})
        assert response.status_code == 200, response.text
    detail = api.invoice(invoice_id)
    assert detail["id"] == invoice_id and detail["status"] == "DRAFT"
    assert (detail["subtotal"], detail["taxTotal"], detail["total"]) == (
        Decimal("5000.00"),
        Decimal("500.00"),
        Decimal("5500.00"),
    )
    assert (detail["amountPaid"], detail["balanceDue"]) == (Decimal("0.00"), Decimal("5500.00"))
    assert detail["lineItems"][0]["amount"] == Decimal("5000.00")
    assert detail["paidAt"] is detail["sentAt"] is detail["shareUrl"] is detail["emailStatus"] is None
    assert not detail["createdAt"].startswith("2000")


READ_ONLY_NAMES = {
    "id",
    "status",
    "subtotal",
    "taxTotal",
    "discountTotal",
    "total",
    "amountPaid",
    "balanceDue",
    "createdAt",
    "updatedAt",
    "sentAt",
    "paidAt",
    "viewedAt",
    "overdueAt",
    "voidedAt",
    "shareUrl",
    "emailStatus",
    "emailError",
    "pdfWarnings",
    "reversedAt",
    "accountId",
}


def test_no_graphql_input_type_has_a_field_the_service_computes():
    schema = _schema()
    inputs = {name: t for name, t in schema.type_map.items() if isinstance(t, graphql.GraphQLInputObjectType)}
    assert inputs  # the schema does take inputs
    assignable = {f"{name}.{field}" for name, t in inputs.items() for field in t.fields if field in READ_ONLY_NAMES}
    assert assignable == set()
    assert not {"amount", "discount"} & set(inputs["LineItemInput"].fields)  # a line's are computed too


# --- API5 and API9: the whole surface, pinned ---------------------------------------------------

SURFACE = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),  # readiness for a load balancer: no key, no data (tests/e2e/test_ready_redis.py)
    ("GET", "/api/v1/clients"),
    ("POST", "/api/v1/clients"),
    ("GET", "/api/v1/invoices"),
    ("POST", "/api/v1/invoices"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/ledger/digest"),
    ("ANY", "/graphql"),  # GraphQL over GET and POST (other methods: 405), GraphiQL for a browser
    ("WEBSOCKET", "/graphql"),  # subscriptions only (tests/integration/test_graphql_subscription.py)
    ("GET", "/i/{token}"),
    ("GET", "/i/{token}/pdf"),
    ("GET", "/api/v1/openapi.json"),  # the contract's document: public, no data (tests/integration/test_openapi.py)
    ("GET", "/docs"),  # Swagger UI for it: public, no data (tests/e2e/test_docs_page.py)
    *REST_CALLS,
}
# The owners' dashboard (gateway/dashboard): every page needs a session, every POST its CSRF
# token, and an owner reaches only their own account (tests/README.md, "The dashboard").
DASHBOARD = {
    ("GET", "/dashboard/"),
    ("GET", "/dashboard/sign-in"),
    ("POST", "/dashboard/sign-in"),
    ("POST", "/dashboard/sign-out"),
    ("GET", "/dashboard/welcome/{token}"),
    ("POST", "/dashboard/welcome/{token}"),
    ("POST", "/dashboard/language"),
    ("GET", "/dashboard/keys"),
    ("POST", "/dashboard/keys"),
    ("POST", "/dashboard/keys/{key_id}/revoke"),
    ("GET", "/dashboard/clients"),
    ("GET", "/dashboard/clients/new"),
    ("POST", "/dashboard/clients/new"),
    ("GET", "/dashboard/clients/{client_id}"),
    ("POST", "/dashboard/clients/{client_id}"),
    ("POST", "/dashboard/clients/{client_id}/deactivate"),
    ("POST", "/dashboard/clients/{client_id}/reactivate"),
    ("GET", "/dashboard/invoices"),
    ("GET", "/dashboard/invoices/new"),
    ("POST", "/dashboard/invoices/new"),
    ("POST", "/dashboard/invoices/price"),
    ("GET", "/dashboard/invoices/{invoice_id}"),
    ("GET", "/dashboard/invoices/{invoice_id}/edit"),
    ("POST", "/dashboard/invoices/{invoice_id}/edit"),
    ("GET", "/dashboard/invoices/{invoice_id}/pdf"),
    ("POST", "/dashboard/invoices/{invoice_id}/send"),
    ("POST", "/dashboard/invoices/{invoice_id}/payments"),
    ("POST", "/dashboard/invoices/{invoice_id}/payments/{payment_id}/reverse"),
    ("POST", "/dashboard/invoices/{invoice_id}/void"),
    ("POST", "/dashboard/invoices/{invoice_id}/delete"),
    ("GET", "/dashboard/settings"),
    ("POST", "/dashboard/settings"),
    ("GET", "/dashboard/settings/export"),
    ("POST", "/dashboard/settings/password"),  # the current password first, sign-in's budget
    ("GET", "/dashboard/static/{name}"),  # its stylesheet, script and icon, a fixed list
}
MUTATIONS = {
    "createClient",
    "updateClient",
    "deleteClient",
    "createInvoice",
    "updateInvoice",
    "deleteInvoice",
    "sendInvoice",
    "recordPayment",
    "reversePayment",
    "voidInvoice",
}


def test_the_served_routes_are_exactly_the_mapped_ones(settings: Settings, services: Services):
    """A route added without a line in tests/README.md (and an owner check) fails here."""
    served = set()
    routes = [(route, "") for route in create_app(settings, services).routes]
    while routes:
        route, prefix = routes.pop()
        if isinstance(route, Mount):
            routes += [(inner, prefix + route.path) for inner in route.routes]
            continue
        path = prefix + route.path
        methods = {"WEBSOCKET"} if isinstance(route, WebSocketRoute) else route.methods or {"ANY"}
        if path in ("/graphql/static/{name}", "/docs/static/{name}"):
            continue  # GraphiQL's and Swagger UI's own assets, fixed lists (test_graphiql.py, test_docs_page.py)
        served |= {(method, path) for method in methods if method != "HEAD"}
    assert served == SURFACE | DASHBOARD
    mutation = _schema().mutation_type
    assert mutation is not None and set(mutation.fields) == MUTATIONS  # nothing on accounts, keys or plans


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/accounts",
        "/api/v1/accounts/{account}",
        "/api/v1/accounts/{account}/keys",
        "/api/v1/keys",
        "/api/v1/keys/{key}",
        "/api/v1/admin",
        "/admin",
        "/api/v1/plans",
        "/api/v1/accounts/{account}/plan",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_accounts_keys_and_plans_are_not_administered_over_http(api: Api, services: Services, path: str, method: str):
    assert api.tenant is not None
    url = path.format(account=api.tenant.account_id, key=api.tenant.key_id)
    before = stored_state(services)
    body = {"plan": "business", "name": "x"} if method in ("POST", "PUT", "PATCH") else None
    assert_error(api.request(method, url, body), 404)
    assert stored_state(services) == before


# --- API8: headers and cross-origin --------------------------------------------------------------


def test_the_services_own_graphiql_page_sends_the_security_headers(http: TestClient):
    """tests/e2e/test_graphiql.py checks the policy on a stand-in app; this is the served one."""
    response = http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "script-src 'self'" in policy


def test_no_other_origin_is_allowed_to_read_answers(api: Api, anonymous: Api):
    origin = {"Origin": "https://evil.test"}
    preflight = {**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    answers = [
        api.request("GET", "/api/v1/clients", headers=origin),
        api.request("OPTIONS", "/api/v1/clients", headers=preflight),
        anonymous.request("OPTIONS", "/graphql", headers=preflight),
        api.http.post("/graphql", json={"query": "{ clients { total } }"}, headers={**origin, **api.tenant.headers}),  # type: ignore[union-attr]
    ]
    for response in answers:
        assert not [name for name in response.headers if name.lower().startswith("access-control-")], response.headers


# --- API8: every API answer is hardened -------------------------------------------------------------


def test_api_answers_are_neither_sniffed_nor_cached(api: Api, anonymous: Api):
    client_id = api.create_client()["id"]
    invoice_id = api.create_invoice(client_id)["id"]
    answers = [
        api.get("/api/v1/clients"),
        api.get(f"/api/v1/invoices/{invoice_id}"),
        api.get("/api/v1/invoices/6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"),  # 404
        anonymous.get("/api/v1/clients"),  # 401, refused by the guard
        api.post("/api/v1/clients", {"name": ""}),  # 400
        api.http.post("/graphql", json={"query": "{ clients { total } }"}, headers=api.tenant.headers),  # type: ignore[union-attr]
        anonymous.http.post("/graphql", json={"query": "{ clients { total } }"}),  # 401 in GraphQL's shape
    ]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff", (answer.request.url, answer.headers)
        assert answer.headers["cache-control"] == "no-store", (answer.request.url, answer.headers)
    pdf = api.get(f"/api/v1/invoices/{invoice_id}/pdf")  # keeps its own: revalidated by ETag
    assert pdf.headers["cache-control"] == "private, no-cache" and pdf.headers["x-content-type-options"] == "nosniff"

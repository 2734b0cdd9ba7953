"""The GraphQL door through the real ASGI app: every query and mutation, parity with REST
(the same values, the same errors), tenant isolation, and the query count of a page."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from domain.invoice import InvoiceDraft, Sending
from domain.money import LineItemDraft
from gateway.graphql.costs import MAX_COST
from gateway.graphql.sdl import sdl
from gateway.services import Services
from tests.conftest import INVOICE_DETAIL_KEYS, Api, FakeClock, Tenant, assert_error, payload
from tests.graphql_support import CLIENT_FIELDS, INVOICE_FIELDS, PAYMENT_FIELDS, data, error, gql

ROOT = Path(__file__).resolve().parents[2]
UNKNOWN = "6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"
LINE = '{description: "X", quantity: "1", unitPrice: "1"}'


DECIMALS = {
    "quantity",
    "unitPrice",
    "amount",
    "taxRate",
    "discountRate",
    "discount",
    "subtotal",
    "taxTotal",
    "discountTotal",
    "total",
    "amountPaid",
    "balanceDue",
}


def wire(value: Any, key: str = "") -> Any:
    """A REST body (numbers read as Decimal) as GraphQL writes it: the Decimal fields as
    exact strings, counts as integers. Keys inside ``changes`` keep their REST names too."""
    if isinstance(value, dict):  # a page's "total" counts rows; an invoice's is money
        return {k: wire(item, "count" if k == "total" and "totalPages" in value else k) for k, item in value.items()}
    if isinstance(value, list):
        return [wire(item, key) for item in value]
    if isinstance(value, Decimal):
        return format(value, "f") if key in DECIMALS else int(value)
    return value


def rest(api: Api, path: str) -> Any:
    response = api.get(path)
    assert response.status_code == 200, response.text
    return payload(response)["data"]


CREATE_CLIENT = f"mutation($input: ClientInput!) {{ createClient(input: $input) {{ {CLIENT_FIELDS} }} }}"
CREATE_INVOICE = f"mutation($input: InvoiceInput!) {{ createInvoice(input: $input) {{ {INVOICE_FIELDS} }} }}"
INVOICE = f"query($id: ID!) {{ invoice(id: $id) {{ {INVOICE_FIELDS} }} }}"


def new_client(api: Api, **fields: Any) -> dict[str, Any]:
    return data(api, CREATE_CLIENT, {"input": {"name": "Acme Corp", **fields}})["createClient"]  # type: ignore[no-any-return]


def new_invoice(api: Api, client_id: str, **fields: Any) -> dict[str, Any]:
    line = {"description": "Web Development", "quantity": "40", "unitPrice": "125.00", "taxRate": "10"}
    found = data(api, CREATE_INVOICE, {"input": {"clientId": client_id, "lineItems": [line], **fields}})
    return found["createInvoice"]  # type: ignore[no-any-return]


# --- the schema file ------------------------------------------------------------------------


def test_schema_graphql_is_the_sdl_of_the_code():
    written = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert written == sdl(), "regenerate it: python -m gateway.graphql.sdl"


# --- clients --------------------------------------------------------------------------------


def test_clients_through_graphql_read_back_through_rest_alike(api: Api):
    created = new_client(api, email="billing@acme.test", taxId="US-1", address="1 Main St\nNYC", phone="+1", notes="n")
    assert wire(rest(api, f"/api/v1/clients/{created['id']}")) == created
    changed = data(
        api,
        'mutation($id: ID!) { updateClient(id: $id, input: {name: "Acme Inc", phone: null}) '
        f"{{ {CLIENT_FIELDS} }} }}",
        {"id": created["id"]},
    )["updateClient"]
    assert (changed["name"], changed["phone"], changed["email"]) == ("Acme Inc", None, "billing@acme.test")
    assert wire(rest(api, f"/api/v1/clients/{created['id']}")) == changed
    listed = data(
        api,
        '{ clients(page: 1, limit: 10, search: "acme") { total page limit totalPages nextCursor '
        f"data {{ {CLIENT_FIELDS} }} }} }}",
    )
    assert wire(payload(api.get("/api/v1/clients", page="1", limit="10", search="acme"))) == listed["clients"]
    assert data(api, "mutation($id: ID!) { deleteClient(id: $id) }", {"id": created["id"]}) == {"deleteClient": True}
    assert rest(api, f"/api/v1/clients/{created['id']}")["isActive"] is False
    query = "query($id: ID!) { client(id: $id) { isActive history { type actor { type name } } } }"
    one = data(api, query, {"id": created["id"]})
    assert one["client"]["isActive"] is False
    assert [e["type"] for e in one["client"]["history"]] == ["created", "updated", "deactivated"]
    assert one["client"]["history"][0]["actor"] == {"type": "apiKey", "name": "tests"}


def test_a_client_made_through_rest_reads_alike_through_graphql(api: Api):
    made = api.create_client(name="Beta", email="b@beta.test")
    got = data(api, f"query($id: ID!) {{ client(id: $id) {{ {CLIENT_FIELDS} }} }}", {"id": made["id"]})["client"]
    assert got == wire(made)


# --- invoices -------------------------------------------------------------------------------


def test_an_invoice_through_graphql_reads_back_through_rest_alike(api: Api):
    client = new_client(api, email="billing@acme.test")
    created = new_invoice(api, client["id"], notes="Thanks", currency="EUR", issueDate="2024-06-01")
    assert set(created) == INVOICE_DETAIL_KEYS | {"updatedAt"}
    assert wire(rest(api, f"/api/v1/invoices/{created['id']}")) == created
    assert (created["total"], created["status"], created["invoiceNumber"]) == ("5500.00", "DRAFT", "INV-0001")
    query = (
        'mutation($id: ID!) { updateInvoice(id: $id, input: {notes: null, dueDate: "2024-08-01"}) '
        f"{{ {INVOICE_FIELDS} }} }}"
    )
    updated = data(api, query, {"id": created["id"]})["updateInvoice"]
    assert (updated["notes"], updated["dueDate"]) == (None, "2024-08-01")
    assert wire(rest(api, f"/api/v1/invoices/{created['id']}")) == updated
    listed = data(
        api,
        "query($c: ID) { invoices(clientId: $c, status: DRAFT, limit: 5) { total page limit totalPages nextCursor "
        "data { id clientId invoiceNumber currency issueDate dueDate subtotal taxTotal discountTotal total status "
        "amountPaid balanceDue createdAt updatedAt client { name email } } } }",
        {"c": client["id"]},
    )["invoices"]
    assert listed == wire(payload(api.get("/api/v1/invoices", clientId=client["id"], status="DRAFT", limit="5")))
    assert data(api, "mutation($id: ID!) { deleteInvoice(id: $id) }", {"id": created["id"]}) == {"deleteInvoice": True}
    assert_error(api.get(f"/api/v1/invoices/{created['id']}"), 404)


def test_an_invoice_made_through_rest_reads_alike_through_graphql(api: Api):
    client = api.create_client(name="Acme", email="a@acme.test")
    invoice_id = api.create_invoice(client["id"], notes="Hello", terms="Net 30")["id"]
    got = data(api, INVOICE, {"id": invoice_id})["invoice"]
    assert got == wire(api.invoice(invoice_id))


def test_the_invoice_life_through_graphql(api: Api, clock: FakeClock):
    invoice_id = new_invoice(api, new_client(api, email="billing@acme.test")["id"])["id"]
    sent = data(
        api,
        f'mutation($id: ID!) {{ sendInvoice(id: $id, input: {{message: "Hi"}}) {{ {INVOICE_FIELDS} }} }}',
        {"id": invoice_id},
    )["sendInvoice"]
    assert sent["status"] == "SENT" and sent["shareUrl"].startswith("http://testserver/i/")
    assert wire(api.invoice(invoice_id)) == sent
    paid = data(
        api,
        f'mutation($id: ID!) {{ recordPayment(id: $id, input: {{amount: "1000.00", date: "2024-06-20", '
        f'method: "card"}}) {{ {PAYMENT_FIELDS} invoice {{ status amountPaid balanceDue paidAt }} }} }}',
        {"id": invoice_id},
    )["recordPayment"]
    assert (paid["amount"], paid["date"], paid["method"]) == ("1000.00", "2024-06-20", "card")
    balance = {"status": "PARTIALLY_PAID", "amountPaid": "1000.00", "balanceDue": "4500.00", "paidAt": None}
    assert paid["invoice"] == balance
    listed = rest(api, f"/api/v1/invoices/{invoice_id}/payments")
    assert wire(listed) == [{k: v for k, v in paid.items() if k != "invoice"}]
    reversed_ = data(
        api,
        "mutation($id: ID!, $p: ID!) { reversePayment(id: $id, paymentId: $p) "
        f"{{ {PAYMENT_FIELDS} invoice {{ status }} }} }}",
        {"id": invoice_id, "p": paid["id"]},
    )["reversePayment"]
    assert reversed_["reversedAt"] and reversed_["invoice"]["status"] == "SENT"
    voided = data(
        api,
        'mutation($id: ID!) { voidInvoice(id: $id, reason: "Duplicate") { status voidReason balanceDue } }',
        {"id": invoice_id},
    )["voidInvoice"]
    assert voided == {"status": "VOID", "voidReason": "Duplicate", "balanceDue": "0.00"}
    query = "query($id: ID!) { invoice(id: $id) { payments { id reversedAt } history { version type changes } } }"
    told = data(api, query, {"id": invoice_id})["invoice"]
    assert [e["type"] for e in told["history"]] == ["created", "sent", "paymentRecorded", "paymentReversed", "voided"]
    rest_history = rest(api, f"/api/v1/invoices/{invoice_id}/history")
    assert [wire(e["changes"]) for e in rest_history] == [e["changes"] for e in told["history"]]
    assert [p["id"] for p in told["payments"]] == [paid["id"]]


def test_an_invoice_as_it_was(api: Api):
    client_id = new_client(api)["id"]
    invoice_id = new_invoice(api, client_id, notes="first")["id"]
    data(api, 'mutation($id: ID!) { updateInvoice(id: $id, input: {notes: "second"}) { id } }', {"id": invoice_id})
    data(api, 'mutation($id: ID!) { updateClient(id: $id, input: {name: "Renamed"}) { id } }', {"id": client_id})
    then = data(
        api,
        f"query($id: ID!) {{ invoice(id: $id, version: 1) {{ {INVOICE_FIELDS} payments {{ id }} }} }}",
        {"id": invoice_id},
    )["invoice"]
    expected = wire(rest(api, f"/api/v1/invoices/{invoice_id}?version=1"))
    assert {k: v for k, v in then.items() if k != "payments"} == expected
    assert then["notes"] == "first" and then["client"]["name"] == "Acme Corp"
    moment = rest(api, f"/api/v1/invoices/{invoice_id}/history")[1]["occurredAt"]
    query = "query($id: ID!, $t: DateTime!) { invoice(id: $id, asOf: $t) { notes } }"
    at = data(api, query, {"id": invoice_id, "t": moment})
    assert at["invoice"]["notes"] == "second"
    code, message = error(api, "query($id: ID!) { invoice(id: $id, version: 9) { id } }", {"id": invoice_id})
    assert code == "NOT_FOUND" and message == payload(api.get(f"/api/v1/invoices/{invoice_id}", version="9"))["error"]


def test_events_and_the_ledger_digest(api: Api):
    new_invoice(api, new_client(api)["id"])
    page = data(
        api, "{ events(after: 0, limit: 3) { next data { position type resource { type id } actor { type } } } }"
    )
    rest_page = payload(api.get("/api/v1/events", after="0", limit="3"))
    got = page["events"]
    assert got["next"] == rest_page["next"]
    assert [(e["position"], e["type"], e["resource"]) for e in got["data"]] == [
        (e["position"], e["type"], e["resource"]) for e in rest_page["data"]
    ]
    digest = data(api, "{ ledgerDigest { accountId position digest at } }")["ledgerDigest"]
    assert digest == payload(api.get("/api/v1/ledger/digest"))


# --- errors: the same through both doors ------------------------------------------------------


@pytest.mark.parametrize(
    ("rest_body", "graphql_input"),
    [
        ({"name": ""}, '{name: ""}'),
        ({"name": "A", "email": "not-an-email"}, '{name: "A", email: "not-an-email"}'),
        ({"name": "A\u0000B"}, '{name: "A\\u0000B"}'),
        ({"name": "x" * 256}, '{name: "' + "x" * 256 + '"}'),
    ],
)
def test_the_same_bad_client_gets_the_same_error(api: Api, rest_body, graphql_input):
    message = assert_error(api.post("/api/v1/clients", rest_body), 400)
    code, got = error(api, f"mutation {{ createClient(input: {graphql_input}) {{ id }} }}")
    assert (code, got) == ("BAD_REQUEST", message)


@pytest.mark.parametrize(
    ("line", "graphql_line"),
    [
        ({"description": "X", "quantity": 0, "unitPrice": 1}, '{description: "X", quantity: "0", unitPrice: "1"}'),
        ({"description": "X", "quantity": 1, "unitPrice": -1}, '{description: "X", quantity: "1", unitPrice: "-1"}'),
        ({"description": "", "quantity": 1, "unitPrice": 1}, '{description: "", quantity: "1", unitPrice: "1"}'),
        (
            {"description": "X", "quantity": 1, "unitPrice": 1, "taxRate": 101},
            '{description: "X", quantity: "1", unitPrice: "1", taxRate: "101"}',
        ),
        (
            {"description": "X", "quantity": "1.123456789", "unitPrice": 1},
            '{description: "X", quantity: "1.123456789", unitPrice: "1"}',
        ),
    ],
)
def test_the_same_bad_invoice_gets_the_same_error(api: Api, line, graphql_line):
    client_id = api.create_client()["id"]
    message = assert_error(api.post("/api/v1/invoices", {"clientId": client_id, "lineItems": [line]}), 400)
    query = f'mutation {{ createInvoice(input: {{clientId: "{client_id}", lineItems: [{graphql_line}]}}) {{ id }} }}'
    code, got = error(api, query)
    assert (code, got) == ("BAD_REQUEST", message)


def test_codes_for_not_found_conflict_and_forbidden(api: Api, open_tenant, http):
    client_id = api.create_client()["id"]
    invoice_id = api.create_invoice(client_id, invoiceNumber="A-1")["id"]
    missing = (
        f'{{ invoice(id: "{UNKNOWN}") {{ id }} }}',
        '{ invoice(id: "nope") { id } }',
        f'{{ client(id: "{UNKNOWN}") {{ id }} }}',
    )
    for query in missing:
        assert error(api, query)[0] == "NOT_FOUND"
    taken = f'{{clientId: "{client_id}", invoiceNumber: "a-1", lineItems: [{LINE}]}}'
    code, message = error(api, f"mutation {{ createInvoice(input: {taken}) {{ id }} }}")
    assert code == "CONFLICT" and message == "Invoice number already exists: a-1"
    data(api, f'mutation {{ sendInvoice(id: "{invoice_id}") {{ id }} }}')
    code, message = error(api, f'mutation {{ deleteInvoice(id: "{invoice_id}") }}')
    assert code == "CONFLICT" and message == assert_error(api.delete(f"/api/v1/invoices/{invoice_id}"), 409)
    free = Api(http, open_tenant("free", "Small"))
    free_client = free.create_client()["id"]
    free_invoice = free.create_invoice(free_client)["id"]
    code, message = error(free, f'mutation {{ sendInvoice(id: "{free_invoice}", input: {{email: true}}) {{ id }} }}')
    assert code == "FORBIDDEN"
    assert message == assert_error(free.post(f"/api/v1/invoices/{free_invoice}/send", {"email": True}), 403)


def test_without_a_key_graphql_answers_unauthenticated(anonymous: Api):
    code, message = error(anonymous, "{ clients { total } }", status=401)
    assert code == "UNAUTHENTICATED" and "API key" in message


# --- tenants ------------------------------------------------------------------------------------


def test_no_field_reaches_another_accounts_records(api: Api, open_tenant, http):
    client_id = api.create_client()["id"]
    invoice_id = api.create_invoice(client_id)["id"]
    other = Api(http, open_tenant("pro", "Other"))
    nothing = {"clients": {"total": 0}, "invoices": {"total": 0}}
    assert data(other, "{ clients { total } invoices { total } }") == nothing
    mine = {e["resource"]["id"] for e in data(other, "{ events { data { resource { id } } } }")["events"]["data"]}
    assert client_id not in mine and invoice_id not in mine
    for query in (
        f'{{ client(id: "{client_id}") {{ id }} }}',
        f'{{ invoice(id: "{invoice_id}") {{ id }} }}',
        f'{{ invoice(id: "{invoice_id}", version: 1) {{ id }} }}',
        f'mutation {{ updateClient(id: "{client_id}", input: {{name: "x"}}) {{ id }} }}',
        f'mutation {{ deleteClient(id: "{client_id}") }}',
        f'mutation {{ updateInvoice(id: "{invoice_id}", input: {{notes: "x"}}) {{ id }} }}',
        f'mutation {{ deleteInvoice(id: "{invoice_id}") }}',
        f'mutation {{ sendInvoice(id: "{invoice_id}") {{ id }} }}',
        f'mutation {{ voidInvoice(id: "{invoice_id}") {{ id }} }}',
        f'mutation {{ recordPayment(id: "{invoice_id}", input: {{amount: "1"}}) {{ id }} }}',
    ):
        assert error(other, query)[0] in ("NOT_FOUND", "BAD_REQUEST"), query
    theirs = f'{{clientId: "{client_id}", lineItems: [{LINE}]}}'
    code, _ = error(other, f"mutation {{ createInvoice(input: {theirs}) {{ id }} }}")
    assert code == "BAD_REQUEST"  # not an active client of that account, as through REST
    assert api.invoice(invoice_id)["status"] == "DRAFT" and api.invoice(invoice_id)["notes"] is None


# --- no N+1 ---------------------------------------------------------------------------------------


def _seed(services: Services, tenant: Tenant, invoices: int) -> None:
    app = services.app
    clients = [app.create_client(tenant.account_id, {"name": f"Client {n}"}) for n in range(5)]
    for n in range(invoices):
        draft = InvoiceDraft(clients[n % 5], [LineItemDraft(f"Line {n}", Decimal(1), Decimal(10))])
        invoice_id = app.create_invoice(tenant.account_id, draft)
        if n % 2:
            app.send_invoice(tenant.account_id, invoice_id, Sending())
            app.record_payment(tenant.account_id, invoice_id, Decimal(1))
    services.projector.catch_up()


def _count_queries(services: Services, api: Api, query: str) -> int:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):  # not the driver's BEGINs
            statements.append(statement)

    engine = services.read.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        data(api, query)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


PAGE = """{ invoices(limit: 100) { total data { invoiceNumber total lineItems { amount } notes
  client { id name email } payments { id amount } } } }"""


def test_a_page_with_clients_and_payments_costs_a_constant_number_of_queries(api: Api, services: Services, tenant):
    _seed(services, tenant, 10)
    few = _count_queries(services, api, PAGE)
    _seed(services, tenant, 90)
    page = data(api, PAGE)["invoices"]
    assert page["total"] == 100 and len(page["data"]) == 100
    assert sum(len(i["payments"]) for i in page["data"]) == 50
    many = _count_queries(services, api, PAGE)
    assert many == few, (few, many)
    # the key (1), the page and its count (2), with the page the lines (1) and the
    # clients (1) (the page's query reads the detail's columns), the payments (1):
    # however many invoices the page holds
    assert many == 6, many


# --- one budget for both doors -------------------------------------------------------------------


def test_graphql_and_rest_spend_one_budget(make_settings, clock: FakeClock):
    from gateway.app import create_app
    from tests.conftest import TestClient

    settings = make_settings(CLEVERINVO_RATE_LIMIT="3/minute")
    services = Services(settings, clock=clock)
    try:
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
            account = services.execute(lambda: services.app.open_account("Seller", "pro"))
            key_id, key = services.execute(lambda: services.app.issue_api_key(account, "tests"))
            api = Api(http, Tenant(account, key_id, key))
            assert api.get("/api/v1/clients").status_code == 200
            assert data(api, "{ clients { total } }") == {"clients": {"total": 0}}
            assert api.get("/api/v1/invoices").status_code == 200
            code, message = error(api, "{ clients { total } }", status=429)
            assert code == "RATE_LIMITED" and message == assert_error(api.get("/api/v1/clients"), 429)
    finally:
        services.close()


# --- limits on the real schema ---------------------------------------------------------------------


def test_every_response_reports_its_cost(api: Api):
    body = gql(api, "{ invoices(limit: 50) { total data { id client { name } payments { id } } } }")
    assert body["extensions"]["cost"] == {"requested": 1 + 50 * 3, "maximum": MAX_COST}
    failed = gql(api, '{ invoice(id: "nope") { id } }')
    assert failed["errors"][0]["extensions"]["code"] == "NOT_FOUND" and failed["extensions"]["cost"]["requested"] == 1


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("{ clients(limit: 100) { data { invoices(limit: 100) { data { id } } } } }", "Query cost 10201 exceeds"),
        ("{ clients(limit: 100) { data { history { type } invoices(limit: 10) { data { id } } } } }", "cost 2201 exce"),
        (
            "{ invoices { data { client { invoices { data { client { invoices { data { client { invoices { data {"
            " client { invoices { data { id } } } } } } } } } } } } } } }",
            "depth",
        ),
        ("{ " + " ".join(f"a{n}: ledgerDigest {{ position }}" for n in range(31)) + " }", "31 aliases"),
    ],
)
def test_costly_deep_or_aliased_queries_are_refused_before_they_run(api: Api, services: Services, query, words):
    before = services.app.recorder.max_notification_id()
    body = gql(api, query)
    assert body["data"] is None
    assert {error["extensions"]["code"] for error in body["errors"]} == {"BAD_REQUEST"}
    assert any(words in error["message"] for error in body["errors"]), body["errors"]
    assert services.app.recorder.max_notification_id() == before


def test_a_mutation_over_the_limits_changes_nothing(api: Api, services: Services):
    before = services.app.recorder.max_notification_id()
    aliases = " ".join(f'c{n}: createClient(input: {{name: "C{n}"}}) {{ id }}' for n in range(31))
    body = gql(api, f"mutation {{ {aliases} }}")
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert services.app.recorder.max_notification_id() == before
    assert rest(api, "/api/v1/clients") == []


def test_batches_of_a_few_operations_run_and_more_are_refused(api: Api):
    headers = dict(api.tenant.headers)  # type: ignore[union-attr]
    two = [{"query": "{ clients { total } }"}, {"query": "{ invoices { total } }"}]
    answered = api.http.post("/graphql", json=two, headers=headers)
    assert answered.status_code == 200
    assert [item["data"] for item in answered.json()] == [{"clients": {"total": 0}}, {"invoices": {"total": 0}}]
    six = [{"query": "{ clients { total } }"}] * 6
    refused = api.http.post("/graphql", json=six, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "at most 5" in refused.json()["errors"][0]["message"]


def test_an_internal_fault_is_masked(api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    def broken(*_args: Any) -> Any:
        raise RuntimeError("secret detail of the database")

    monkeypatch.setattr("usecases.clients.Clients.list", broken)
    body = gql(api, "{ clients { total } }")
    [fault] = body["errors"]
    assert fault["extensions"]["code"] == "INTERNAL" and fault["message"] == "Internal server error"
    assert "secret" not in str(body) and "secret detail" in caplog.text


def test_introspection_can_be_turned_off(make_settings, clock: FakeClock):
    from gateway.app import create_app
    from tests.conftest import TestClient

    for setting, allowed in (("on", True), ("off", False)):
        settings = make_settings(CLEVERINVO_GRAPHQL_INTROSPECTION=setting)
        services = Services(settings, clock=clock)
        try:
            with TestClient(create_app(settings, services), raise_server_exceptions=False) as http:
                account = services.app.open_account("Seller", "pro")
                key_id, key = services.app.issue_api_key(account, "tests")
                services.projector.catch_up()
                body = gql(Api(http, Tenant(account, key_id, key)), "{ __schema { queryType { name } } }")
                assert (body.get("data") is not None and not body.get("errors")) == allowed, body
        finally:
            services.close()


def test_queries_also_go_by_get_and_mutations_do_not(api: Api, services: Services):
    headers = dict(api.tenant.headers)  # type: ignore[union-attr]
    answered = api.http.get("/graphql", params={"query": "{ clients { total } }"}, headers=headers)
    assert answered.status_code == 200 and answered.json()["data"] == {"clients": {"total": 0}}
    before = services.app.recorder.max_notification_id()
    refused = api.http.get(
        "/graphql", params={"query": 'mutation { createClient(input: {name: "X"}) { id } }'}, headers=headers
    )
    assert refused.status_code in (400, 405) and refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert services.app.recorder.max_notification_id() == before


# --- what probing found: each case once broke a rule ----------------------------------------------


def _nothing_written(services: Services, before: int | None) -> None:
    assert services.app.recorder.max_notification_id() == before


@pytest.mark.parametrize(
    "line",
    [
        '{description: "x", quantity: "abc", unitPrice: 1}',
        '{description: "x", quantity: 1e999999, unitPrice: 1}',
        '{description: "x", quantity: "NaN", unitPrice: 1}',
        '{description: "x", quantity: "1E+5", unitPrice: 1}',
        '{description: "x", quantity: true, unitPrice: 1}',
        '{description: "x", quantity: {a: 1}, unitPrice: 1}',
    ],
)
def test_a_bad_number_literal_is_the_clients_mistake(api: Api, services: Services, line):
    client_id = api.create_client()["id"]
    before = services.app.recorder.max_notification_id()
    code, _ = error(
        api, f'mutation {{ createInvoice(input: {{clientId: "{client_id}", lineItems: [{line}]}}) {{ id }} }}'
    )
    assert code == "BAD_REQUEST"
    _nothing_written(services, before)


@pytest.mark.parametrize("day", ["2024-02-30", "20240101", "2024-W01-1", "2024W01120"])
def test_a_date_rest_refuses_graphql_refuses(api: Api, services: Services, day):
    client_id = api.create_client()["id"]
    assert_error(
        api.post(
            "/api/v1/invoices",
            {
                "clientId": client_id,
                "lineItems": [{"description": "x", "quantity": 1, "unitPrice": 1}],
                "issueDate": day,
            },
        ),
        400,
    )
    before = services.app.recorder.max_notification_id()
    given = f'{{clientId: "{client_id}", issueDate: "{day}", lineItems: [{LINE}]}}'
    query = f"mutation {{ createInvoice(input: {given}) {{ id }} }}"
    assert error(api, query)[0] == "BAD_REQUEST"
    variables = {
        "input": {
            "clientId": client_id,
            "issueDate": day,
            "lineItems": [{"description": "x", "quantity": "1", "unitPrice": "1"}],
        }
    }
    assert (
        error(api, "mutation($input: InvoiceInput!) { createInvoice(input: $input) { id } }", variables)[0]
        == "BAD_REQUEST"
    )
    _nothing_written(services, before)


EXACT = "mutation(%s$c: ID!) { createInvoice(input: {clientId: $c, lineItems: [%s]}) { lineItems { unitPrice } } }"


def _raw(api: Api, body: str) -> dict[str, Any]:
    """A JSON body sent exactly as written (a number too precise for a float, a lone surrogate)."""
    headers = {**api.tenant.headers, "Content-Type": "application/json"}  # type: ignore[union-attr]
    answer: dict[str, Any] = api.http.post("/graphql", content=body, headers=headers).json()
    return answer


def test_numbers_are_kept_exactly_as_written(api: Api):
    client_id = api.create_client()["id"]
    line = '{description: "x", quantity: 1, unitPrice: %s}'
    literal = data(api, EXACT % ("", line % "123456789012.345678"), {"c": client_id})
    assert literal["createInvoice"]["lineItems"][0]["unitPrice"] == "123456789012.345678"
    body = json.dumps({"query": EXACT % ("$p: Decimal!, ", line % "$p"), "variables": {"p": "PRICE", "c": client_id}})
    answer = _raw(api, body.replace('"PRICE"', "123456789012.345678"))  # a JSON number, not a string
    assert answer["data"]["createInvoice"]["lineItems"][0]["unitPrice"] == "123456789012.345678"
    tiny = {"clientId": client_id, "lineItems": [{"description": "x", "quantity": Decimal("1e-7"), "unitPrice": 1}]}
    rest_message = assert_error(api.post("/api/v1/invoices", tiny), 400)
    tiny_line = line.replace("quantity: 1", "quantity: 1e-7") % "1"
    code, message = error(api, EXACT % ("", tiny_line), {"c": client_id})
    assert (code, message) == ("BAD_REQUEST", rest_message)


def test_a_lone_surrogate_in_a_search_is_refused(api: Api):
    for field in ("clients", "invoices"):
        query = f"query($s: String) {{ {field}(search: $s) {{ total }} }}"
        answer = _raw(api, json.dumps({"query": query, "variables": {"s": "\ud800"}}))
        assert answer["errors"][0]["extensions"]["code"] == "BAD_REQUEST", answer


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("clientId", "null"),
        ("invoiceNumber", "null"),
        ("currency", "null"),
        ("lineItems", "null"),
        ("issueDate", "null"),
    ],
)
def test_null_in_an_update_reads_as_through_rest(api: Api, field, value):
    invoice_id = api.create_invoice(api.create_client()["id"])["id"]
    message = assert_error(api.put(f"/api/v1/invoices/{invoice_id}", {field: None}), 400)
    code, got = error(api, f'mutation {{ updateInvoice(id: "{invoice_id}", input: {{{field}: {value}}}) {{ id }} }}')
    assert (code, got) == ("BAD_REQUEST", message)


@pytest.mark.parametrize(
    ("moment", "rest_status"), [("9999-12-31T23:59:59-01:00", 200), ("0001-01-01T00:00:00+01:00", 404)]
)
def test_moments_at_the_ends_of_the_calendar_agree(api: Api, moment, rest_status):
    invoice_id = api.create_invoice(api.create_client()["id"])["id"]
    assert api.get(f"/api/v1/invoices/{invoice_id}", asOf=moment).status_code == rest_status
    body = gql(
        api, "query($id: ID!, $t: DateTime!) { invoice(id: $id, asOf: $t) { id } }", {"id": invoice_id, "t": moment}
    )
    if rest_status == 200:
        assert body["data"]["invoice"]["id"] == invoice_id
    else:
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_a_moment_before_the_year_1000_is_written_with_four_digits(api: Api):
    invoice_id = api.create_invoice(api.create_client()["id"])["id"]
    message = assert_error(api.get(f"/api/v1/invoices/{invoice_id}", asOf="0999-01-01T00:00:00Z"), 404)
    assert message == "Invoice not found as of 0999-01-01T00:00:00.000Z"


def test_a_subscription_over_http_and_unnamed_operations_are_refused(api: Api, services: Services):
    code, message = error(api, "subscription { accountEvents { position } }")
    assert code == "BAD_REQUEST" and "websocket" in message
    before = services.app.recorder.max_notification_id()
    code, message = error(
        api, 'mutation A { createClient(input: {name: "A"}) { id } } mutation B { deleteClient(id: "x") }'
    )
    assert code == "BAD_REQUEST" and "operationName" in message
    _nothing_written(services, before)


@pytest.mark.parametrize("path", ["/graphql", "/api/v1/clients"])
def test_a_body_cut_off_by_the_client_is_a_400_not_a_fault(
    http, tenant: Tenant, path: str, caplog: pytest.LogCaptureFixture
):
    """A client that hangs up mid-body (wrk does, at the end of a run): answered as REST
    answers it, 400, and nothing logged as an error."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {tenant.key}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    incoming = [{"type": "http.request", "body": b'{"query":', "more_body": True}, {"type": "http.disconnect"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    http.portal.call(http.app, scope, receive, send)
    assert sent[0]["status"] == 400
    assert b"cut off" in b"".join(m.get("body", b"") for m in sent[1:])
    assert not [r for r in caplog.records if r.levelname == "ERROR"]

"""GraphQL mutations take an idempotency key with REST's guarantee: a retry gets the first
result and nothing runs twice; the key is refused for other arguments; REST and GraphQL
share the account's keys."""

from typing import Any

import pytest
from sqlalchemy import update

from gateway.services import Services
from storage.idempotency import IdempotencyStore, idempotency_keys
from tests.conftest import Api, FakeClock, invoice_body, line, stored_state
from tests.graphql_support import CLIENT_FIELDS, data, gql
from tests.integration.test_idempotency_once import dead_here

CREATE_CLIENT = f"""mutation($input: ClientInput!, $key: String) {{
  createClient(input: $input, idempotencyKey: $key) {{ {CLIENT_FIELDS} }} }}"""
CREATE_INVOICE = """mutation($input: InvoiceInput!, $key: String) {
  createInvoice(input: $input, idempotencyKey: $key) { id invoiceNumber total status updatedAt } }"""
RECORD_PAYMENT = """mutation($id: ID!, $input: PaymentInput!, $key: String) {
  recordPayment(id: $id, input: $input, idempotencyKey: $key) { id amount invoice { status amountPaid } } }"""
UPDATE_CLIENT = f"""mutation($id: ID!, $input: ClientUpdateInput!, $key: String) {{
  updateClient(id: $id, input: $input, idempotencyKey: $key) {{ {CLIENT_FIELDS} }} }}"""


def _codes(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["extensions"]["code"], e["extensions"].get("reason")) for e in body.get("errors") or []]


def test_a_retried_create_runs_once_and_gets_the_first_result(api: Api, services: Services, clock: FakeClock) -> None:
    variables = {"input": {"name": "Acme Corp", "email": "billing@acme.test"}, "key": "k-1"}
    first = data(api, CREATE_CLIENT, variables)["createClient"]
    before = stored_state(services)
    clock.advance(minutes=5)
    again = data(api, CREATE_CLIENT, variables)["createClient"]
    assert again == first
    assert stored_state(services) == before
    assert api.get("/api/v1/clients").json()["total"] == 1


def test_a_replay_is_the_record_as_the_first_run_left_it(api: Api, clock: FakeClock) -> None:
    client = api.create_client(name="Acme Corp")
    variables = {"id": client["id"], "input": {"notes": "first"}, "key": "u-1"}
    first = data(api, UPDATE_CLIENT, variables)["updateClient"]
    clock.advance(minutes=1)
    data(api, UPDATE_CLIENT, {**variables, "input": {"notes": "later"}, "key": "u-2"})
    again = data(api, UPDATE_CLIENT, variables)["updateClient"]
    assert again == first and again["notes"] == "first"


def test_invoice_and_payment_mutations_run_once(api: Api, services: Services) -> None:
    client = api.create_client(name="Acme Corp")
    body = invoice_body(client["id"], lineItems=[line(quantity=1, unit_price=100, tax_rate=0)])
    invoice = data(api, CREATE_INVOICE, {"input": body, "key": "i-1"})["createInvoice"]
    assert data(api, CREATE_INVOICE, {"input": body, "key": "i-1"})["createInvoice"] == invoice
    assert api.get("/api/v1/invoices").json()["total"] == 1
    api.post(f"/api/v1/invoices/{invoice['id']}/send", {})
    pay = {"id": invoice["id"], "input": {"amount": "40.00"}, "key": "p-1"}
    paid = data(api, RECORD_PAYMENT, pay)["recordPayment"]
    before = stored_state(services)
    assert data(api, RECORD_PAYMENT, pay)["recordPayment"] == paid
    assert stored_state(services) == before
    assert api.invoice(invoice["id"])["amountPaid"] == 40.0


def test_the_same_key_with_other_arguments_is_refused_and_runs_nothing(api: Api, services: Services) -> None:
    data(api, CREATE_CLIENT, {"input": {"name": "Acme Corp"}, "key": "k-1"})
    before = stored_state(services)
    refused = gql(api, CREATE_CLIENT, {"input": {"name": "Globex"}, "key": "k-1"})
    assert _codes(refused) == [("BAD_REQUEST", "IDEMPOTENCY_KEY_REUSED")], refused
    assert stored_state(services) == before


def test_rest_and_graphql_share_the_accounts_keys(api: Api, services: Services) -> None:
    response = api.request("POST", "/api/v1/clients", {"name": "Acme Corp"}, headers={"Idempotency-Key": "s-1"})
    assert response.status_code == 201
    before = stored_state(services)
    refused = gql(api, CREATE_CLIENT, {"input": {"name": "Acme Corp"}, "key": "s-1"})
    assert refused["errors"][0]["extensions"].get("reason") == "IDEMPOTENCY_KEY_REUSED", refused
    assert stored_state(services) == before


def test_a_bad_key_is_refused_before_anything_runs(api: Api, services: Services) -> None:
    before = stored_state(services)
    refused = gql(api, CREATE_CLIENT, {"input": {"name": "Acme Corp"}, "key": ""})
    assert refused["errors"][0]["extensions"]["code"] == "BAD_REQUEST", refused
    assert stored_state(services) == before


def test_without_a_key_each_mutation_runs(api: Api) -> None:
    data(api, CREATE_CLIENT, {"input": {"name": "Acme Corp"}})
    data(api, CREATE_CLIENT, {"input": {"name": "Acme Corp"}})
    assert api.get("/api/v1/clients").json()["total"] == 2


def _died_after_commit(services: Services, key: str) -> None:
    """The process that ran the mutation under ``key`` is gone, its result never kept."""
    with services.projector.writer.begin() as conn:
        conn.execute(update(idempotency_keys).where(idempotency_keys.c.key == key).values(holder=dead_here()))


def test_a_mutation_whose_process_died_after_its_commit_is_answered_from_its_events(
    api: Api, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = api.create_client(name="Acme Corp")
    body = invoice_body(client["id"], lineItems=[line(quantity=1, unit_price=100, tax_rate=0)])
    with monkeypatch.context() as died:  # each commits, but its result is never kept
        died.setattr(IdempotencyStore, "complete", lambda self, claim, response: True)
        made = data(api, CREATE_CLIENT, {"input": {"name": "Globex"}, "key": "c-1"})["createClient"]
        invoice = data(api, CREATE_INVOICE, {"input": body, "key": "i-1"})["createInvoice"]
        api.post(f"/api/v1/invoices/{invoice['id']}/send", {})
        pay = {"id": invoice["id"], "input": {"amount": "40.00"}, "key": "p-1"}
        paid = data(api, RECORD_PAYMENT, pay)["recordPayment"]
    for key in ("c-1", "i-1", "p-1"):
        _died_after_commit(services, key)
    before = stored_state(services)
    assert data(api, CREATE_CLIENT, {"input": {"name": "Globex"}, "key": "c-1"})["createClient"] == made
    assert data(api, CREATE_INVOICE, {"input": body, "key": "i-1"})["createInvoice"] == invoice
    assert data(api, RECORD_PAYMENT, pay)["recordPayment"] == paid
    assert stored_state(services) == before


@pytest.mark.parametrize("text", [" 10 ", "010", "00.5", "+5"])
def test_graphql_takes_amount_strings_as_rest_does(api: Api, services: Services, text: str) -> None:
    """GraphQL's Decimal takes the strings REST takes: no spaces, no leading zeros, no plus."""
    client = api.create_client(name="Acme Corp")
    before = stored_state(services)
    body = invoice_body(client["id"], lineItems=[line(quantity=1, unit_price=text, tax_rate=0)])
    refused = gql(api, CREATE_INVOICE, {"input": body})
    assert refused["errors"][0]["extensions"]["code"] == "BAD_REQUEST", refused
    assert stored_state(services) == before

"""``poNumber``, the customer's purchase-order reference: optional, at most 64 characters,
searchable, through every door, the PDF, the share page, history and as-of reads, the
dashboard and both schemas (the field issue 25 added to prove the house)."""

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from gateway.services import Services
from tests.conftest import Api, FakeClock, assert_error, payload, stored_state
from tests.dashboard_support import Browser, invoice_form, make_owner, text_of
from tests.graphql_support import data
from tests.pdf_support import pdf_text

PO = "PO-2024/Ü-17"


def ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return payload(response)["data"]


@pytest.fixture
def acme(api: Api) -> dict[str, Any]:
    return api.create_client(name="Acme Corp", email="billing@acme.test")


def test_a_draft_keeps_its_po_number_changes_it_and_clears_it_with_null(api: Api, acme: dict[str, Any]) -> None:
    created = api.create_invoice(acme["id"], poNumber=f"  {PO}  ")
    assert created["poNumber"] == PO  # trimmed, as every text
    assert api.invoice(created["id"])["poNumber"] == PO
    changed = ok(api.patch(f"/api/v1/invoices/{created['id']}", {"poNumber": "PO-2"}))
    assert changed["poNumber"] == "PO-2"
    assert ok(api.patch(f"/api/v1/invoices/{created['id']}", {"poNumber": None}))["poNumber"] is None
    assert api.create_invoice(acme["id"])["poNumber"] is None  # optional


def test_a_po_number_longer_than_64_characters_is_refused_and_nothing_is_written(
    api: Api, acme: dict[str, Any], services: Services
) -> None:
    before = stored_state(services)
    response = api.post("/api/v1/invoices", {"clientId": acme["id"], "lineItems": [_line()], "poNumber": "P" * 65})
    assert "poNumber" in assert_error(response, 400)
    assert stored_state(services) == before
    draft = api.create_invoice(acme["id"], poNumber="P" * 64)
    assert draft["poNumber"] == "P" * 64
    assert "poNumber" in assert_error(api.patch(f"/api/v1/invoices/{draft['id']}", {"poNumber": "Q" * 65}), 400)


def test_a_list_finds_an_invoice_by_a_piece_of_its_po_number_in_any_case(api: Api, acme: dict[str, Any]) -> None:
    wanted = api.create_invoice(acme["id"], poNumber="ACME-PO-77812")
    api.create_invoice(acme["id"], poNumber="OTHER-1")
    for term in ("po-778", "77812", "acme-po"):
        found = ok(api.get("/api/v1/invoices", search=term))
        assert [item["id"] for item in found] == [wanted["id"]], term
    changed = ok(api.patch(f"/api/v1/invoices/{wanted['id']}", {"poNumber": "NEW-REF-99"}))
    assert [item["id"] for item in ok(api.get("/api/v1/invoices", search="ref-99"))] == [changed["id"]]
    assert ok(api.get("/api/v1/invoices", search="77812")) == []


def test_history_and_as_of_reads_tell_the_po_number_of_each_version(
    api: Api, acme: dict[str, Any], clock: FakeClock
) -> None:
    draft = api.create_invoice(acme["id"], poNumber="PO-1")
    clock.advance(seconds=60)
    ok(api.patch(f"/api/v1/invoices/{draft['id']}", {"poNumber": "PO-2"}))
    entries = ok(api.get(f"/api/v1/invoices/{draft['id']}/history"))
    assert entries[0]["changes"]["poNumber"] == "PO-1"
    assert (entries[1]["changes"], entries[1]["previous"]) == ({"poNumber": "PO-2"}, {"poNumber": "PO-1"})
    assert ok(api.get(f"/api/v1/invoices/{draft['id']}", version="1"))["poNumber"] == "PO-1"
    assert ok(api.get(f"/api/v1/invoices/{draft['id']}", asOf=entries[0]["occurredAt"]))["poNumber"] == "PO-1"
    assert api.invoice(draft["id"])["poNumber"] == "PO-2"


def test_graphql_creates_reads_and_changes_the_po_number(api: Api, acme: dict[str, Any]) -> None:
    made = data(
        api,
        "mutation($input: InvoiceInput!) { createInvoice(input: $input) { id poNumber } }",
        {"input": {"clientId": acme["id"], "lineItems": [_line()], "poNumber": PO}},
    )["createInvoice"]
    assert made["poNumber"] == PO
    read = data(api, "query($id: ID!) { invoice(id: $id) { poNumber } }", {"id": made["id"]})
    assert read["invoice"]["poNumber"] == PO
    changed = data(
        api,
        "mutation($id: ID!, $input: InvoiceUpdateInput!) { updateInvoice(id: $id, input: $input) { poNumber } }",
        {"id": made["id"], "input": {"poNumber": "PO-9"}},
    )
    assert changed["updateInvoice"]["poNumber"] == "PO-9"
    assert api.invoice(made["id"])["poNumber"] == "PO-9"


def test_the_pdf_and_the_share_page_show_the_po_number(api: Api, acme: dict[str, Any]) -> None:
    draft = api.create_invoice(acme["id"], poNumber=PO)
    response = api.get(f"/api/v1/invoices/{draft['id']}/pdf")
    assert response.status_code == 200, response.text
    assert f"PO number: {PO}" in re.sub(r"\s+", " ", pdf_text(response.content))
    sent = ok(api.post(f"/api/v1/invoices/{draft['id']}/send", None))
    page = api.http.get(urlsplit(sent["shareUrl"]).path)
    assert page.status_code == 200 and f"PO number: {PO}" in text_of(page.text)


def test_both_schemas_declare_the_po_number(api: Api) -> None:
    document = api.http.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    for name in ("InvoiceCreate", "InvoiceUpdate"):
        field = schemas[name]["properties"]["poNumber"]
        assert any(option.get("maxLength") == 64 for option in field.get("anyOf", [field])), field
    introspected = data(api, '{ __type(name: "Invoice") { fields { name type { name kind } } } }')
    assert "poNumber" in {field["name"] for field in introspected["__type"]["fields"]}


def test_the_dashboard_form_saves_the_po_number_and_the_page_shows_it(http: TestClient, services: Services) -> None:
    browser = Browser(http)
    owner = make_owner(services)
    assert browser.sign_in(owner).status_code == 200
    browser.get("/dashboard/clients/new")
    made = browser.post("/dashboard/clients/new", {"name": "Acme Corp", "email": "billing@acme.test"})
    client_id = made.url.path.rsplit("/", 1)[1]
    form = browser.get("/dashboard/invoices/new")
    assert 'name="poNumber"' in form.text and 'maxlength="64"' in form.text
    line = {"description": "Work", "quantity": "1", "unitPrice": "10", "discountRate": "", "taxRate": ""}
    saved = browser.post("/dashboard/invoices/new", invoice_form(client_id, [line], poNumber=PO))
    assert saved.status_code == 200 and "Draft saved." in saved.text
    assert f"PO number {PO}" in text_of(saved.text)
    edit = browser.get(saved.url.path + "/edit")
    assert f'value="{PO}"' in edit.text


def _line() -> dict[str, Any]:
    return {"description": "Work", "quantity": "1", "unitPrice": "10"}

"""A record read and sent back unchanged writes nothing: a client generated from the OpenAPI
document reads ``125.00`` as a float and sends ``125.0`` (or ``125``) back. A change equal in
value (Decimal equality, the same dates, the same text after the same stripping, the same
lines) records no event and answers the current state, through PATCH and PUT, REST and
GraphQL, for invoices and clients. A real change still records one, at the scale it brings."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from gateway.services import Services
from tests.conftest import Api, payload
from tests.graphql_support import data

EDITABLE_INVOICE = ("clientId", "invoiceNumber", "currency", "issueDate", "dueDate", "notes", "terms")
LINE_INPUT = ("description", "quantity", "unitPrice", "taxRate", "discountRate")
CLIENT_INPUT = ("name", "email", "address", "taxId", "phone", "notes")


def ok(response: Any) -> Any:
    assert response.status_code == 200, (response.status_code, response.text[:500])
    return payload(response)["data"]


def as_floats(value: Any) -> Any:
    """What a generated client holds after reading the JSON: numbers as floats."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: as_floats(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [as_floats(inner) for inner in value]
    return value


def as_integers_where_whole(value: Any) -> Any:
    """``125.00`` sent back as ``125``, ``10.0`` as ``10``: the same values, other scales."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value.normalize()
    if isinstance(value, dict):
        return {key: as_integers_where_whole(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [as_integers_where_whole(inner) for inner in value]
    return value


def invoice_body(detail: dict[str, Any]) -> dict[str, Any]:
    """The request model's fields of what GET returned (computed fields are not in it)."""
    body = {name: detail[name] for name in EDITABLE_INVOICE}
    body["lineItems"] = [{name: line[name] for name in LINE_INPUT} for line in detail["lineItems"]]
    return body


def client_body(detail: dict[str, Any]) -> dict[str, Any]:
    return {name: detail[name] for name in CLIENT_INPUT}


def trail(services: Services, api: Api, kind: str, record_id: str) -> tuple[int, int]:
    """The store's length and the record's history length: what a no-op must leave alone."""
    history = ok(api.get(f"/api/v1/{kind}/{record_id}/history"))
    return services.app.recorder.max_notification_id() or 0, len(history)


@pytest.fixture
def invoice(api: Api) -> dict[str, Any]:
    client = api.create_client(email="billing@acme.test", address="1 Main St\nSpringfield")
    lines = [
        {"description": "Design", "quantity": "2.50", "unitPrice": "125.00", "taxRate": "21.0", "discountRate": "10"},
        {"description": "Hosting", "quantity": 1, "unitPrice": "9.90", "taxRate": 0},
    ]
    created = api.create_invoice(
        client["id"], lineItems=lines, notes="Thanks", terms="Net 30", issueDate="2024-06-01", dueDate="2024-07-01"
    )
    return api.invoice(created["id"])


SCALES: dict[str, Callable[[Any], Any]] = {
    "as read": lambda body: body,
    "as floats": as_floats,
    "as integers": as_integers_where_whole,
}


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
@pytest.mark.parametrize("scale", SCALES)
def test_an_invoice_sent_back_as_read_records_nothing(
    api: Api, services: Services, invoice: dict[str, Any], method: str, scale: str
) -> None:
    path = f"/api/v1/invoices/{invoice['id']}"
    before = trail(services, api, "invoices", invoice["id"])
    body = SCALES[scale](invoice_body(invoice))
    answered = ok(api.request(method, path, body))
    assert trail(services, api, "invoices", invoice["id"]) == before
    assert answered == {name: invoice[name] for name in answered}  # the current state, as it read
    assert api.invoice(invoice["id"]) == invoice  # 125.00 stays 125.00


def test_an_invoice_with_padded_text_or_reordered_keys_records_nothing(
    api: Api, services: Services, invoice: dict[str, Any]
) -> None:
    before = trail(services, api, "invoices", invoice["id"])
    body = invoice_body(invoice)
    body["notes"] = f"  {invoice['notes']}\n"
    body["lineItems"][0]["description"] = f" {invoice['lineItems'][0]['description']} "
    ok(api.patch(f"/api/v1/invoices/{invoice['id']}", dict(reversed(list(body.items())))))
    assert trail(services, api, "invoices", invoice["id"]) == before


def test_a_real_change_beside_an_equal_one_records_one_event_with_the_change(
    api: Api, services: Services, invoice: dict[str, Any]
) -> None:
    store, entries = trail(services, api, "invoices", invoice["id"])
    body = as_floats(invoice_body(invoice))
    body["notes"] = "Thank you"
    ok(api.patch(f"/api/v1/invoices/{invoice['id']}", body))
    changed = api.invoice(invoice["id"])
    assert changed["notes"] == "Thank you"
    assert changed["lineItems"] == invoice["lineItems"] and changed["total"] == invoice["total"]
    history = ok(api.get(f"/api/v1/invoices/{invoice['id']}/history"))
    assert len(history) == entries + 1
    assert set(history[-1]["changes"]) == {"notes"}
    assert (services.app.recorder.max_notification_id() or 0) > store


def test_a_new_scale_that_changes_a_value_is_still_a_change(api: Api, invoice: dict[str, Any]) -> None:
    """Moving to a currency of another minor unit reprices at its scale, equal values or not."""
    body = {"currency": "JPY", "lineItems": [{"description": "Design", "quantity": 1, "unitPrice": 1000}]}
    ok(api.patch(f"/api/v1/invoices/{invoice['id']}", body))
    first = api.invoice(invoice["id"])
    assert first["currency"] == "JPY" and str(first["total"]) == "1000"
    ok(api.patch(f"/api/v1/invoices/{invoice['id']}", {"currency": "USD"}))
    back = api.invoice(invoice["id"])
    assert str(back["total"]) == "1000.00"  # equal in value, yet the currency's scale is recorded


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_a_client_sent_back_as_read_records_nothing(api: Api, services: Services, method: str) -> None:
    client = api.create_client(
        email="billing@acme.test", address="1 Main St\nSpringfield", taxId="ES-B123", phone="+34 600", notes="VIP"
    )
    before = trail(services, api, "clients", client["id"])
    answered = ok(api.request(method, f"/api/v1/clients/{client['id']}", {**client_body(client), "isActive": True}))
    assert trail(services, api, "clients", client["id"]) == before
    assert answered == client


def test_graphql_updates_sent_back_as_read_record_nothing(
    api: Api, services: Services, invoice: dict[str, Any]
) -> None:
    body = as_floats(invoice_body(invoice))
    lines = [
        {
            "description": li["description"],
            "quantity": str(li["quantity"]),
            "unitPrice": str(li["unitPrice"]),
            "taxRate": str(li["taxRate"]),
            "discountRate": str(li["discountRate"]),
        }
        for li in body["lineItems"]
    ]
    before = trail(services, api, "invoices", invoice["id"])
    found = data(
        api,
        """mutation($id: ID!, $input: InvoiceUpdateInput!) { updateInvoice(id: $id, input: $input) { id total } }""",
        {"id": invoice["id"], "input": {"notes": body["notes"], "currency": body["currency"], "lineItems": lines}},
    )
    assert Decimal(found["updateInvoice"]["total"]) == invoice["total"]
    assert trail(services, api, "invoices", invoice["id"]) == before


def test_a_graphql_client_update_sent_back_as_read_records_nothing(api: Api, services: Services) -> None:
    client = api.create_client(email="billing@acme.test", address="1 Main St", taxId="B123", notes="VIP")
    before = trail(services, api, "clients", client["id"])
    found = data(
        api,
        """mutation($id: ID!, $input: ClientUpdateInput!) { updateClient(id: $id, input: $input) { id name } }""",
        {"id": client["id"], "input": {**client_body(client), "name": f" {client['name']} ", "isActive": True}},
    )
    assert found["updateClient"]["name"] == client["name"]
    assert trail(services, api, "clients", client["id"]) == before

"""HEAD is a safe method (RFC 9110 §9.2.1, §9.3.2) on every GET route of the served OpenAPI
document: GET's status and headers, no body, and never a write, with or without a body sent.

Starlette answers HEAD on every route that takes GET, with the GET route's handler; a handler
that told reads from writes by ``method == "GET"`` took HEAD for a write (an invoice's HEAD
with a JSON body was saved as a change, and without one it was a 400)."""

import json
import re
from typing import Any

import httpx

from gateway.rest.contract.openapi import PATH as OPENAPI_PATH
from gateway.services import Services
from tests.conftest import Api, line, payload, stored_state

# Headers that differ between any two requests, whatever their method.
PER_REQUEST = {"x-request-id", "ratelimit-remaining", "ratelimit", "ratelimit-reset", "date"}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# A body a HEAD must never act on: what a PATCH of each resource would take.
CHANGE = {"notes": "changed by a HEAD", "name": "Renamed by a HEAD", "lineItems": [line("HEAD", 1, 1, 0)]}


def _arrange(api: Api) -> dict[str, str]:
    """One record of each kind the GET routes name: a client, a sent invoice with a payment."""
    client = api.create_client(name="Acme Corp", email="billing@acme.test")
    invoice = api.create_invoice(client["id"], notes="as created")
    sent = api.post(f"/api/v1/invoices/{invoice['id']}/send", {})
    assert sent.status_code == 200, sent.text
    paid = api.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": "10.00", "date": "2024-06-15"})
    assert paid.status_code == 201, paid.text
    return {"client_id": client["id"], "invoice_id": invoice["id"], "payment_id": payload(paid)["data"]["id"]}


def _get_paths(api: Api) -> list[str]:
    document = api.get(OPENAPI_PATH)
    assert document.status_code == 200
    return [path for path, operations in json.loads(document.text)["paths"].items() if "get" in operations]


def _comparable(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name not in PER_REQUEST}


def _assert_head_is_get(api: Api, services: Services, path: str, params: dict[str, str] | None = None) -> None:
    got = api.request("GET", path, params=params)
    assert got.status_code == 200, (path, got.status_code, got.text[:300])
    before = stored_state(services)
    for body in (None, CHANGE):
        head = api.request("HEAD", path, body, params=params)
        assert head.status_code == got.status_code, (path, body, head.status_code)
        assert head.content == b"", (path, body)
        expected = _comparable(got)
        shown = _comparable(head)
        if "content-length" in shown:  # may be left out of a HEAD; when given it is GET's
            assert shown["content-length"] == expected["content-length"], path
        expected.pop("content-length", None)
        shown.pop("content-length", None)
        assert shown == expected, (path, body)
        assert stored_state(services) == before, (path, body, "a HEAD changed the store")


def test_head_of_every_get_route_is_get_without_body_and_writes_nothing(api: Api, services: Services) -> None:
    ids = _arrange(api)
    paths = _get_paths(api)
    assert "/api/v1/invoices/{invoice_id}" in paths and len(paths) >= 9, paths
    for template in paths:
        path = PLACEHOLDER.sub(lambda found: ids[found.group(1)], template)
        _assert_head_is_get(api, services, path)


def test_head_of_an_invoice_as_it_was_is_its_get(api: Api, services: Services) -> None:
    ids = _arrange(api)
    for params in ({"version": "1"}, {"asOf": "2030-01-01T00:00:00Z"}):
        _assert_head_is_get(api, services, f"/api/v1/invoices/{ids['invoice_id']}", params)
        _assert_head_is_get(api, services, f"/api/v1/invoices/{ids['invoice_id']}/pdf", params)


def test_head_of_an_invoice_with_a_body_records_no_event_and_changes_no_field(api: Api, services: Services) -> None:
    client = api.create_client(name="Acme Corp")
    invoice = api.create_invoice(client["id"], notes="as created")
    history = api.get(f"/api/v1/invoices/{invoice['id']}/history")
    head = api.request("HEAD", f"/api/v1/invoices/{invoice['id']}", {"notes": "saved by a HEAD"})
    assert head.status_code == 200 and head.content == b""
    assert api.invoice(invoice["id"])["notes"] == "as created"
    assert api.get(f"/api/v1/invoices/{invoice['id']}/history").text == history.text


def test_head_of_a_missing_invoice_is_gets_404(api: Api) -> None:
    missing = "/api/v1/invoices/6f1c9d0e-4a44-4c57-9a0e-2b1f4f6f0a11"
    got: Any = api.get(missing)
    head = api.request("HEAD", missing, {"notes": "x"})
    assert (head.status_code, head.content) == (got.status_code, b"") == (404, b"")

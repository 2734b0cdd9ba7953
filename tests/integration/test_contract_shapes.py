"""The document types what a generated client needs without casts:

- an optional request field is optional: not required and no ``default`` (a generator makes a
  field with a default required), still taking null where it did;
- history and feed entries are one shape per event type (``usecases.change_shapes``), a
  ``oneOf`` discriminated by ``type`` (the feed's by ``event``, as the kinds' words overlap);
  every entry the service tells matches its own shape, which declares every key it holds;
- a value is one shape, read and written (currency, status: the named enums);
- every header the service sends that a client acts on (ETag, Retry-After, RateLimit-*,
  Idempotent-Replayed...) is declared on the answer that carries it, 304 included.
"""

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from gateway.rest.contract import requests as q
from gateway.rest.contract.openapi import document
from gateway.rest.contract.operations import OPERATIONS
from tests.conftest import Api, payload
from usecases.change_shapes import SHAPES, shapes_of

SCHEMAS = "#/components/schemas/"
# What a client acts on; the rest (Content-Type, Vary, Cache-Control...) is HTTP's own.
ACTED_ON = (
    "etag", "location", "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset",
    "idempotent-replayed", "write-saved", "content-disposition", "www-authenticate", "x-request-id",
)  # fmt: skip


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def _bodies(spec: dict[str, Any]) -> list[str]:
    names = {op.body.__name__ for op in OPERATIONS if isinstance(op.body, type)}
    names |= {"LineItemInput"}
    return sorted(names)


def test_optional_request_fields_are_optional_and_declare_no_default(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name in _bodies(spec):
        schema = schemas[name]
        for field, rule in schema["properties"].items():
            assert "default" not in rule, (name, field)
    expected: dict[str, tuple[str, ...]] = {"SendInput": ("to", "cc", "message"), "VoidInput": ("reason",)}
    expected["PaymentCreate"] = ("date", "method", "reference")
    for name, fields in expected.items():
        schema = schemas[name]
        for field in fields:
            assert field not in schema.get("required", ()), (name, field)
            assert {"type": "null"} in schema["properties"][field]["anyOf"], (name, field)  # null still taken
    assert schemas["SendInput"]["properties"]["email"] == {"type": "boolean", "description": "Default: false."}


def test_read_only_fields_are_declared_in_no_request_properties(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for kind in (q.ClientCreate, q.ClientUpdate, q.InvoiceCreate, q.InvoiceUpdate, q.LineItemInput):
        rules = schemas[kind.__name__]["properties"].values()
        assert not any(rule.get("readOnly") for rule in rules), kind.__name__


def _union(spec: dict[str, Any], name: str) -> dict[str, Any]:
    items: dict[str, Any] = spec["components"]["schemas"][name]["properties"]["data"]["items"]
    return items


@pytest.mark.parametrize("kind", ["invoice", "client"])
def test_a_history_is_a_union_of_one_shape_per_event_type_discriminated_by_type(
    spec: dict[str, Any], kind: str
) -> None:
    items = _union(spec, f"{kind.title()}History")
    shapes = shapes_of(kind)  # type: ignore[arg-type]
    assert items["discriminator"]["propertyName"] == "type"
    mapping = items["discriminator"]["mapping"]
    assert mapping == {shape.type: f"{SCHEMAS}{shape.name}Entry" for shape in shapes}
    assert items["oneOf"] == [{"$ref": target} for target in mapping.values()]
    schemas = spec["components"]["schemas"]
    for shape in shapes:
        entry = schemas[f"{shape.name}Entry"]
        assert entry["properties"]["type"] == {"type": "string", "const": shape.type}
        assert "type" in entry["required"]
        changes = schemas[f"{shape.name}Changes"]
        fields = set(shape.fields.__annotations__)
        carried = set(shape.carries.__annotations__) if shape.carries else set()
        assert set(changes["properties"]) == fields | carried
        assert set(changes.get("required", ())) == (fields if shape.complete else set()) | carried
        assert "required" not in schemas[f"{shape.name}Previous"] or not schemas[f"{shape.name}Previous"]["required"]


def test_the_feed_is_a_union_discriminated_by_its_event(spec: dict[str, Any]) -> None:
    items = _union(spec, "Feed")
    assert items["discriminator"]["propertyName"] == "event"
    assert items["discriminator"]["mapping"] == {
        f"{shape.resource}.{shape.type}": f"{SCHEMAS}{shape.name}FeedEntry" for shape in SHAPES
    }


def test_a_value_has_one_shape_read_and_written(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    detail = schemas["InvoiceSummary"]["properties"]
    assert detail["currency"]["$ref"] == SCHEMAS + "Currency"
    assert {"$ref": SCHEMAS + "Currency"} in [
        {"$ref": rule.get("$ref")} for rule in schemas["InvoiceCreate"]["properties"]["currency"]["anyOf"]
    ]
    assert detail["status"]["$ref"] == SCHEMAS + "InvoiceStatus"
    assert schemas["InvoiceCreatedChanges"]["properties"]["currency"]["$ref"] == SCHEMAS + "Currency"
    assert schemas["InvoiceCreatedChanges"]["properties"]["status"]["$ref"] == SCHEMAS + "InvoiceStatus"
    assert schemas["AccountCreatedChanges"]["properties"]["plan"]["$ref"] == SCHEMAS + "Plan"
    assert schemas["AccountCreatedChanges"]["properties"]["locale"]["$ref"] == SCHEMAS + "Locale"


# --- what the service sends ------------------------------------------------------------------


def _closed(node: Any, schemas: dict[str, Any]) -> Any:
    """``node`` with every object schema closed (``additionalProperties: false``), so a key an
    entry holds that its shape does not declare is found."""
    if isinstance(node, dict):
        closed = {key: _closed(value, schemas) for key, value in node.items()}
        if closed.get("type") == "object" and "properties" in closed and "patternProperties" not in closed:
            closed["additionalProperties"] = False
        return closed
    if isinstance(node, list):
        return [_closed(item, schemas) for item in node]
    return node


def _matches_its_own_shape(spec: dict[str, Any], union: str, tag: str, entries: list[dict[str, Any]]) -> None:
    schemas = spec["components"]["schemas"]
    closed = _closed(schemas, schemas)
    mapping = _union(spec, union)["discriminator"]["mapping"]
    for entry in entries:
        root = {"$ref": mapping[entry[tag]], "components": {"schemas": closed}}
        errors = [e.message for e in Draft202012Validator(root).iter_errors(entry)]
        assert errors == [], (entry[tag], errors)


def _declared(spec: dict[str, Any], method: str, template: str, status: int) -> set[str]:
    answer = spec["paths"][template][method.lower()]["responses"].get(str(status))
    assert answer is not None, (method, template, status)
    return {name.lower() for name in answer.get("headers", {})}


def _sent_are_declared(spec: dict[str, Any], response: Any, method: str, template: str) -> None:
    sent = {name for name in ACTED_ON if name in response.headers}
    undeclared = sent - _declared(spec, method, template, response.status_code)
    assert not undeclared, (method, template, response.status_code, undeclared)


def test_every_entry_matches_its_event_types_shape_and_every_header_sent_is_declared(
    spec: dict[str, Any], api: Api
) -> None:
    def call(method: str, template: str, body: Any = None, headers: dict[str, str] | None = None, **ids: str) -> Any:
        response = api.request(method, template.format(**ids), body, headers=headers)
        _sent_are_declared(spec, response, method, template)
        return response

    client = payload(call("POST", "/api/v1/clients", {"name": "Acme", "email": "billing@acme.test"}))["data"]
    ids = {"client_id": client["id"]}
    call("PATCH", "/api/v1/clients/{client_id}", {"phone": "+1 555"}, **ids)
    read = call("GET", "/api/v1/clients/{client_id}", **ids)
    assert (
        call("GET", "/api/v1/clients/{client_id}", headers={"If-None-Match": read.headers["ETag"]}, **ids).status_code
        == 304
    )
    body = {"clientId": client["id"], "lineItems": [{"description": "Work", "quantity": 2, "unitPrice": 50}]}
    created = call("POST", "/api/v1/invoices", body, headers={"Idempotency-Key": "shapes-1"})
    replayed = call("POST", "/api/v1/invoices", body, headers={"Idempotency-Key": "shapes-1"})
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    ids["invoice_id"] = payload(created)["data"]["id"]
    tag = call("PUT", "/api/v1/invoices/{invoice_id}", {"terms": "Net 30"}, **ids).headers["ETag"]
    assert call("GET", "/api/v1/invoices/{invoice_id}", headers={"If-None-Match": tag}, **ids).status_code == 304
    pdf = call("GET", "/api/v1/invoices/{invoice_id}/pdf", **ids)
    assert (
        call(
            "GET", "/api/v1/invoices/{invoice_id}/pdf", headers={"If-None-Match": pdf.headers["ETag"]}, **ids
        ).status_code
        == 304
    )
    stale = call("PATCH", "/api/v1/invoices/{invoice_id}", {"notes": "x"}, headers={"If-Match": '"0-stale"'}, **ids)
    assert stale.status_code == 412
    call("POST", "/api/v1/invoices/{invoice_id}/send", {"email": True, "to": ["a@acme.test"]}, **ids)
    paid = payload(call("POST", "/api/v1/invoices/{invoice_id}/payments", {"amount": 10, "method": "wire"}, **ids))
    call("DELETE", "/api/v1/invoices/{invoice_id}/payments/{payment_id}", payment_id=paid["data"]["id"], **ids)
    call("POST", "/api/v1/invoices/{invoice_id}/void", None, **ids)
    call("DELETE", "/api/v1/clients/{client_id}", **ids)

    invoice_history = call("GET", "/api/v1/invoices/{invoice_id}/history", **ids).json()[
        "data"
    ]  # as any client parses it
    assert [entry["type"] for entry in invoice_history] == [
        "created", "updated", "sent", "paymentRecorded", "paymentReversed", "voided"
    ]  # fmt: skip
    _matches_its_own_shape(spec, "InvoiceHistory", "type", invoice_history)
    client_history = call("GET", "/api/v1/clients/{client_id}/history", **ids).json()["data"]
    assert [entry["type"] for entry in client_history] == ["created", "updated", "deactivated"]
    _matches_its_own_shape(spec, "ClientHistory", "type", client_history)
    feed = call("GET", "/api/v1/events").json()["data"]
    assert {entry["event"] for entry in feed} >= {"account.created", "invoice.sent", "client.deactivated"}
    _matches_its_own_shape(spec, "Feed", "event", feed)

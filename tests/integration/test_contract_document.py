"""The OpenAPI document's shape, as generators and linters read it (issue 24, item 15), checked
without node: tests/e2e/test_contract_lint.py runs Redocly itself, tests/e2e/test_openapi_client.py
looks at a generated client.

- every closed set of values is one named schema, referenced wherever it is held, and no
  enum holds ""; every id is a UUID;
- the PDF is binary; every operation lists a 4XX answer and declares a default one;
- the document holds no component nothing references;
- errors carry a machine code and a field path; lists take a cursor and name the next one;
- a request's read-only fields are allowed by name, not declared as properties.
"""

from typing import Any

import pytest

from domain.currencies import MINOR_UNITS
from domain.lifecycle import STATUSES
from gateway.rest.contract import requests as q
from gateway.rest.contract.enums import NAMED_ENUMS
from gateway.rest.contract.openapi import document
from gateway.rest.contract.responses import ERROR_CODES

SCHEMAS = "#/components/schemas/"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return document()


def _walk(node: Any, where: str = "#") -> list[tuple[str, dict[str, Any]]]:
    """Every object in ``node`` with its JSON pointer."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((where, node))
        for key, value in node.items():
            found += _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _walk(value, f"{where}/{index}")
    return found


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_each_enum_is_one_named_schema_referenced_where_it_is_held(spec: dict[str, Any]) -> None:
    named = {f"#/components/schemas/{enum.name}" for enum in NAMED_ENUMS}
    inline = [where for where, node in _walk(spec) if "enum" in node and where not in {f"#{n[1:]}" for n in named}]
    assert inline == []
    schemas = spec["components"]["schemas"]
    assert schemas["InvoiceStatus"]["enum"] == list(STATUSES)
    assert schemas["Currency"]["enum"] == sorted(MINOR_UNITS)
    refs = [node["$ref"] for _, node in _walk(spec) if "$ref" in node]
    assert refs.count(SCHEMAS + "InvoiceStatus") >= 5 and refs.count(SCHEMAS + "Currency") >= 3
    invoices = spec["paths"]["/api/v1/invoices"]["get"]["parameters"]
    (status,) = [param for param in invoices if param["name"] == "status"]
    assert status["schema"] == {"$ref": SCHEMAS + "InvoiceStatus"} and status["allowEmptyValue"] is True
    assert all("" not in node["enum"] for _, node in _walk(spec) if "enum" in node)


def test_an_empty_status_filter_is_still_taken_as_none(api: Any) -> None:
    """allowEmptyValue says what ?status= always did: no filter (nothing is broken by
    dropping "" from the enum)."""
    client = api.create_client(name="Acme")
    api.create_invoice(client["id"])
    answer = api.get("/api/v1/invoices", status="")
    assert answer.status_code == 200 and answer.json()["total"] == 1


# Ids that are not the service's: an actor's is the OS user's name for the command line.
NOT_UUIDS = {("#/Actor", "id")}


def test_every_id_is_a_uuid(spec: dict[str, Any]) -> None:
    for where, node in _walk(spec["components"]["schemas"]):
        for name, field in node.get("properties", {}).items() if where.count("/properties/") == 0 else ():
            if (name == "id" or name.endswith("Id") and name != "taxId") and (where, name) not in NOT_UUIDS:
                kinds = field.get("anyOf", [field])
                assert any(kind.get("format") == "uuid" for kind in kinds) or field.get("readOnly"), (where, name)
    for path, method, operation in _operations(spec):
        for param in operation["parameters"]:
            if param["in"] == "path":
                assert param["schema"]["format"] == "uuid", (method, path, param["name"])


def test_the_pdf_is_binary(spec: dict[str, Any]) -> None:
    answer = spec["paths"]["/api/v1/invoices/{invoice_id}/pdf"]["get"]["responses"]["200"]
    schema = answer["content"]["application/pdf"]["schema"]
    assert schema == {"type": "string", "format": "binary", "contentMediaType": "application/pdf"}


def test_every_operation_lists_a_4xx_and_declares_a_default_error(spec: dict[str, Any]) -> None:
    default = spec["components"]["responses"]["UnexpectedError"]
    assert default["content"]["application/json"]["schema"] == {"$ref": SCHEMAS + "Problem"}
    for path, method, operation in _operations(spec):
        answers = operation["responses"]
        assert answers["default"] == {"$ref": "#/components/responses/UnexpectedError"}, (method, path)
        assert any(status.startswith("4") for status in answers), (method, path)
        assert list(answers)[-1] == "default"  # after the listed ones, as it reads
        for status, answer in answers.items():
            if status[0] in "45":
                assert answer["content"]["application/json"]["schema"] == {"$ref": SCHEMAS + "Problem"}


def test_no_component_is_unused(spec: dict[str, Any]) -> None:
    refs = {node["$ref"] for _, node in _walk(spec) if isinstance(node.get("$ref"), str)}
    for kind in ("schemas", "headers", "responses"):
        for name in spec["components"][kind]:
            assert f"#/components/{kind}/{name}" in refs, (kind, name)


def test_errors_carry_a_code_and_a_field(spec: dict[str, Any]) -> None:
    problem = spec["components"]["schemas"]["Problem"]
    assert problem["required"] == ["error"]  # every body the API sent before is still one
    assert set(problem["properties"]) == {"error", "code", "field"}
    assert problem["properties"]["code"]["type"] == "string"  # a string: a new code breaks no client
    assert all(code in problem["properties"]["code"]["description"] for code in ERROR_CODES)
    assert problem["properties"]["field"]["examples"] == ["lineItems[0].quantity"]


@pytest.mark.parametrize(("path", "envelope"), [("/api/v1/clients", "ClientPage"), ("/api/v1/invoices", "InvoicePage")])
def test_lists_take_a_cursor_and_name_the_next_one(spec: dict[str, Any], path: str, envelope: str) -> None:
    params = {param["name"]: param for param in spec["paths"][path]["get"]["parameters"]}
    assert {"page", "limit", "after"} <= set(params) and params["after"]["schema"]["type"] == "string"
    page = spec["components"]["schemas"][envelope]
    assert page["properties"]["nextCursor"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": page["properties"]["nextCursor"]["description"],
    }
    assert {"total", "page", "limit", "totalPages", "nextCursor", "data"} == set(page["required"])


def test_read_only_fields_are_allowed_by_name_not_declared(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for kind in (q.ClientCreate, q.ClientUpdate, q.InvoiceCreate, q.InvoiceUpdate, q.LineItemInput):
        schema = schemas[kind.__name__]
        names = q.read_only_fields(kind)
        assert names and not names & set(schema["properties"]), kind.__name__
        assert set(schema["patternProperties"]) == {f"^{name}$" for name in names}
        assert all(rule.get("readOnly") for rule in schema["patternProperties"].values())
        assert schema["additionalProperties"] is False

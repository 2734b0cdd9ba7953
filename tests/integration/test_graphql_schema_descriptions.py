"""Every part of the GraphQL schema is described, for GraphiQL's Docs panel and generated
clients: the rules of graphql-schema-linter's descriptions group (types-have-descriptions,
fields-have-descriptions, arguments-have-descriptions, input-object-values-have-descriptions,
enum-values-have-descriptions, descriptions-are-capitalized), checked on the schema the
service serves. And the fields whose values are closed are enums that read as the REST
door's strings."""

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)

from gateway.graphql.schema import build_schema
from gateway.rest.contract.enums import NAMED_ENUMS
from tests.conftest import Api
from tests.graphql_support import data

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    built: GraphQLSchema = build_schema()._schema
    return built


def our_types(schema: GraphQLSchema) -> list[Any]:
    return [
        kind for name, kind in sorted(schema.type_map.items()) if not name.startswith("__") and name not in BUILT_IN
    ]


def undescribed(schema: GraphQLSchema) -> list[str]:
    """Where a description is missing or does not start with a capital letter."""
    found: list[str] = []

    def check(where: str, description: str | None) -> None:
        text = (description or "").strip()
        if not text:
            found.append(f"{where}: no description")
        elif not text[0].isupper():
            found.append(f"{where}: description not capitalized: {text[:40]!r}")

    for kind in our_types(schema):
        check(kind.name, kind.description)
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            for name, field in kind.fields.items():
                check(f"{kind.name}.{name}", field.description)
                for arg, argument in field.args.items():
                    check(f"{kind.name}.{name}({arg})", argument.description)
        elif isinstance(kind, GraphQLInputObjectType):
            for name, field in kind.fields.items():
                check(f"{kind.name}.{name}", field.description)
        elif isinstance(kind, GraphQLEnumType):
            for name, value in kind.values.items():
                check(f"{kind.name}.{name}", value.description)
    return found


def test_every_type_field_argument_input_field_and_enum_value_is_described(schema: GraphQLSchema) -> None:
    assert undescribed(schema) == []


def test_the_check_finds_what_is_missing() -> None:
    from graphql import build_schema as from_sdl

    bare = from_sdl('"""Q."""\ntype Query { a(x: Int): E }\nenum E { ONE }\n')
    assert undescribed(bare) == [
        "E: no description",
        "E.ONE: no description",
        "Query.a: no description",
        "Query.a(x): no description",
    ]


@pytest.mark.parametrize(
    ("where", "enum"),
    [
        ("Invoice.status", "InvoiceStatus"),
        ("Invoice.currency", "Currency"),
        ("Invoice.emailStatus", "EmailStatus"),
        ("Actor.type", "ActorType"),
        ("HistoryEntry.type", "HistoryEntryType"),
        ("AccountEvent.type", "HistoryEntryType"),
        ("Resource.type", "ResourceType"),
    ],
)
def test_closed_values_are_enums(schema: GraphQLSchema, where: str, enum: str) -> None:
    kind, name = where.split(".")
    parent = schema.type_map[kind]
    assert isinstance(parent, GraphQLObjectType)
    assert get_named_type(parent.fields[name].type).name == enum


# REST's named enums that describe a header, not a value of a body: GraphQL has no field for them.
HEADER_ONLY = {"WriteSaved"}


def test_the_enums_hold_the_rest_doors_values(schema: GraphQLSchema) -> None:
    for named in NAMED_ENUMS:
        if named.name in HEADER_ONLY:
            continue
        enum = schema.type_map[named.name]
        assert isinstance(enum, GraphQLEnumType)
        assert sorted(enum.values) == sorted(named.values), named.name


def test_enum_fields_answer_the_strings_they_answered_as_strings(api: Api) -> None:
    client = api.create_client(name="Acme", email="ap@acme.test")
    invoice = api.create_invoice(client["id"], currency="eur")
    assert api.post(f"/api/v1/invoices/{invoice['id']}/send", {"email": True}).status_code == 200
    found = data(
        api,
        """query($id: ID!) { invoice(id: $id) { currency status emailStatus
             history { type actor { type } } } events { data { type resource { type } } } }""",
        {"id": invoice["id"]},
    )
    assert (found["invoice"]["currency"], found["invoice"]["status"]) == ("EUR", "SENT")
    assert found["invoice"]["emailStatus"] == "queued"
    assert [entry["type"] for entry in found["invoice"]["history"]] == ["created", "sent"]
    assert {entry["actor"]["type"] for entry in found["invoice"]["history"]} == {"apiKey"}
    assert {event["resource"]["type"] for event in found["events"]["data"]} >= {"account", "client", "invoice"}
    # a currency is still sent as a string, in any case, as REST takes it
    created = data(
        api,
        """mutation($c: ID!) { createInvoice(input: {clientId: $c, currency: " jpy ",
             lineItems: [{description: "x", quantity: 1, unitPrice: 5}]}) { currency total } }""",
        {"c": client["id"]},
    )
    assert created["createInvoice"] == {"currency": "JPY", "total": "5"}

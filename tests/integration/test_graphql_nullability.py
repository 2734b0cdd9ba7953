"""GraphQL nullability: a field that always has a value is non-null, so a typed client
(graphql-codegen with `strictNullChecks`) reads it without a check or a cast. The fields
left nullable are exactly the ones that really can be empty, each named here with why."""

import pytest
from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, is_list_type, is_non_null_type

from gateway.graphql.changes import CHANGE_TYPES
from gateway.graphql.schema import build_schema
from tests.conftest import Api
from tests.graphql_support import data

SCHEMA_FIELDS = {
    name: set(kind.fields)
    for name, kind in build_schema()._schema.type_map.items()
    if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType)
}

# Every nullable output field of the schema, and when it is null.
REALLY_OPTIONAL = {
    "Actor.id": "the system and an unnamed command have no id",
    "Actor.name": "an API key without a label, an unnamed command",
    "Client.address": "optional input",
    "Client.email": "optional input",
    "Client.notes": "optional input",
    "Client.phone": "optional input",
    "Client.taxId": "optional input",
    "ClientPage.nextCursor": "the last page",
    "InvoicePage.nextCursor": "the last page",
    "PageInfo.endCursor": "an empty page",
    "PageInfo.startCursor": "an empty page",
    "Invoice.notes": "optional input",
    "Invoice.terms": "optional input",
    "Invoice.poNumber": "optional input",
    "Invoice.sentAt": "a draft",
    "Invoice.paidAt": "not paid in full",
    "Invoice.viewedAt": "its link never opened",
    "Invoice.overdueAt": "never overdue",
    "Invoice.voidedAt": "not void",
    "Invoice.voidReason": "not void, or voided without a reason",
    "Invoice.emailStatus": "never emailed",
    "Invoice.emailError": "no failed email",
    "Invoice.shareUrl": "a draft",
    "Payment.method": "optional input",
    "Payment.reference": "optional input",
    "Payment.reversedAt": "a payment that counts",
    # A root field whose id names nothing answers null beside its NOT_FOUND error: as a
    # non-null field, that error would null every other root field of the same query.
    "Query.client": "an id that names no client of the account",
    "Query.invoice": "an id (or version, or moment) that names no invoice of the account",
}


# A history entry's typed changes (gateway/graphql/changes.py): the record's fields are null
# unless the event changed them (and GraphQL merges a field across the union's members only
# when its type is one); of what events carry, these are optional.
CARRIED_OPTIONAL = {"message", "retryAt", "method", "reference", "reversedAt"}


def change_field_is_optional(where: str) -> bool:
    kind, name = where.split(".")
    if kind not in CHANGE_TYPES:
        return False
    record = {
        field for interface in ("InvoiceChange", "ClientChange", "AccountChange") for field in SCHEMA_FIELDS[interface]
    }
    return name in record or name in CARRIED_OPTIONAL


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    built: GraphQLSchema = build_schema()._schema
    return built


def nullable_fields(schema: GraphQLSchema) -> set[str]:
    """Output fields that may be null, and lists whose items may be."""
    found: set[str] = set()
    for name, kind in schema.type_map.items():
        if name.startswith("__") or not isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            continue
        for field_name, field in kind.fields.items():
            where = f"{name}.{field_name}"
            if not is_non_null_type(field.type):
                found.add(where)
                continue
            inner = field.type.of_type
            if is_list_type(inner) and not is_non_null_type(inner.of_type):
                found.add(f"{where}[]")
    return found


def test_an_invoices_client_and_a_payments_invoice_are_non_null(schema: GraphQLSchema) -> None:
    invoice, payment = schema.type_map["Invoice"], schema.type_map["Payment"]
    assert isinstance(invoice, GraphQLObjectType) and isinstance(payment, GraphQLObjectType)
    assert str(invoice.fields["client"].type) == "Client!"
    assert str(payment.fields["invoice"].type) == "Invoice!"
    mutation = schema.mutation_type
    assert mutation is not None and str(mutation.fields["recordPayment"].type) == "Payment!"


def test_only_the_fields_that_can_be_empty_are_nullable(schema: GraphQLSchema) -> None:
    nullable = nullable_fields(schema)
    assert {where for where in nullable if not change_field_is_optional(where)} == set(REALLY_OPTIONAL)
    # and in the typed changes, what an event always carries is non-null
    sent, failed = schema.type_map["InvoiceSentChanges"], schema.type_map["InvoiceEmailFailedChanges"]
    assert isinstance(sent, GraphQLObjectType) and isinstance(failed, GraphQLObjectType)
    assert [str(sent.fields[name].type) for name in ("send", "email", "to", "message")] == [
        "Int!",
        "Boolean!",
        "[String!]!",
        "String",
    ]
    assert [str(failed.fields[name].type) for name in ("attempt", "error", "retryAt")] == [
        "Int!",
        "String!",
        "DateTime",
    ]


def test_the_relations_answer_through_every_path(api: Api) -> None:
    client = data(api, 'mutation { createClient(input: {name: "Acme"}) { id } }')["createClient"]
    line = '{description: "Work", quantity: "1", unitPrice: "100"}'
    invoice = data(
        api,
        f'mutation {{ createInvoice(input: {{clientId: "{client["id"]}", lineItems: [{line}]}}) {{ id }} }}',
    )["createInvoice"]
    data(api, f'mutation {{ sendInvoice(id: "{invoice["id"]}") {{ id }} }}')
    paid = data(
        api,
        f'mutation {{ recordPayment(id: "{invoice["id"]}", input: {{amount: "40"}}) '
        "{ invoice { id status client { name } } } }",
    )["recordPayment"]
    assert paid["invoice"] == {"id": invoice["id"], "status": "PARTIALLY_PAID", "client": {"name": "Acme"}}
    found = data(
        api,
        f'{{ invoice(id: "{invoice["id"]}") {{ client {{ name }} payments {{ invoice {{ id }} }} }}'
        f' past: invoice(id: "{invoice["id"]}", version: 1) {{ client {{ name }} }} }}',
    )
    assert found["invoice"] == {"client": {"name": "Acme"}, "payments": [{"invoice": {"id": invoice["id"]}}]}
    assert found["past"] == {"client": {"name": "Acme"}}

"""GraphQL nullability: a field that always has a value is non-null, so a typed client
(graphql-codegen with `strictNullChecks`) reads it without a check or a cast. The fields
left nullable are exactly the ones that really can be empty, each named here with why."""

import pytest
from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, is_list_type, is_non_null_type

from gateway.graphql.schema import build_schema
from tests.conftest import Api
from tests.graphql_support import data

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
    assert nullable_fields(schema) == set(REALLY_OPTIONAL)


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

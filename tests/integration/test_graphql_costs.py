"""The service's GraphQL cost model (gateway/graphql/costs.py, docs/api.md): whatever one REST
request serves, at REST's largest page, fits in one query; pages nested in pages are still
refused before anything runs."""

from typing import Any

import pytest
from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLSchema, GraphQLUnionType

from gateway.graphql.costs import MAX_COST, PART_TYPES, RECORD_TYPES
from gateway.graphql.schema import build_schema
from gateway.services import Services
from tests.conftest import Api
from tests.graphql_support import CLIENT_FIELDS, INVOICE_FIELDS, PAYMENT_FIELDS, gql
from usecases.auditing import FEED_MAX
from usecases.inputs import MAX_LIMIT

ROOTS = {"Query", "Mutation", "Subscription"}
ENTRY = "version type occurredAt actor { type id name } changes previous"
EVENT = f"position resource {{ type id }} {ENTRY}"
PAGE = (
    "total page limit totalPages nextCursor totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
)
DETAIL = f"{INVOICE_FIELDS} version payments {{ {PAYMENT_FIELDS} }}"


def test_every_object_type_is_a_record_or_a_part_of_one() -> None:
    """Objects, interfaces and unions alike (a field returning a union counts as its part)."""
    schema: GraphQLSchema = build_schema()._schema
    composite = {
        name
        for name, kind in schema.type_map.items()
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType) and not name.startswith("__")
    }
    assert not PART_TYPES & RECORD_TYPES
    assert composite - ROOTS == PART_TYPES | RECORD_TYPES


def cost(api: Api, query: str) -> int:
    """The cost of a query that must run without an error."""
    body = gql(api, query)
    assert not body.get("errors"), body["errors"]
    assert body["extensions"]["cost"]["maximum"] == MAX_COST
    found: int = body["extensions"]["cost"]["requested"]
    return found


@pytest.fixture
def books(api: Api) -> Api:
    """An account with a few clients and sent, part-paid invoices: every resolver runs."""
    for n in range(3):
        client = api.create_client(name=f"Client {n}", email=f"c{n}@example.test")
        invoice = api.create_invoice(client["id"])
        assert api.post(f"/api/v1/invoices/{invoice['id']}/send", {}).status_code == 200
        assert api.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": "1"}).status_code == 201
    return api


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # REST's largest feed page, every field
        (f"{{ events(limit: {FEED_MAX}) {{ next data {{ {EVENT} }} }} }}", 1 + FEED_MAX),
        # REST's largest invoice page, each with all its detail gives, and its payments
        (f"{{ invoices(limit: {MAX_LIMIT}) {{ {PAGE} data {{ {DETAIL} }} }} }}", 1 + MAX_LIMIT * 3),
        # the same through the connection's fields
        (
            f"{{ invoices(first: {MAX_LIMIT}) {{ {PAGE} edges {{ cursor node {{ {DETAIL} }} }} }} }}",
            1 + MAX_LIMIT * 3,
        ),
        # ... and with each invoice's history
        (
            f"{{ invoices(limit: {MAX_LIMIT}) {{ {PAGE} data {{ {DETAIL} history {{ {ENTRY} }} }} }} }}",
            1 + MAX_LIMIT * 13,
        ),
        # REST's largest client page, each client with its history
        (f"{{ clients(limit: {MAX_LIMIT}) {{ {PAGE} data {{ {CLIENT_FIELDS} history {{ {ENTRY} }} }} }} }}", 1101),
        # a payment's answer, as REST's, with the invoice it leaves
        (
            f"{{ invoices(limit: {MAX_LIMIT}) {{ data {{ payments {{ invoice {{ {DETAIL} }} }} }} }} }}",
            1 + MAX_LIMIT * 5,
        ),
    ],
)
def test_the_largest_pages_rest_serves_fit_in_one_query(books: Api, query: str, expected: int) -> None:
    assert cost(books, query) == expected <= MAX_COST


@pytest.mark.parametrize(
    ("query", "requested"),
    [
        (  # pages of invoices, each with pages of invoices, each with their history
            "{ clients(limit: 100) { data { invoices(limit: 100) { data { history { type } } } } } }",
            1 + 100 * (1 + 1 + 100 * (1 + 10)),
        ),
        (  # a page of invoices, each with its client's page of invoices and their payments' invoices
            "{ invoices(limit: 100) { data { client { invoices(limit: 20) { data { payments { invoice"
            " { history { type } } } } } } } } }",
            1 + 100 * (1 + 1 + 1 + 20 * (1 + 1 + 1 + 10)),
        ),
        (  # smaller pages, nested the same way, still add up
            "{ clients(limit: 20) { data { history { type } invoices(limit: 20) { data { history { type } } } } } }",
            1 + 20 * (1 + 10 + 1 + 20 * (1 + 10)),
        ),
    ],
)
def test_pages_nested_in_pages_are_refused_before_anything_runs(
    books: Api, services: Services, query: str, requested: int
) -> None:
    before = services.app.recorder.max_notification_id()
    body = gql(books, query)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == (
        f"Query cost {requested} exceeds the maximum cost of {MAX_COST}: ask for fewer items (a smaller 'limit')"
        " or fewer fields"
    )
    assert error["extensions"] == {
        "code": "BAD_REQUEST",
        "reason": "INVALID_QUERY",
        "cost": {"requested": requested, "maximum": MAX_COST},
    }
    assert services.app.recorder.max_notification_id() == before


def test_a_subscription_counts_one_event_at_a_time() -> None:
    from graphql import parse

    from gateway.graphql.costs import query_limits
    from gateway.graphql.limits import measure_operation

    schema: GraphQLSchema = build_schema()._schema
    document = parse(f"subscription {{ accountEvents {{ {EVENT} }} }}")
    measured: Any = measure_operation(schema, document, limits=query_limits())
    assert measured.cost == 1

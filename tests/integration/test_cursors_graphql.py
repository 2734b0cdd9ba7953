"""Keyset pages through GraphQL: the lists are Relay connections too (``first``/``after``,
``edges``, ``pageInfo``, ``totalCount``) beside today's page fields, and a walk by cursor
sees every row once, in order, while others write. On SQLite and PostgreSQL."""

import threading
from typing import Any

import pytest

from tests.conftest import Api, payload
from tests.graphql_support import data, error

CONNECTION = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } }"
INVOICES = f"query($first: Int, $after: String, $status: InvoiceStatus) {{ invoices(first: $first, after: $after, status: $status) {{ {CONNECTION} total page nextCursor data {{ id }} }} }}"  # noqa: E501
CURSOR_PROBLEM = "Parameter 'after' must be a cursor this list gave (nextCursor or endCursor)"


def walk(api: Api, query: str, field: str, between: Any = None, **variables: Any) -> list[str]:
    """Every id of a connection, following pageInfo.endCursor; ``between`` runs after each page."""
    seen: list[str] = []
    after = None
    while True:
        found = data(api, query, {**variables, "after": after})
        for part in field.split("."):
            found = found[part]
        seen += [edge["node"]["id"] for edge in found["edges"]]
        if between is not None:
            between()
        if not found["pageInfo"]["hasNextPage"]:
            return seen
        after = found["pageInfo"]["endCursor"]


@pytest.fixture
def acme(api: Api) -> dict[str, Any]:
    return api.create_client(name="Acme Corp", email="billing@acme.test")


def test_a_connection_walk_while_another_thread_creates_sees_every_earlier_row_once(
    api: Api, acme: dict[str, Any]
) -> None:
    for _ in range(15):
        api.create_invoice(acme["id"])
    before = [row["id"] for row in payload(api.get("/api/v1/invoices", limit="100"))["data"]]
    done, written = threading.Event(), threading.Semaphore(0)
    created: list[str] = []

    def create() -> None:
        while not done.is_set() and len(created) < 40:
            created.append(api.create_invoice(acme["id"])["id"])
            written.release()

    writer = threading.Thread(target=create)
    writer.start()
    try:
        walked = walk(
            api, INVOICES, "invoices", between=lambda: writer.is_alive() and written.acquire(timeout=60), first=3
        )
    finally:
        done.set()
        writer.join(timeout=60)
    assert len(created) >= 5, "the walk did not interleave with the writes"
    assert [row for row in walked if row in set(before)] == before
    assert len(walked) == len(set(walked))


def test_the_connection_fields_stand_beside_the_page_fields(api: Api, acme: dict[str, Any]) -> None:
    for _ in range(5):
        api.create_invoice(acme["id"])
    rest = payload(api.get("/api/v1/invoices", limit="2"))
    first = data(api, INVOICES, {"first": 2})["invoices"]
    assert first["totalCount"] == first["total"] == 5 and first["page"] == 1
    assert [edge["node"]["id"] for edge in first["edges"]] == [row["id"] for row in rest["data"]]
    info = first["pageInfo"]
    assert info["hasNextPage"] and not info["hasPreviousPage"]
    assert info["endCursor"] == first["edges"][-1]["cursor"] == first["nextCursor"] == rest["nextCursor"]
    assert info["startCursor"] == first["edges"][0]["cursor"]
    second = data(api, INVOICES, {"first": 2, "after": info["endCursor"]})["invoices"]
    assert second["pageInfo"]["hasPreviousPage"]
    rest_second = payload(api.get("/api/v1/invoices", limit="2", after=rest["nextCursor"]))
    assert [edge["node"]["id"] for edge in second["edges"]] == [row["id"] for row in rest_second["data"]]
    # an edge's cursor is a place to start from too
    third = data(api, INVOICES, {"first": 10, "after": first["edges"][0]["cursor"]})["invoices"]
    assert len(third["edges"]) == 4 and not third["pageInfo"]["hasNextPage"]
    assert third["nextCursor"] is None and third["pageInfo"]["endCursor"] == third["edges"][-1]["cursor"]


def test_an_empty_connection(api: Api) -> None:
    empty = data(api, INVOICES, {"first": 5})["invoices"]
    assert empty["edges"] == [] and empty["totalCount"] == 0
    assert empty["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


def test_the_clients_and_a_clients_invoices_are_connections_too(api: Api, acme: dict[str, Any]) -> None:
    globex = api.create_client(name="Globex")
    for _ in range(4):
        api.create_invoice(acme["id"])
        api.create_invoice(globex["id"])
    clients = "query($first: Int, $after: String) { clients(first: $first, after: $after) { C } }".replace(
        "C", CONNECTION
    )
    assert walk(api, clients, "clients", first=1) == [globex["id"], acme["id"]]
    theirs = (
        "query($id: ID!, $first: Int, $after: String) { client(id: $id) { invoices(first: $first, after: $after,"
        " status: DRAFT) { CONNECTION } } }".replace("CONNECTION", CONNECTION)
    )
    expected = [row["id"] for row in payload(api.get("/api/v1/invoices", clientId=acme["id"]))["data"]]
    assert walk(api, theirs, "client.invoices", id=acme["id"], first=3) == expected
    assert len(expected) == 4


def test_page_and_limit_still_page_by_number(api: Api, acme: dict[str, Any]) -> None:
    for _ in range(3):
        api.create_invoice(acme["id"])
    found = data(
        api,
        "{ invoices(page: 2, limit: 2) { page totalPages nextCursor"
        " pageInfo { hasPreviousPage hasNextPage } edges { node { id } } } }",
    )
    page = found["invoices"]
    assert (page["page"], page["totalPages"], page["nextCursor"], len(page["edges"])) == (2, 2, None, 1)
    assert page["pageInfo"] == {"hasPreviousPage": True, "hasNextPage": False}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ('first: 2, after: "not a cursor"', CURSOR_PROBLEM),
        ('after: "%%%"', CURSOR_PROBLEM),
        ("first: 0", "Argument 'first' must be an integer from 1 to 100"),
        ("first: 101", "Argument 'first' must be an integer from 1 to 100"),
        ("first: 5, limit: 10", "Give argument 'first' or 'limit', not both"),
        ('page: 2, after: "x"', "Give parameter 'page' or 'after', not both"),
    ],
)
def test_bad_paging_is_a_validation_error_with_the_rest_doors_words(
    api: Api, acme: dict[str, Any], arguments: str, message: str
) -> None:
    api.create_invoice(acme["id"])
    for field in ("invoices", "clients"):
        assert error(api, f"{{ {field}({arguments}) {{ totalCount }} }}") == ("BAD_REQUEST", message)
    if message == CURSOR_PROBLEM:
        response = api.get("/api/v1/invoices", after="not a cursor")
        assert response.status_code == 400 and payload(response)["error"] == message


def test_first_counts_for_the_cost_as_limit_does(api: Api) -> None:
    nested = "edges { node { client { name } payments { amount } } }"
    cheap = api.http.post(
        "/graphql",
        json={"query": f"{{ invoices(first: 2) {{ {nested} }} }}"},
        headers=api.tenant.headers,  # type: ignore[union-attr]
    ).json()
    costly = api.http.post(
        "/graphql",
        json={"query": f"{{ invoices(first: 100) {{ {nested} }} }}"},
        headers=api.tenant.headers,  # type: ignore[union-attr]
    ).json()
    assert cheap["extensions"]["cost"]["requested"] < costly["extensions"]["cost"]["requested"]
    by_limit = api.http.post(
        "/graphql",
        json={"query": f"{{ invoices(limit: 100) {{ {nested} }} }}"},
        headers=api.tenant.headers,  # type: ignore[union-attr]
    ).json()
    assert costly["extensions"]["cost"]["requested"] == by_limit["extensions"]["cost"]["requested"]

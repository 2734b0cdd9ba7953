"""The GraphQL door's infrastructure, over HTTP: query limits, error codes, introspection.

A small schema of the real one's shape (pages with `limit`, lists, a subscription) is
served by strawberry's ASGI view in a Starlette app, exactly as the service mounts it, so
every check here is what a client sees on the wire. The real schema gets the same rules.
"""

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Iterator
from dataclasses import replace
from typing import Any

import pytest
import strawberry
from graphql import get_introspection_query
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route, WebSocketRoute

from domain.errors import Conflict, NotFound, PlanLimitReached, ValidationError
from gateway.graphql.errors import CODES, CodedSchema, ErrorCodes
from gateway.graphql.limits import GraphQLLimits, limit_extensions, measure_operation, strawberry_config
from gateway.graphql.view import JsonErrorsGraphQL
from gateway.http.problems import PayloadTooLarge
from gateway.settings import Settings, SettingsError
from tests.conftest import TestClient
from usecases.errors import Unavailable

CALLS: list[str] = []  # the resolvers that ran: a refused request leaves it empty


@strawberry.type
class Payment:
    amount: str


@strawberry.type
class Invoice:
    id: strawberry.ID
    number: str

    @strawberry.field
    def payments(self) -> list[Payment]:
        CALLS.append("payments")
        return [Payment(amount="1.00")]


@strawberry.type
class InvoicePage:
    data: list[Invoice]
    total: int


@strawberry.type
class Client:
    id: strawberry.ID
    name: str

    @strawberry.field
    def invoices(self, page: int = 1, limit: int = 20) -> InvoicePage:
        CALLS.append("Client.invoices")
        return InvoicePage(data=[Invoice(id=strawberry.ID("i1"), number="INV-0001")], total=1)


@strawberry.type
class ClientPage:
    data: list[Client]
    total: int


@strawberry.type
class Event:
    position: int
    type: str

    @strawberry.field
    def client(self) -> Client:
        return Client(id=strawberry.ID("c1"), name="Acme")


class Teapot(Exception):
    """Not ours, though it looks it: a code outside the known ones."""

    code = "TEAPOT"
    message = "I'm a teapot"


FAILURES: dict[str, Exception] = {
    "not-found": NotFound("Client not found"),
    "conflict": Conflict("Invoice number INV-0001 is already taken"),
    "plan": PlanLimitReached("The free plan allows 5 clients"),
    "validation": ValidationError("Field 'email' must be an email address"),
    "unavailable": Unavailable("The change was saved, but it cannot be read back yet"),
    "too-large": PayloadTooLarge("The body is larger than 1048576 bytes"),
    "rate": StarletteHTTPException(429, "Rate limit exceeded"),
    "unauthenticated": StarletteHTTPException(401, "Missing API key"),
    "bug": RuntimeError("connection to postgres://admin:hunter2@db failed"),
    "teapot": Teapot(),
}


@strawberry.type
class Query:
    @strawberry.field
    def clients(self, page: int = 1, limit: int = 20, search: str | None = None) -> ClientPage:
        CALLS.append("clients")
        return ClientPage(data=[Client(id=strawberry.ID("c1"), name="Acme")], total=1)

    @strawberry.field
    def client(self, id: strawberry.ID) -> Client | None:
        CALLS.append("client")
        return Client(id=id, name="Acme")

    @strawberry.field
    def events(self, after: int = 0, limit: int | None = None) -> list[Event]:
        CALLS.append("events")
        return [Event(position=after + 1, type="ClientCreated")]

    @strawberry.field
    def fail(self, kind: str) -> str:
        raise FAILURES[kind]

    @strawberry.field
    def broken(self) -> str:
        return None  # type: ignore[return-value]  # a bug: null for a non-null field

    @strawberry.field
    def greeting(self) -> str:
        return "hello"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def account_events(self, after: int = 0, limit: int = 100) -> AsyncGenerator[Event, None]:
        CALLS.append("accountEvents")
        for position in range(after + 1, after + 3):
            yield Event(position=position, type="InvoiceSent")
            await asyncio.sleep(0)


class View(JsonErrorsGraphQL[Any, None]):
    pass


def serve(limits: GraphQLLimits | None = None, *, batching: bool = True, plain: bool = False) -> TestClient:
    limits = limits or GraphQLLimits()
    config = strawberry_config(limits) if batching else None
    if plain:  # strawberry's own Schema, with the extension listed by hand
        schema: strawberry.Schema = strawberry.Schema(
            Query, subscription=Subscription, extensions=[ErrorCodes, *limit_extensions(limits)], config=config
        )
    else:
        schema = CodedSchema(Query, subscription=Subscription, extensions=limit_extensions(limits), config=config)
    view = View(schema)
    app = Starlette(routes=[Route("/graphql", view, methods=["GET", "POST"]), WebSocketRoute("/graphql", view)])
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def http() -> Iterator[TestClient]:
    CALLS.clear()
    with serve() as client:
        yield client


def coded(body: Any) -> Any:
    """The body, after checking that every error in it carries one of our codes."""
    for result in body if isinstance(body, list) else [body]:
        for error in result.get("errors") or []:
            assert error["extensions"]["code"] in CODES, error
    return body


def post(http: TestClient, query: str, variables: dict[str, Any] | None = None, **extra: Any) -> Any:
    response = http.post("/graphql", json={"query": query, "variables": variables, **extra})
    assert response.status_code == 200, response.text
    return coded(response.json())


def refused(body: Any) -> list[dict[str, Any]]:
    """The errors of a request refused before it ran."""
    assert body["data"] is None
    assert CALLS == []
    return list(body["errors"])


# --- cost ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "cost"),
    [
        ("{ greeting }", 0),  # scalars are free
        ("{ clients { total } }", 1),  # one page object; its default limit multiplies nothing
        ("{ clients(limit: 10) { data { name } } }", 1 + 10 * 1),
        # a page of 10 clients, each with a page of 5 invoices, each with its payments
        (
            "{ clients(limit: 10) { data { name invoices(limit: 5) { data { number payments { amount } } } } } }",
            1 + 10 * (1 + (1 + 5 * (1 + 1))),
        ),
        ("{ clients { data { name } } }", 1 + 20 * 1),  # the field's default limit
        ("{ events(limit: 50) { position } }", 50),  # a list of 50 objects
        ("{ events { position } }", 100),  # no limit and no default: the assumed size
        ("{ a: clients(limit: 10) { total } b: clients(limit: 10) { total } }", 2),  # aliases count each
        (  # a fragment counts each time it is spread
            "{ clients(limit: 10) { data { ...C } } x: client(id: 1) { ...C } } "
            "fragment C on Client { invoices(limit: 5) { total } }",
            (1 + 10 * (1 + 1)) + (1 + 1),
        ),
        ("{ client(id: 1) { ... on Client { name invoices { total } } } }", 2),
    ],
)
def test_every_response_reports_the_cost_of_its_query(http: TestClient, query: str, cost: int) -> None:
    body = post(http, query)
    assert "errors" not in body
    assert body["extensions"]["cost"] == {"requested": cost, "maximum": 1000}


def test_a_query_over_the_maximum_cost_is_refused_before_it_runs(http: TestClient) -> None:
    query = "{ clients(limit: 100) { data { invoices(limit: 20) { data { number } } } } }"
    cost = 1 + 100 * (1 + (1 + 20 * 1))
    body = post(http, query)
    [error] = refused(body)
    assert error["message"].startswith(f"Query cost {cost} exceeds the maximum cost of 1000")
    assert error["extensions"] == {
        "code": "BAD_REQUEST",
        "reason": "INVALID_QUERY",
        "cost": {"requested": cost, "maximum": 1000},
    }
    assert body["extensions"]["cost"] == {"requested": cost, "maximum": 1000}


def test_the_cost_uses_the_request_variables(http: TestClient) -> None:
    query = "query Clients($n: Int!) { clients(limit: $n) { data { name } } }"
    at_the_maximum = post(http, query, {"n": 999})
    assert at_the_maximum["data"] == {"clients": {"data": [{"name": "Acme"}]}}
    assert at_the_maximum["extensions"]["cost"]["requested"] == 1000
    CALLS.clear()
    [error] = refused(post(http, query, {"n": 1000}))
    assert "Query cost 1001 exceeds the maximum cost of 1000" in error["message"]
    # a variable's own default, and a variable left out (the field's default applies)
    assert post(http, "query($n: Int = 70) { events(limit: $n) { type } }")["extensions"]["cost"]["requested"] == 70
    assert (
        post(http, "query($n: Int) { clients(limit: $n) { data { name } } }")["extensions"]["cost"]["requested"] == 21
    )
    # a wrong variable is refused by variable coercion; nothing runs either way
    CALLS.clear()
    [error] = refused(post(http, query, {"n": "many"}))
    assert error["extensions"]["code"] == "BAD_REQUEST"


def test_the_cost_counts_the_operation_that_runs(http: TestClient) -> None:
    document = "query Small { clients(limit: 1) { total } } query Big { clients(limit: 900) { data { name } } }"
    assert post(http, document, operationName="Small")["extensions"]["cost"]["requested"] == 1
    assert post(http, document, operationName="Big")["extensions"]["cost"]["requested"] == 901


def test_the_cost_is_checked_on_get_and_on_subscriptions_too(http: TestClient) -> None:
    response = http.get("/graphql", params={"query": "{ events(limit: 5000) { type } }"})
    [error] = refused(coded(response.json()))
    assert "Query cost 5000 exceeds" in error["message"]

    with http.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as socket:
        socket.send_json({"type": "connection_init"})
        assert socket.receive_json()["type"] == "connection_ack"
        socket.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "subscription { accountEvents(limit: 5000) { client { name } } }"},
            }
        )
        message = socket.receive_json()
        assert message["type"] == "error"
        [error] = message["payload"]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert "Query cost 5001 exceeds the maximum cost of 1000" in error["message"]
        socket.send_json(
            {"id": "2", "type": "subscribe", "payload": {"query": "subscription { accountEvents { position } }"}}
        )
        first = socket.receive_json()
        assert first["type"] == "next"
        assert first["payload"]["data"] == {"accountEvents": {"position": 1}}
        assert first["payload"]["extensions"]["cost"] == {"requested": 1, "maximum": 1000}
    assert CALLS == ["accountEvents"]


def test_the_limits_are_constructor_arguments() -> None:
    CALLS.clear()
    limits = GraphQLLimits(max_cost=50, list_sizes={"Invoice.payments": 10})
    with serve(limits) as http:
        query = "{ client(id: 1) { invoices(limit: 2) { data { payments { amount } } } } }"
        body = post(http, query)  # 1 + (1 + 2 × (1 + (10 + 10 × 0)))
        assert body["extensions"]["cost"] == {"requested": 24, "maximum": 50}
        CALLS.clear()
        [error] = refused(post(http, "{ clients(limit: 50) { data { name } } }"))
        assert error["extensions"]["cost"] == {"requested": 51, "maximum": 50}
    # a part of its object counts nothing itself; what it selects still counts
    with serve(GraphQLLimits(part_types=frozenset({"Payment", "InvoicePage"}))) as http:
        query = "{ client(id: 1) { invoices(limit: 2) { data { payments { amount } } } } }"
        assert post(http, query)["extensions"]["cost"]["requested"] == 1 + (0 + 2 * (1 + 0))
    with pytest.raises(ValueError, match="max_cost must be a positive integer"):
        GraphQLLimits(max_cost=0)


def test_the_measure_is_public_for_the_real_schema_to_check_its_queries() -> None:
    schema = strawberry.Schema(Query)
    from graphql import parse

    measure = measure_operation(
        schema._schema, parse("query($n: Int) { clients(limit: $n) { data { name } } }"), {"n": 7}
    )
    assert (measure.cost, measure.depth, measure.aliases) == (8, 3, 0)


# --- depth, aliases, tokens ---------------------------------------------------------------


def test_depth_is_limited(http: TestClient) -> None:
    deep = "{ client(id: 1) { invoices { data { payments { amount } } } } }"  # 5 deep
    assert "errors" not in post(http, deep)
    with serve(GraphQLLimits(max_depth=4)) as strict:
        CALLS.clear()
        [error] = refused(post(strict, deep))
        assert error["message"] == "Query depth 5 exceeds the maximum depth of 4"
        assert error["extensions"]["code"] == "BAD_REQUEST"
        # through fragments too
        CALLS.clear()
        [error] = refused(
            post(
                strict, "{ client(id: 1) { ...I } } fragment I on Client { invoices { data { payments { amount } } } }"
            )
        )
        assert error["message"] == "Query depth 5 exceeds the maximum depth of 4"


def test_graphiql_introspection_fits_the_default_limits_and_deep_introspection_does_not(http: TestClient) -> None:
    body = post(http, get_introspection_query(descriptions=True))
    assert "errors" not in body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    CALLS.clear()
    cyclic = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    [error] = refused(post(http, cyclic))
    assert error == {
        "message": "Maximum introspection depth exceeded",
        "locations": [{"line": 1, "column": 3}],
        "extensions": {"code": "BAD_REQUEST", "reason": "INVALID_QUERY"},
    }


def test_aliases_are_limited_and_counted_through_fragments(http: TestClient) -> None:
    thirty = " ".join(f"g{n}: greeting" for n in range(30))
    assert "errors" not in post(http, "{ " + thirty + " }")
    [error] = refused(post(http, "{ " + thirty + " extra: greeting }"))
    assert error["message"] == "The query uses 31 aliases; at most 30 are allowed"
    assert error["extensions"]["code"] == "BAD_REQUEST"
    # 4 aliases in a fragment spread 8 times are 32 aliases (strawberry < 0.315.7 saw 4)
    spreads = " ".join(f"c{n}: client(id: {n}) {{ ...F }}" for n in range(8))
    CALLS.clear()
    errors = refused(post(http, "{ " + spreads + " } fragment F on Client { a: name b: name c: name d: name }"))
    assert "The query uses 40 aliases; at most 30 are allowed" in [e["message"] for e in errors]


def test_tokens_are_limited(http: TestClient) -> None:
    query = "{ clients(limit: 1) { total } }"  # 11 tokens
    with serve(GraphQLLimits(max_tokens=11)) as exact:
        assert "errors" not in post(exact, query)
    with serve(GraphQLLimits(max_tokens=10)) as short:
        CALLS.clear()
        [error] = refused(post(short, query))
        assert error["message"] == "Syntax Error: Document contains more than 10 tokens. Parsing aborted."
        assert error["extensions"]["code"] == "BAD_REQUEST"
    CALLS.clear()
    [error] = refused(post(http, "query { " + "greeting " * 1999 + "}"))  # 2,002 tokens
    assert error["message"] == "Syntax Error: Document contains more than 2000 tokens. Parsing aborted."


def test_fragments_spread_many_times_over_are_measured_in_linear_time(http: TestClient) -> None:
    # Each fragment spreads the next twice: 2^60 copies of the last one. strawberry's own
    # depth and alias limiters walk every copy (for hours); these limits remember fragments.
    levels = 60
    fragments = [f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels)]
    document = "{ ...F0 } " + " ".join(fragments) + f" fragment F{levels} on Query {{ a: client(id: 1) {{ name }} }}"
    started = time.monotonic()
    errors = refused(post(http, document))
    assert time.monotonic() - started < 5
    messages = [e["message"] for e in errors]
    assert f"The query uses {2**levels} aliases; at most 30 are allowed" in messages
    assert any(m.startswith(f"Query cost {2**levels} exceeds") for m in messages)


# --- batches and requests the endpoint cannot read ----------------------------------------


def test_a_batch_runs_each_operation_under_the_limits(http: TestClient) -> None:
    response = http.post(
        "/graphql",
        json=[
            {"query": "{ clients(limit: 2) { data { name } } }"},
            {"query": "query($n: Int!) { events(limit: $n) { position } }", "variables": {"n": 3}},
            {"query": "{ events(limit: 2000) { position } }"},
        ],
    )
    assert response.status_code == 200
    first, second, third = coded(response.json())
    assert first["data"] == {"clients": {"data": [{"name": "Acme"}]}}
    assert first["extensions"]["cost"]["requested"] == 3
    assert second["extensions"]["cost"]["requested"] == 3
    assert third["data"] is None
    assert third["errors"][0]["message"].startswith("Query cost 2000 exceeds the maximum cost of 1000")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([{"query": "{ greeting }"}] * 6, "A batch holds at most 5 operations, not 6"),
        ([], "An empty batch: send at least one operation"),
        ([{"query": "{ greeting }"}, 7], "Operation 2 of the batch must be a JSON object with a 'query'"),
        (
            [{"query": "{ greeting }", "variables": [1]}],
            "'variables' of operation 1 of the batch must be an object or null",
        ),
        (1, "The request must be a JSON object with a 'query'"),
        ("null", "The request must be a JSON object with a 'query'"),
        ("{ greeting }", "The request must be a JSON object with a 'query'"),
        ({"query": 5}, "'query' of the request must be a string or null"),
        ({"query": "{ greeting }", "operationName": 5}, "'operationName' of the request must be a string or null"),
    ],
)
def test_a_body_that_is_not_one_or_a_few_operations_is_refused(http: TestClient, body: Any, message: str) -> None:
    if body == "null":  # httpx sends no body at all for json=None
        response = http.post("/graphql", content=b"null", headers={"content-type": "application/json"})
    else:
        response = http.post("/graphql", json=body)
    assert response.status_code == 400
    unreadable = {"code": "BAD_REQUEST", "reason": "MALFORMED_REQUEST"}
    assert response.json() == {"errors": [{"message": message, "extensions": unreadable}]}
    assert CALLS == []


def test_requests_strawberry_refuses_itself_get_the_same_json_errors(http: TestClient) -> None:
    cases = [
        (http.post("/graphql", content=b"{not json", headers={"content-type": "application/json"}), 400),
        (http.post("/graphql", content=b"query", headers={"content-type": "text/plain"}), 400),
        (http.get("/graphql", params={"query": "mutation { nothing }"}), 400),
        (http.post("/graphql", json={"variables": {}}), 400),
    ]
    for response, status in cases:
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json"
        [error] = coded(response.json())["errors"]
        assert error["extensions"] == {"code": "BAD_REQUEST", "reason": "MALFORMED_REQUEST"}
    assert [r.json()["errors"][0]["message"] for r, _ in cases] == [
        "Unable to parse request body as JSON",
        "Unsupported content type",
        "mutations are not allowed when using GET",
        "No GraphQL query found in the request",
    ]


def test_without_a_batching_config_an_array_is_refused_with_a_clear_error() -> None:
    with serve(batching=False) as http:
        response = http.post("/graphql", json=[{"query": "{ greeting }"}])
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error == {
        "message": "Batching is not enabled: send one operation as a JSON object, not an array",
        "extensions": {"code": "BAD_REQUEST", "reason": "MALFORMED_REQUEST"},
    }


# --- error codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "extensions", "message"),
    [
        ("not-found", {"code": "NOT_FOUND", "reason": "NOT_FOUND"}, "Client not found"),
        ("conflict", {"code": "CONFLICT", "reason": "CONFLICT"}, "Invoice number INV-0001 is already taken"),
        ("plan", {"code": "FORBIDDEN", "reason": "PLAN_LIMIT"}, "The free plan allows 5 clients"),
        (
            "validation",
            {"code": "BAD_REQUEST", "reason": "VALIDATION_FAILED", "field": "email"},
            "Field 'email' must be an email address",
        ),
        (
            "unavailable",
            {"code": "UNAVAILABLE", "reason": "UNAVAILABLE", "retryAfter": 1},
            "The change was saved, but it cannot be read back yet",
        ),
        (
            "too-large",
            {"code": "BAD_REQUEST", "reason": "PAYLOAD_TOO_LARGE"},
            "The body is larger than 1048576 bytes",
        ),
        ("rate", {"code": "RATE_LIMITED", "reason": "RATE_LIMITED"}, "Rate limit exceeded"),
        ("unauthenticated", {"code": "UNAUTHENTICATED", "reason": "UNAUTHENTICATED"}, "Missing API key"),
    ],
)
def test_our_errors_keep_their_message_and_carry_their_code(
    http: TestClient, kind: str, extensions: dict[str, Any], message: str
) -> None:
    """The code GraphQL always carried, the finer reason REST answers as `code`, and the
    field or the wait where they are known."""
    body = post(http, "query($kind: String!) { fail(kind: $kind) }", {"kind": kind})
    assert body["errors"] == [
        {"message": message, "locations": [{"line": 1, "column": 25}], "path": ["fail"], "extensions": extensions}
    ]


@pytest.mark.parametrize("plain", [False, True], ids=["CodedSchema", "strawberry.Schema+ErrorCodes"])
@pytest.mark.parametrize("kind", ["bug", "teapot"])
def test_anything_else_is_masked_and_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture, kind: str, plain: bool
) -> None:
    caplog.set_level(logging.DEBUG)
    with serve(plain=plain) as http:
        body = post(http, "query($kind: String!) { fail(kind: $kind) greeting }", {"kind": kind})
    assert body["data"] is None  # `fail` is non-null: its error nulls the whole result
    assert body["errors"] == [
        {
            "message": "Internal server error",
            "locations": [{"line": 1, "column": 25}],
            "path": ["fail"],
            "extensions": {"code": "INTERNAL", "reason": "INTERNAL"},
        }
    ]
    assert "hunter2" not in str(body) and "teapot" not in str(body)
    logged = [r for r in caplog.records if r.name == "cleverinvo" and r.levelno == logging.ERROR]
    if not plain:
        [record] = logged
        assert record.exc_info is not None and record.exc_info[1] is FAILURES[kind]
        assert "fail" in record.getMessage()


def test_a_field_that_breaks_its_type_is_internal(http: TestClient) -> None:
    body = post(http, "{ greeting broken }")
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL", "reason": "INTERNAL"}
    assert body["errors"][0]["message"] == "Internal server error"


def test_a_client_mistake_is_not_logged_as_an_error(http: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    post(http, "{ nope }")
    post(http, "{ clients(limit: 5000) { data { name } } }")
    post(http, "query($kind: String!) { fail(kind: $kind) }", {"kind": "not-found"})
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_parse_validation_and_variable_errors_are_bad_requests(http: TestClient) -> None:
    for query, variables in [
        ("{ greeting", None),
        ("{ nope }", None),
        ("{ client { name } }", None),
        ("query($id: ID!) { client(id: $id) { name } }", {}),
        ("{ ...Missing }", None),
        ("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", None),
    ]:
        errors = refused(post(http, query, variables))
        assert {e["extensions"]["code"] for e in errors} == {"BAD_REQUEST"}, errors
        wrong_value = query.startswith("query($id")  # a variable's value, not the document
        reason = "VALIDATION_FAILED" if wrong_value else "INVALID_QUERY"
        assert {e["extensions"]["reason"] for e in errors} == {reason}, errors


# --- introspection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "enabled"),
    [
        ("", True),
        ("1", True),
        ("true", True),
        ("ON", True),
        ("0", False),
        ("false", False),
        ("off", False),
        ("No", False),
    ],
)
def test_introspection_is_a_setting(value: str, enabled: bool) -> None:
    settings = Settings.from_env({"CLEVERINVO_GRAPHQL_INTROSPECTION": value})
    assert settings.graphql_introspection is enabled
    assert GraphQLLimits.from_settings(settings).introspection is enabled


def test_a_bad_introspection_setting_is_refused_at_start() -> None:
    with pytest.raises(SettingsError, match="CLEVERINVO_GRAPHQL_INTROSPECTION must be"):
        Settings.from_env({"CLEVERINVO_GRAPHQL_INTROSPECTION": "maybe"})


def test_introspection_can_be_turned_off() -> None:
    settings = Settings.from_env({"CLEVERINVO_GRAPHQL_INTROSPECTION": "off"})
    with serve(GraphQLLimits.from_settings(settings)) as http:
        CALLS.clear()
        error, *_ = refused(post(http, "{ __schema { queryType { name } } }"))
        assert error["message"].startswith("GraphQL introspection has been disabled")
        assert error["extensions"]["code"] == "BAD_REQUEST"
        refused(post(http, '{ __type(name: "Client") { name } }'))
        # __typename is not introspection of the schema, and queries still run
        assert post(http, "{ __typename greeting }")["data"] == {"__typename": "Query", "greeting": "hello"}
        # and errors no longer suggest the schema's field names
        [error] = refused(post(http, "{ greetin }"))
        assert error["message"] == "Cannot query field 'greetin' on type 'Query'."
    with serve(replace(GraphQLLimits(), introspection=True)) as http:
        [error] = post(http, "{ greetin }")["errors"]
        assert "Did you mean 'greeting'?" in error["message"]


def test_a_query_text_is_validated_once_and_judged_the_same_every_time(http: TestClient) -> None:
    """The standard rules' verdict is remembered per query text (a bounded memo); the
    limits, which read the variables, are measured on every request."""
    from gateway.graphql.limits import _VALIDATED

    wrong = "{ clients { data { nope } } }"
    first, second = refused(post(http, wrong)), refused(post(http, wrong))
    assert first == second and "Cannot query field 'nope'" in first[0]["message"]
    query = "query($n: Int!) { clients(limit: $n) { data { name } } }"
    assert post(http, query, {"n": 5})["extensions"]["cost"]["requested"] == 6
    CALLS.clear()
    [error] = refused(post(http, query, {"n": 5000}))
    assert "exceeds the maximum cost" in error["message"]
    for n in range(300):
        post(http, f"{{ clients(limit: {n % 50 + 1}) {{ total }} }} # {n}")
    assert len(_VALIDATED._seen) <= 256

"""The GraphQL door: strawberry's ASGI app on /graphql (POST, GET for queries, and the
graphql-transport-ws websocket for subscriptions), over the same use cases as REST.

HTTP requests are authenticated and rate limited by the same guard as REST (one GraphQL
request is one request of the key's budget); a websocket authenticates once, with the
same key, in its ``connection_init`` payload (``{"Authorization": "Bearer cinv_..."}``).
"""

import json
from typing import Any
from uuid import UUID

from cross_web import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from gateway.graphql.context import Context
from gateway.graphql.graphiql import LocalGraphiQL, graphiql_routes
from gateway.graphql.media import CONTENT_TYPE, is_request_error, wants_graphql_response
from gateway.graphql.schema import build_schema, query_limits
from gateway.graphql.sockets import PROTOCOLS, CheckedTransportWS
from gateway.graphql.view import JsonErrorsGraphQL
from gateway.http.auth import authenticate, bearer_token
from gateway.http.calls import public_url
from gateway.http.jsonio import parse_json
from gateway.http.problems import BadRequest
from gateway.http.ratelimit import RateLimiter
from gateway.services import Services


class Unreadable(json.JSONDecodeError):
    """JSON a door refuses, and why (``gateway.http.jsonio.parse_json``'s message)."""

    def __init__(self, refusal: str) -> None:
        super().__init__(refusal, "", 0)
        self.refusal = refusal


class GraphQLDoor(JsonErrorsGraphQL[Context, None], LocalGraphiQL[Context, None]):
    graphql_transport_ws_handler_class = CheckedTransportWS

    def __init__(self, services: Services, limiter: RateLimiter, schema: BaseSchema, **options: Any) -> None:
        # graphql-transport-ws only; the subscription limit is the handler's own, coded
        options = {"subscription_protocols": PROTOCOLS, "max_subscriptions_per_connection": None, **options}
        super().__init__(schema, **options)
        self.services = services
        self.max_body_bytes = services.settings.max_body_bytes  # REST's bound, for the same bodies
        self.limiter = limiter

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        state = request.scope.get("state") or {}
        account = state.get("account_id")
        return Context(
            usecases=self.services.usecases,
            public_url=public_url(request),
            account_id=UUID(account) if account else None,
            request=request,
            response=response,
        )

    def decode_json(self, data: str | bytes) -> object:
        """JSON numbers in variables are read as exact decimals, never as binary floats;
        JSON that REST refuses (not UTF-8, a name twice in an object, nested too deep) is
        refused here too. A websocket message is decoded here as well: strawberry closes
        the socket on a JSONDecodeError (4400), so that is what a refusal raises."""
        what = "Request body" if isinstance(data, bytes) else "The JSON of a query parameter"
        try:
            return parse_json(data, what=what, exact_ints=False)
        except BadRequest as exc:
            raise Unreadable(exc.message) from None

    def parse_json(self, data: str | bytes) -> object:
        """An HTTP request's JSON: a refusal is a 400 saying why (strawberry's says only
        that it could not parse it)."""
        try:
            return self.decode_json(data)
        except Unreadable as exc:
            raise HTTPException(400, exc.refusal) from None

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Context = UNSET, root_value: None = UNSET
    ) -> Response | WebSocket:
        """An HTTP answer in the media type the client asked for (``gateway.graphql.media``)."""
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        answer = await super().run(request, context, root_value)
        if wants_graphql_response(request.headers.get("accept")) and answer.headers.get("content-type", "").startswith(
            "application/json"
        ):
            answer.headers["content-type"] = CONTENT_TYPE
            if request.scope.get("graphql_request_error"):
                answer.status_code = 400  # the request never ran (GraphQL over HTTP: 4xx, no data)
        return answer

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        body = await super().process_result(request, result)
        if wants_graphql_response(request.headers.get("accept")) and is_request_error(result.data, result.errors):
            body.pop("data", None)
            request.scope["graphql_request_error"] = True
        return body

    async def key_is_live(self, key_id: str) -> bool:
        """Whether a websocket's key is still unrevoked (the read model, as REST's check reads)."""
        key = await run_in_threadpool(self.services.usecases.keys.get, key_id)
        return key is not None and key.revoked_at is None

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        """The key comes in ``connection_init``; without a live one the socket is closed (4403)."""
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        token = bearer_token(header) if isinstance(header, str) else None
        key = await run_in_threadpool(authenticate, self.services, token) if token else None
        if key is None:
            raise ConnectionRejectionError({"message": "Invalid or revoked API key", "code": "UNAUTHENTICATED"})
        if not (await self.limiter.spend(f"key:{key.id}")).allowed:  # a connection is a request of the budget
            raise ConnectionRejectionError({"message": "Rate limit exceeded", "code": "RATE_LIMITED"})
        context.account_id = UUID(key.account_id)
        context.key_id = key.id
        return None


def graphql_routes(services: Services, limiter: RateLimiter) -> list[BaseRoute]:
    """``/graphql`` for HTTP and for websockets, one app behind both."""
    schema = build_schema(query_limits(services.settings.graphql_introspection))
    door = GraphQLDoor(services, limiter, schema, graphql_ide="graphiql")
    return [*graphiql_routes(), Route("/graphql", door), WebSocketRoute("/graphql", door)]

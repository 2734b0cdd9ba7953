"""The view that serves /graphql: strawberry's ASGI view, refusing what it cannot run as
GraphQL errors with codes (``gateway.graphql.errors``).

A request the endpoint cannot read at all (a body that is not JSON, not an operation, a
batch of too many operations, a body over the bound, a method other than GET, HEAD and
POST) is answered with its HTTP status (400, 413, 405) and the same
``{"errors": [{"message", "extensions": {"code"}}]}`` shape as every other refusal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TypeVar, overload

import msgspec
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.types.unset import UNSET

from gateway.graphql.errors import status_body
from gateway.http.jsonio import hardened, receive_bounded, replaying
from gateway.http.problems import PayloadTooLarge


def refusal_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """A refusal of the HTTP request itself, in the shape of a GraphQL response."""
    body = status_body(status, message, headers)
    sent = hardened(dict(headers) if headers else None)
    return Response(json.dumps(body), status_code=status, media_type="application/json", headers=sent)


def _check_operation(item: object, what: str = "the request") -> None:
    if not isinstance(item, dict):
        raise HTTPException(400, f"{what[0].upper()}{what[1:]} must be a JSON object with a 'query'")
    for key, kind, wanted in (
        ("query", str, "a string"),
        ("operationName", str, "a string"),
        ("variables", dict, "an object"),
        ("extensions", dict, "an object"),
    ):
        value = item.get(key)
        if value is not None and not isinstance(value, kind):
            raise HTTPException(400, f"'{key}' of {what} must be {wanted} or null")


def check_body(body: object, max_operations: int | None) -> None:
    """Refuses a JSON body that is not one operation, or a batch of 1..max_operations of them.

    ``max_operations`` is None when the schema does not take batches."""
    if not isinstance(body, list):
        _check_operation(body)
        return
    if max_operations is None:
        raise HTTPException(400, "Batching is not enabled: send one operation as a JSON object, not an array")
    if not body:
        raise HTTPException(400, "An empty batch: send at least one operation")
    if len(body) > max_operations:
        raise HTTPException(400, f"A batch holds at most {max_operations} operations, not {len(body)}")
    for number, item in enumerate(body, start=1):
        _check_operation(item, f"operation {number} of the batch")


_ENCODER = msgspec.json.Encoder()

# What /graphql answers to (HEAD as GET); a 405 names them in its Allow header.
ALLOWED_METHODS = "GET, HEAD, POST"


def _without_body(send: Send) -> Send:
    """``send`` with every body chunk emptied: a HEAD's answer keeps GET's headers only."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)}
        await send(message)

    return sending


ContextT = TypeVar("ContextT")
RootValueT = TypeVar("RootValueT")


class JsonErrorsGraphQL(GraphQL[ContextT, RootValueT]):
    """strawberry's ASGI view, refusing what it cannot run as GraphQL errors with codes.

    strawberry answers such requests with a plain-text body (and a body that is JSON but
    not an object, such as ``1`` or ``[1]``, with a 500); this view answers HTTP 400 (or
    405 for a method other than GET and POST) with ``{"errors": [{"message": ...,
    "extensions": {"code": "BAD_REQUEST"}}]}``. A batch (a JSON array of operations) is
    taken when the schema's ``StrawberryConfig(batching_config=...)`` allows it, up to its
    ``max_operations``."""

    @overload
    async def run(self, request: Request, context: ContextT = ..., root_value: RootValueT | None = ...) -> Response: ...

    @overload
    async def run(
        self, request: WebSocket, context: ContextT = ..., root_value: RootValueT | None = ...
    ) -> WebSocket: ...

    async def run(
        self,
        request: Request | WebSocket,
        context: ContextT = UNSET,
        root_value: RootValueT | None = UNSET,
    ) -> Response | WebSocket:
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            allowed = {"Allow": ALLOWED_METHODS} if exc.status_code == 405 else None  # RFC 9110 §15.5.6
            return refusal_response(exc.status_code, exc.reason, allowed)

    def encode_json(self, data: object) -> str:
        """Compact JSON by msgspec, as REST writes its answers (the standard library's
        encoder took several times longer over a page of invoices); text, not bytes, so a
        websocket's messages stay text frames."""
        return _ENCODER.encode(data).decode()

    # The most bytes of a request body read (None: strawberry's own, unbounded, reading).
    max_body_bytes: int | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An HTTP body is read here first, at most ``max_body_bytes`` of it: one declared
        larger (``Content-Length``) is refused before a byte of it is read, one that grows
        past the bound (chunked) as soon as it does, and the connection is closed rather
        than the rest read (RFC 9110 §15.5.14)."""
        if scope["type"] == "http" and scope["method"] == "HEAD":
            # HEAD is GET without the body (RFC 9110 §9.3.2): the same status and headers
            scope, send = {**scope, "method": "GET"}, _without_body(send)
        if scope["type"] != "http" or self.max_body_bytes is None:
            await super().__call__(scope, receive, send)
            return
        try:
            body = await receive_bounded(scope, receive, self.max_body_bytes)
        except PayloadTooLarge as exc:
            await refusal_response(413, exc.message, {"Connection": "close"})(scope, receive, send)
            return
        await super().__call__(scope, replaying(body, receive), send)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        content_type, _ = parse_content_type(request.content_type or "")
        if request.method == "POST" and "application/json" in content_type:
            # Starlette keeps the body, so strawberry reads the same bytes after this check.
            batching = self.schema.config.batching_config
            check_body(self.parse_json(await request.get_body()), batching["max_operations"] if batching else None)
        return await super().parse_http_body(request)

"""Cross-origin calls to the API from frontends served elsewhere (the Fetch standard's CORS
protocol, https://fetch.spec.whatwg.org/#http-cors-protocol).

``CLEVERINVO_CORS_ORIGINS`` lists the origins allowed, exactly (``scheme://host[:port]``,
comma-separated, read by ``gateway.settings.parse_origins``); empty, the default, allows
none. Only the API answers cross-origin (``/api/...`` and ``/graphql``): the dashboard and
the share page stay same-origin.

- A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) from an allowed origin
  is answered here, 204, before authentication (a browser sends no credentials with it):
  the methods, the request headers a client may send, and how long to keep the answer.
- Any other answer to an allowed origin names that origin (never ``*``: the answer is for
  that origin only) and exposes the headers a frontend needs to read.
- An origin not listed gets no CORS header at all; every API answer says ``Vary: Origin``
  while origins are configured, so a cache never serves one origin's answer to another.
Keys travel in ``Authorization``, never in cookies, so credentials are not allowed.
"""

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE"
REQUEST_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match"
EXPOSED_HEADERS = (
    "ETag, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, X-Request-Id, Idempotent-Replayed"
)
MAX_AGE_SECONDS = 600  # Chromium keeps a preflight at most 2 hours, Firefox 24: 10 minutes is taken by both


def is_api(path: str) -> bool:
    return path.startswith("/api/") or path == "/graphql"


class Cors:
    """The middleware; see the module's description. Place it outside the API guard."""

    def __init__(self, app: ASGIApp, origins: Iterable[str] = ()) -> None:
        self.app = app
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.origins or not is_api(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = origin if origin in self.origins else None
        if allowed and scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(allowed)(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                answer.add_vary_header("Origin")
                if allowed:
                    answer["Access-Control-Allow-Origin"] = allowed
                    answer["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            await send(message)

        await self.app(scope, receive, sending)

    @staticmethod
    def _preflight(origin: str) -> Response:
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": METHODS,
                "Access-Control-Allow-Headers": REQUEST_HEADERS,
                "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
                "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            },
        )

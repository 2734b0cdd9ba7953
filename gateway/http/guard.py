"""ASGI middleware for the API paths: rate limit, authenticate, JSON 500s, budget headers.

Only ``/api/`` and ``/graphql`` are API paths: the dashboard (``/dashboard``) signs its
owners in with its own sessions (``gateway.dashboard``), and share links are public."""

import logging
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.actors import acting_as, api_key
from gateway.http.auth import KeyCache, KeyRevoked, Pending, authenticate, bearer_token, checked, owing, settle
from gateway.http.jsonio import HARDENING, JSONResponse, error_response, hardened
from gateway.http.outages import classify, first_line
from gateway.http.ratelimit import Budget, BudgetsUnavailable, RateLimiter
from gateway.services import Services
from projections.views import KeyView

log = logging.getLogger("cleverinvo")
PROTECTED = ("/api/", "/graphql")
# Paths whose handlers call their use cases through ``gateway.http.calls.call``, which runs a
# remembered key's freshness read in the same worker call as the first use case.
DEFERRED = "/api/"
Refusal = Callable[[int, str, dict[str, str] | None], JSONResponse]
# GraphQL's body for a refusal (``gateway.graphql.errors.status_body``), given by the app
ErrorBody = Callable[[int, str, dict[str, str] | None], Any]


def graphql_refusal(error_body: ErrorBody) -> Refusal:
    """A refusal before any operation ran, in GraphQL's own shape (no ``data``: nothing
    was executed), with the HTTP status REST would give."""

    def refuse(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(error_body(status, message, headers), status_code=status, headers=hardened(headers))

    return refuse


def _public_page(scope: Scope, documents: frozenset[str]) -> bool:
    """GraphiQL: its page (a browser asking for HTML, with no key: the page asks for one)
    and its assets are public; every operation it sends carries the key. The documents
    the app names (the OpenAPI document) are public too (they serve their own hardening
    headers)."""
    path = scope["path"]
    if path.startswith("/graphql/static/") or (path in documents and scope["method"] in ("GET", "HEAD")):
        return True
    if path != "/graphql" or scope["method"] != "GET":
        return False
    headers = Headers(scope=scope)
    return "text/html" in headers.get("accept", "") and "authorization" not in headers


def _address(scope: Scope) -> str:
    """The client's address as the server sees it: the peer, or what a trusted proxy
    forwarded (uvicorn rewrites ``client`` only for CLEVERINVO_TRUSTED_PROXIES)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _hardening(headers: list[Any]) -> list[tuple[bytes, bytes]]:
    """The HARDENING headers an answer let through does not set itself."""
    present = {bytes(name).lower() for name, _ in headers}
    wanted = ((name.lower().encode(), value.encode()) for name, value in HARDENING.items())
    return [(name, value) for name, value in wanted if name not in present]


class ApiGuard:
    """Every API request spends its address's budget first, before any key is looked up, so
    a flood of random keys or of anonymous requests is cut without touching the database.
    Then the key: a live key spends its own budget; a request without one spends the
    budget shared by requests without a valid key from its address. The app gives the
    GraphQL door's error body and the public documents' paths (http knows no door)."""

    def __init__(
        self,
        app: ASGIApp,
        services: Services,
        limiter: RateLimiter,
        graphql_error_body: ErrorBody,
        public_documents: frozenset[str] = frozenset(),
        address_limiter: RateLimiter | None = None,
    ) -> None:
        self.app = app
        self.graphql_error = graphql_refusal(graphql_error_body)
        self.public_documents = public_documents
        self.services = services
        self.limiter = limiter
        self.keys = KeyCache()  # the live keys this process has seen: no lookup for them
        settings = services.settings
        self.address_limiter = address_limiter or RateLimiter(settings.address_rate_limit, settings.rate_limit_storage)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"].startswith(PROTECTED):
            await self._websocket(scope, receive, send)
            return
        if (
            scope["type"] != "http"
            or not scope["path"].startswith(PROTECTED)
            or _public_page(scope, self.public_documents)
        ):
            await self.app(scope, receive, send)
            return
        refuse = self.graphql_error if scope["path"].startswith("/graphql") else error_response
        try:
            await self._http(scope, receive, send, refuse)
        except BudgetsUnavailable as exc:  # raised before the request reaches the app
            log.error("Rate-limit counters unreachable: %s", exc.__cause__ or exc)
            await refuse(503, str(exc), {"Retry-After": "1"})(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send, refuse: Refusal) -> None:
        address = _address(scope)
        near = await self.address_limiter.spend(f"address:{address}")
        if not near.allowed:
            await refuse(429, "Rate limit exceeded: too many requests from this address, retry later", near.headers())(
                scope, receive, send
            )
            return
        headers = Headers(scope=scope).getlist("authorization")
        header = headers[0] if len(headers) == 1 else None
        token = bearer_token(header)
        key, check = self.keys.get(token) if token else None, None
        try:
            if key is not None:
                check = Pending(self.services, str(token), self.keys)
                if not scope["path"].startswith(DEFERRED):  # GraphQL calls its use cases itself
                    await run_in_threadpool(check.run)
            elif token:
                key = await run_in_threadpool(authenticate, self.services, token)
                if key is not None:
                    self.keys.remember(token, key)
        except KeyRevoked:
            key = None
        except Exception as exc:
            outage = classify(exc, "GET")  # nothing was written: the key was only looked up
            if outage is not None:
                log.warning("Authentication impossible on %s %s: %s", scope["method"], scope["path"], outage.code)
                await error_response(outage.status, outage.message, outage.headers, code=outage.code)(
                    scope, receive, send
                )
                return
            log.exception("Authentication failed on %s %s", scope["method"], scope["path"])
            await error_response(500, "Internal server error")(scope, receive, send)
            return
        if key is None:
            await self._refused(scope, receive, send, refuse, f"ip:{address}", token, header, len(headers))
            return
        budget = await self.limiter.spend(f"key:{key.id}")
        if not budget.allowed or len(headers) > 1:
            await self._refused(scope, receive, send, refuse, budget, token, header, len(headers))
            return
        if await self._run(scope, receive, send, refuse, key, check, budget.headers()):
            return
        # the key was revoked since this process last saw it: refused as any dead key is
        await self._refused(scope, receive, send, refuse, f"ip:{address}", token, header, len(headers))

    async def _refused(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        refuse: Refusal,
        spent: str | Budget,
        token: str | None,
        header: str | None,
        count: int,
    ) -> None:
        """A request the key does not let through: over budget (429), several keys (400),
        or none that is live (401). A request without a live key spends ``spent``, the
        budget shared by its address's requests without one."""
        budget = spent if isinstance(spent, Budget) else await self.limiter.spend(spent)
        extra = budget.headers()
        if not budget.allowed:
            await refuse(429, "Rate limit exceeded: too many requests, retry later", extra)(scope, receive, send)
            return
        if count > 1:
            message = f"Send one Authorization header, not {count}"
            await refuse(400, message, {**extra, "WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        if token:
            message = "Invalid or revoked API key"
        elif header:
            message = "Malformed Authorization header: expected 'Bearer cinv_...'"
        else:
            message = "Missing API key: send 'Authorization: Bearer cinv_...'"
        await refuse(401, message, {**extra, "WWW-Authenticate": "Bearer"})(scope, receive, send)

    async def _run(  # noqa: PLR0913 - the request, and what the guard found for it
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        refuse: Refusal,
        key: KeyView,
        check: Pending | None,
        extra: dict[str, str],
    ) -> bool:
        """Runs the app for a live key; False, with nothing sent, when the key turned out
        revoked (``check``: a remembered key's freshness read, owed by the request's first
        use case, else by its answer)."""
        state = scope.setdefault("state", {})
        state["account_id"], state["key_id"] = key.account_id, key.id
        started = revoked = False
        added = [(name.lower().encode(), value.encode()) for name, value in extra.items()]

        async def send_with_headers(message: Message) -> None:
            nonlocal started, revoked
            if revoked:
                return  # what the app answers a revoked key is never sent
            if message["type"] == "http.response.start":
                if check is not None and not check.done:  # the app answered without a use case
                    try:
                        await run_in_threadpool(check.run)
                    except KeyRevoked:
                        revoked = True
                        return
                started = True
                headers: list[Any] = list(message.get("headers", []))
                headers.extend(added)
                headers.extend(_hardening(headers))
                message = {**message, "headers": headers}
            await send(message)

        owed = owing(check)
        try:
            await self._note_use(key.id, check)
            with acting_as(api_key(key.id, key.name)):  # every event this request records names the key
                await self.app(scope, receive, send_with_headers)
        except KeyRevoked:
            revoked = True
        except ClientDisconnect:  # the client hung up mid-body (GraphQL's reader lets it out): not our fault
            if not started:
                await refuse(400, "The request body was cut off", extra)(scope, receive, send)
        except Exception as exc:
            if started:
                log.exception("Unhandled error on %s %s", scope["method"], scope["path"])
                raise
            outage = classify(exc, str(scope["method"]))  # a store's fault is an outage, not a 500
            if outage is None:
                log.exception("Unhandled error on %s %s", scope["method"], scope["path"])
                await error_response(500, "Internal server error", extra)(scope, receive, send)
            else:
                log.warning("%s %s: %s (%s)", scope["method"], scope["path"], outage.code, first_line(exc))
                headers = {**extra, **outage.headers}
                await error_response(outage.status, outage.message, headers, code=outage.code)(scope, receive, send)
        finally:
            settle(owed)
        if revoked and not started:
            state.pop("account_id", None)
            state.pop("key_id", None)
            return False
        return True

    async def _note_use(self, key_id: str, check: Pending | None) -> None:
        """When the key was last used, for the dashboard's list: written at most once a
        minute per key (a memory check otherwise), and never in the way of the request.
        A remembered key is checked first, in the same call."""
        keys = self.services.usecases.keys
        if not keys.due(key_id):
            return
        try:
            await run_in_threadpool(checked(keys.used, check) if check is not None else keys.used, key_id)
        except KeyRevoked:
            raise  # refused before anything is recorded
        except Exception:
            log.exception("Could not record the use of API key %s", key_id)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A websocket (GraphQL subscriptions) authenticates inside, with its first message;
        its address pays for the connection first, as an HTTP request does."""
        if not (await self.address_limiter.spend(f"address:{_address(scope)}")).allowed:
            await send({"type": "websocket.close", "code": 1008, "reason": "Rate limit exceeded"})
            return
        await self.app(scope, receive, send)

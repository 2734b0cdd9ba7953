"""The Starlette app factory: settings in, an ASGI app out. The composition root's HTTP half:
the doors' routes and the HTTP wrapping around them, over one ``Services`` (``gateway.services``)."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from gateway.dashboard import dashboard_app
from gateway.graphql.app import graphql_routes
from gateway.graphql.errors import status_body
from gateway.http import capacity
from gateway.http.compression import Compression
from gateway.http.cors import Cors
from gateway.http.errors import HANDLERS
from gateway.http.guard import ApiGuard
from gateway.http.health import ROUTES as HEALTH_ROUTES
from gateway.http.health import report
from gateway.http.idempotency import Idempotency
from gateway.http.jsonio import JSONResponse
from gateway.http.observability import RequestLog
from gateway.http.ratelimit import budgets
from gateway.http.timeouts import BodyTimeout
from gateway.rest.contract.docs import ROUTES as DOCS_ROUTES
from gateway.rest.contract.openapi import PATH as OPENAPI_PATH
from gateway.rest.contract.openapi import ROUTES as OPENAPI_ROUTES
from gateway.rest.history_routes import ROUTES as HISTORY_ROUTES
from gateway.rest.lifecycle_routes import ROUTES as LIFECYCLE_ROUTES
from gateway.rest.recovery import ANSWERS as REST_ANSWERS
from gateway.rest.routes import ROUTES
from gateway.services import Services
from gateway.settings import Settings
from gateway.share.routes import ROUTES as SHARE_ROUTES

log = logging.getLogger("cleverinvo")
FOLLOW_SECONDS = 0.5


async def health(request: Request) -> Response:
    """Liveness, always 200 ``"status": "ok"``, with readiness and its detail beside
    (gateway/http/health.py): the database, the followers' lag, the worker child, integrity."""
    services: Services = request.app.state.services
    child = getattr(request.app.state, "worker_child", None)  # set by `cleverinvo serve`
    return JSONResponse(await run_in_threadpool(report, services, child))


async def _follow(services: Services) -> None:
    """Applies events written by other processes (the CLI revoking a key, say)."""
    while True:
        await asyncio.sleep(FOLLOW_SECONDS)
        try:
            await run_in_threadpool(services.projector.catch_up)
        except Exception:  # keep following; the next request's own catch-up reports it
            log.exception("Projection follower failed; retrying")


def create_app(settings: Settings | None = None, services: Services | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    owned = services is None
    core = services or Services(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # never more threads than connections (defect 6), in the running event loop
        capacity.limit_threads(core.app, core.engines)
        follower = asyncio.create_task(_follow(core))
        try:
            yield
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            if owned:
                core.close()

    limiter = budgets(settings.rate_limit, settings)  # one budget per key, both doors
    nearby = budgets(settings.address_rate_limit, settings)  # every API request's address
    app = Starlette(
        routes=[
            *ROUTES,
            *LIFECYCLE_ROUTES,
            *HISTORY_ROUTES,
            *SHARE_ROUTES,
            *OPENAPI_ROUTES,  # the contract's document (no key) and its page at /docs
            *DOCS_ROUTES,
            *graphql_routes(core, limiter),
            Route("/healthz", health),
            *HEALTH_ROUTES,  # /readyz: readiness, 503 naming each failing check
            Mount("/dashboard", app=dashboard_app(core)),  # the owners' pages: their own errors, as HTML
        ],
        middleware=[
            Middleware(RequestLog),  # outermost: every response carries the request id and is logged
            Middleware(Cors, origins=settings.cors_origins),  # a preflight is answered before the guard
            Middleware(Compression),  # every JSON answer, a refusal or an idempotent replay too
            Middleware(BodyTimeout, seconds=settings.body_timeout_seconds),  # bounds every body read inside
            Middleware(
                ApiGuard,
                services=core,
                limiter=limiter,
                graphql_error_body=status_body,  # a refusal on /graphql in GraphQL's shape
                public_documents=frozenset({OPENAPI_PATH}),
                address_limiter=nearby,
            ),
            # inside the guard: it needs the key's account; REST's answers, to make one again
            Middleware(Idempotency, services=core, answers=REST_ANSWERS),
        ],
        exception_handlers=HANDLERS,
        lifespan=lifespan,
    )
    app.state.services = core
    app.state.worker_child = None  # `cleverinvo serve` puts its worker supervisor here
    app.state.share_limiter = budgets(settings.share_rate_limit, settings)
    return app

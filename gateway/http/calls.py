"""What every door's handler needs of the request: the composition root (``Services``)
and its use cases, calling a use case off the event loop, and where share links point."""

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from gateway.http.auth import checked, pending
from gateway.services import Services
from usecases.service import UseCases

T = TypeVar("T")


def services_of(request: HTTPConnection) -> Services:
    services: Services = request.app.state.services
    return services


def usecases_of(request: HTTPConnection) -> UseCases:
    return services_of(request).usecases


async def call(use_case: Callable[..., T], *args: Any) -> T:
    """Runs a use case (they block: SQL, the event store) on the thread pool; the request's
    first also runs its key's freshness read (``gateway.http.auth``), in the same call."""
    check = pending()
    if check is not None:
        return await run_in_threadpool(checked(use_case, check), *args)
    return await run_in_threadpool(use_case, *args)


def public_url(request: HTTPConnection) -> str:
    """Where share links point: CLEVERINVO_PUBLIC_URL, or this server's own address (the
    same for every request naming the same host: parsed once, not on every answer)."""
    configured = services_of(request).settings.public_url
    if configured:
        return configured.rstrip("/")
    scope = request.scope
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    root = scope.get("app_root_path", scope.get("root_path", ""))
    server = scope.get("server")
    seen = (scope.get("scheme", "http"), tuple(server) if server else None, root, host)
    found = _BASES.get(seen)
    if found is None:
        if len(_BASES) >= _MOST_BASES:  # the Host header is the client's: keep a few
            _BASES.clear()
        found = _BASES[seen] = str(request.base_url).rstrip("/")
    return found


_BASES: dict[tuple[object, ...], str] = {}
_MOST_BASES = 64

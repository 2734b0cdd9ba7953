"""What every door's handler needs of the request: the composition root (``Services``)
and its use cases, calling a use case off the event loop, and where share links point."""

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from gateway.services import Services
from usecases.service import UseCases

T = TypeVar("T")


def services_of(request: HTTPConnection) -> Services:
    services: Services = request.app.state.services
    return services


def usecases_of(request: HTTPConnection) -> UseCases:
    return services_of(request).usecases


async def call(use_case: Callable[..., T], *args: Any) -> T:
    """Runs a use case (they block: SQL, the event store) on the thread pool."""
    return await run_in_threadpool(use_case, *args)


def public_url(request: HTTPConnection) -> str:
    """Where share links point: CLEVERINVO_PUBLIC_URL, or this server's own address."""
    configured = services_of(request).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")

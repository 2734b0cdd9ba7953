"""What every REST handler does: find the core, the account and the ids, read the body,
run a command with read-your-writes, and turn a missing record into a 404."""

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from domain.errors import NotFound
from gateway import params
from gateway.jsonio import read_json_object
from gateway.services import Services

T = TypeVar("T")


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def account_of(request: Request) -> UUID:
    return UUID(request.state.account_id)


def path_uuid(request: Request, name: str, missing: str) -> UUID:
    found = params.path_id(request.path_params[name])
    if found is None:
        raise NotFound(missing)
    return found


async def json_body(request: Request, *, optional: bool = False) -> dict[str, Any]:
    """The JSON object sent; with ``optional``, no body at all reads as ``{}``."""
    limit = services_of(request).settings.max_body_bytes
    if optional and request.headers.get("content-length", "0") == "0" and "transfer-encoding" not in request.headers:
        return {}
    return await read_json_object(request, limit)


async def write(request: Request, command: Callable[[], T]) -> T:
    return await run_in_threadpool(services_of(request).execute, command)


def found(value: T | None, message: str) -> T:
    if value is None:
        raise NotFound(message)
    return value


def public_url(request: Request) -> str:
    """Where share links point: CLEVERINVO_PUBLIC_URL, or this server's own address."""
    configured = services_of(request).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")

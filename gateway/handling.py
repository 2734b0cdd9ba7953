"""What every REST handler does: find the core, the account and the ids, read the body,
run a command with read-your-writes, and turn a missing record into a 404."""

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from domain.errors import NotFound
from gateway import params, render
from gateway.jsonio import JSONResponse, read_json_object
from gateway.services import Services
from projections.views import AccountView, ClientView, InvoiceDetail

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


def _detail_parts(
    services: Services, account_id: str, invoice_id: str
) -> tuple[InvoiceDetail | None, ClientView | None, AccountView | None]:
    invoice = services.read.invoice(account_id, invoice_id)
    if invoice is None:
        return None, None, None
    return invoice, services.read.client(account_id, invoice.client_id), services.read.account(account_id)


async def detail_response(request: Request, account: UUID, invoice_id: UUID) -> Response:
    """``{"data": <the invoice's detail>}`` as the read model has it now."""
    services = services_of(request)
    invoice, client, seller = await run_in_threadpool(_detail_parts, services, str(account), str(invoice_id))
    detail = render.invoice_detail(found(invoice, "Invoice not found"), public_url(request), client, seller)
    return JSONResponse({"data": detail})

"""What every REST handler does: find the use cases, the account and the ids, read the
body, call one use case off the event loop (``gateway.http.calls``, which every door
shares), and turn a missing record into a 404."""

from typing import Any, TypeVar
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from domain.errors import NotFound
from gateway.http.calls import call as call
from gateway.http.calls import public_url as public_url
from gateway.http.calls import services_of
from gateway.http.calls import usecases_of as usecases_of
from gateway.http.jsonio import JSONResponse, read_json_object
from gateway.rest import params, render
from usecases.invoices import NOW, Moment

T = TypeVar("T")


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


def found(value: T | None, message: str) -> T:
    if value is None:
        raise NotFound(message)
    return value


async def detail_response(request: Request, account: UUID, invoice_id: UUID, moment: Moment = NOW) -> Response:
    """``{"data": <the invoice's detail>}``: now, or as it was at ``moment``."""
    read = await call(usecases_of(request).invoices.get, account, invoice_id, moment)
    return JSONResponse({"data": render.invoice_detail(read.invoice, public_url(request), read.client, read.account)})

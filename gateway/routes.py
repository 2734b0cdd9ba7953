"""REST endpoints: HTTP in, one command or query, HTTP out. No business rules here."""

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.errors import NotFound
from gateway import bodies, params, render
from gateway.downloads import content_disposition
from gateway.jsonio import JSONResponse, read_json_object
from gateway.services import Services

T = TypeVar("T")


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _account(request: Request) -> UUID:
    return UUID(request.state.account_id)


def _id(request: Request, name: str, missing: str) -> UUID:
    found = params.path_id(request.path_params[name])
    if found is None:
        raise NotFound(missing)
    return found


async def _body(request: Request) -> dict[str, Any]:
    return await read_json_object(request, _services(request).settings.max_body_bytes)


async def _write(request: Request, command: Callable[[], T]) -> T:
    return await run_in_threadpool(_services(request).execute, command)


def _found(value: T | None, message: str) -> T:
    if value is None:
        raise NotFound(message)
    return value


# --- clients -------------------------------------------------------------------------


async def clients_collection(request: Request) -> Response:
    services, account = _services(request), _account(request)
    if request.method == "POST":
        values = bodies.client_values(await _body(request), creating=True)
        client_id = await _write(request, lambda: services.app.create_client(account, values))
        view = await run_in_threadpool(services.read.client, str(account), str(client_id))
        return JSONResponse({"data": render.client(_found(view, "Client not found"))}, status_code=201)
    query = params.list_params(request.query_params)
    result = await run_in_threadpool(services.read.clients, str(account), query.page, query.limit, query.search)
    return JSONResponse(render.page(result, render.client))


async def client_item(request: Request) -> Response:
    services, account = _services(request), _account(request)
    client_id = _id(request, "client_id", "Client not found")
    if request.method in ("PUT", "PATCH"):
        values = bodies.client_values(await _body(request), creating=False)
        await _write(request, lambda: services.app.update_client(account, client_id, values))
    elif request.method == "DELETE":
        await _write(request, lambda: services.app.deactivate_client(account, client_id))
        return Response(status_code=204)
    view = await run_in_threadpool(services.read.client, str(account), str(client_id))
    return JSONResponse({"data": render.client(_found(view, "Client not found"))})


# --- invoices ------------------------------------------------------------------------


async def invoices_collection(request: Request) -> Response:
    services, account = _services(request), _account(request)
    if request.method == "POST":
        draft = bodies.invoice_draft(await _body(request))
        invoice_id = await _write(request, lambda: services.app.create_invoice(account, draft))
        view = await run_in_threadpool(services.read.invoice, str(account), str(invoice_id))
        return JSONResponse({"data": render.invoice_brief(_found(view, "Invoice not found"))}, status_code=201)
    query = params.list_params(request.query_params)
    status = params.status_param(request.query_params)
    client_id = params.client_id_param(request.query_params)
    result = await run_in_threadpool(
        services.read.invoices, str(account), query.page, query.limit, query.search, client_id, status
    )
    return JSONResponse(render.page(result, render.invoice_summary))


async def invoice_item(request: Request) -> Response:
    services, account = _services(request), _account(request)
    invoice_id = _id(request, "invoice_id", "Invoice not found")
    if request.method in ("PUT", "PATCH"):
        changes = bodies.invoice_changes(await _body(request))
        await _write(request, lambda: services.app.update_invoice(account, invoice_id, changes))
    elif request.method == "DELETE":
        await _write(request, lambda: services.app.delete_invoice(account, invoice_id))
        await run_in_threadpool(services.pdfs.discard, str(invoice_id))
        return Response(status_code=204)
    view = _found(await run_in_threadpool(services.read.invoice, str(account), str(invoice_id)), "Invoice not found")
    if request.method == "GET":
        return JSONResponse({"data": render.invoice_detail(view)})
    return JSONResponse({"data": render.invoice_brief(view)})


async def invoice_pdf(request: Request) -> Response:
    services, account = _services(request), _account(request)
    invoice_id = _id(request, "invoice_id", "Invoice not found")
    found = _found(await run_in_threadpool(services.pdfs.get, str(account), str(invoice_id)), "Invoice not found")
    headers = {"ETag": found.etag, "Cache-Control": "private, no-cache"}
    if found.etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = content_disposition(f"{found.invoice_number}.pdf")
    return Response(found.content, media_type="application/pdf", headers=headers)


ROUTES = [
    Route("/api/v1/clients", clients_collection, methods=["GET", "POST"]),
    Route("/api/v1/clients/{client_id}", client_item, methods=["GET", "PUT", "PATCH", "DELETE"]),
    Route("/api/v1/invoices", invoices_collection, methods=["GET", "POST"]),
    Route("/api/v1/invoices/{invoice_id}", invoice_item, methods=["GET", "PUT", "PATCH", "DELETE"]),
    Route("/api/v1/invoices/{invoice_id}/pdf", invoice_pdf, methods=["GET"]),
]

"""REST endpoints: HTTP in, one use case, HTTP out. No business rules here."""

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.errors import ValidationError
from gateway import params, render
from gateway.contract import requests, responses
from gateway.contract.decoding import decode
from gateway.downloads import not_modified, pdf_response
from gateway.handling import account_of, call, detail_response, json_body, path_uuid, usecases_of
from gateway.jsonio import JSONResponse
from gateway.methods import reads
from pdf.service import etag
from usecases.pages import Pages

# --- clients -------------------------------------------------------------------------


async def clients_collection(request: Request) -> Response:
    clients, account = usecases_of(request).clients, account_of(request)
    if not reads(request):  # POST
        params.none(request.query_params)
        fields = decode(await json_body(request), requests.ClientCreate).fields()
        view = await call(clients.create, account, fields)
        return JSONResponse(responses.ClientData(data=render.client(view)), status_code=201)
    pages = Pages(usecases_of(request))
    result = await call(pages.clients, account, params.list_params(request.query_params))
    return JSONResponse(render.client_page(result))


async def client_item(request: Request) -> Response:
    clients, account = usecases_of(request).clients, account_of(request)
    client_id = path_uuid(request, "client_id", "Client not found")
    params.none(request.query_params)
    if request.method in ("PUT", "PATCH"):
        fields = decode(await json_body(request), requests.ClientUpdate).fields()
        view = await call(clients.update, account, client_id, fields)
    elif request.method == "DELETE":
        await call(clients.delete, account, client_id)
        return Response(status_code=204)
    else:
        view = await call(clients.get, account, client_id)
    return JSONResponse(responses.ClientData(data=render.client(view)))


# --- invoices ------------------------------------------------------------------------


async def invoices_collection(request: Request) -> Response:
    invoices, account = usecases_of(request).invoices, account_of(request)
    if not reads(request):  # POST
        params.none(request.query_params)
        given = decode(await json_body(request), requests.InvoiceCreate).input()
        view = await call(invoices.create, account, given)
        return JSONResponse(responses.InvoiceBriefData(data=render.invoice_brief(view)), status_code=201)
    pages = Pages(usecases_of(request))
    result = await call(pages.invoices, account, params.invoice_params(request.query_params))
    return JSONResponse(render.invoice_page(result))


async def invoice_item(request: Request) -> Response:
    invoices, account = usecases_of(request).invoices, account_of(request)
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    if reads(request):  # GET, and HEAD with it: never a write, whatever body came
        return await detail_response(request, account, invoice_id, params.moment_params(request.query_params))
    params.none(request.query_params)
    if request.method == "DELETE":
        await call(invoices.delete, account, invoice_id)
        return Response(status_code=204)
    update = decode(await json_body(request), requests.InvoiceUpdate)
    changes = update.changes()
    if update.status is not UNSET:  # sent back as read it is ignored; a new status is a command
        current = await call(invoices.detail, account, invoice_id)
        if update.status != current.status:
            raise ValidationError(
                "Field 'status' cannot be set; use POST /api/v1/invoices/{id}/send, /payments or /void"
            )
    view = await call(invoices.update, account, invoice_id, changes)
    return JSONResponse(responses.InvoiceBriefData(data=render.invoice_brief(view)))


async def invoice_pdf(request: Request) -> Response:
    invoices, account = usecases_of(request).invoices, account_of(request)
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    moment = params.moment_params(request.query_params)
    if not moment.past:
        return pdf_response(request, await call(invoices.pdf, account, invoice_id))
    document = await call(invoices.past_document, account, invoice_id, moment)
    unchanged = not_modified(request, etag(document))
    if unchanged is not None:
        return unchanged
    return pdf_response(request, await call(invoices.render_past, document))


ROUTES = [
    Route("/api/v1/clients", clients_collection, methods=["GET", "POST"]),
    Route("/api/v1/clients/{client_id}", client_item, methods=["GET", "PUT", "PATCH", "DELETE"]),
    Route("/api/v1/invoices", invoices_collection, methods=["GET", "POST"]),
    Route("/api/v1/invoices/{invoice_id}", invoice_item, methods=["GET", "PUT", "PATCH", "DELETE"]),
    Route("/api/v1/invoices/{invoice_id}/pdf", invoice_pdf, methods=["GET"]),
]

"""REST endpoints: HTTP in, one use case, HTTP out. No business rules here.

Reads and writes are told apart by ``gateway.http.methods.reads`` (GET and HEAD), never by
``== "GET"``: Starlette routes HEAD to a GET route's handler. An invoice's and a client's
answers carry their ETag (``gateway.http.etags``); a write takes If-Match."""

from uuid import UUID

from msgspec import UNSET
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.errors import ValidationError
from gateway.http import etags
from gateway.http.calls import call, public_url, usecases_of
from gateway.http.downloads import not_modified, pdf_response
from gateway.http.jsonio import JSONResponse
from gateway.http.methods import reads
from gateway.rest import params, render
from gateway.rest.contract import requests, responses
from gateway.rest.contract.decoding import decode
from gateway.rest.handling import account_of, json_body, path_uuid
from pdf.service import etag
from usecases.invoices import NOW, InvoiceRead, Moment

# --- clients -------------------------------------------------------------------------


async def clients_collection(request: Request) -> Response:
    clients, account = usecases_of(request).clients, account_of(request)
    if not reads(request):  # POST
        params.none(request.query_params)
        fields = decode(await json_body(request), requests.ClientCreate).fields()
        view = await call(clients.create, account, fields)
        return await _client_answer(request, account, UUID(view.id), 201)
    result = await call(clients.list, account, params.list_params(request.query_params))
    return JSONResponse(render.client_page(result))


async def _client_answer(request: Request, account: UUID, client_id: UUID, status: int = 200) -> Response:
    """``{"data": <the client>}`` with its ETag, or 304 to a read whose If-None-Match names it."""
    view, version = await call(usecases_of(request).clients.versioned, account, client_id)
    response = JSONResponse(responses.ClientData(data=render.client(view)), status_code=status)
    return etags.answer(request, response, None if version is None else etags.tag(version, response.body))


async def client_item(request: Request) -> Response:
    clients, account = usecases_of(request).clients, account_of(request)
    client_id = path_uuid(request, "client_id", "Client not found")
    params.none(request.query_params)
    if reads(request):  # GET, and HEAD with it: never a write, whatever body came
        return await _client_answer(request, account, client_id)
    if request.method == "DELETE":
        await call(clients.delete, account, client_id, etags.expected(request))
        return Response(status_code=204)
    fields = decode(await json_body(request), requests.ClientUpdate).fields()  # PUT, PATCH
    await call(clients.update, account, client_id, fields, etags.expected(request))
    return await _client_answer(request, account, client_id)


# --- invoices ------------------------------------------------------------------------


def _detail_body(request: Request, read: InvoiceRead) -> JSONResponse:
    """``{"data": <the invoice's detail>}``, as GET answers it."""
    return JSONResponse({"data": render.invoice_detail(read.invoice, public_url(request), read.client, read.account)})


async def invoice_tag(request: Request, account: UUID, invoice_id: UUID) -> str:
    """The invoice's ETag now: its version, and the digest of its GET answer."""
    read = await call(usecases_of(request).invoices.get, account, invoice_id, NOW)
    return etags.tag(read.invoice.version, _detail_body(request, read).body)


async def _invoice_detail(request: Request, account: UUID, invoice_id: UUID, moment: Moment) -> Response:
    read = await call(usecases_of(request).invoices.get, account, invoice_id, moment)
    response = _detail_body(request, read)
    return etags.answer(request, response, etags.tag(read.invoice.version, response.body))


async def invoice_written(request: Request, account: UUID, invoice_id: UUID, status: int = 200) -> Response:
    """What every write of an invoice answers: its detail as GET now answers it (a superset
    of the reference's ``id``, ``invoiceNumber``, ``total``, ``status``), with its ETag."""
    read = await call(usecases_of(request).invoices.get, account, invoice_id, NOW)
    response = _detail_body(request, read)
    response.status_code = status
    response.headers["ETag"] = etags.tag(read.invoice.version, response.body)
    return response


async def invoices_collection(request: Request) -> Response:
    invoices, account = usecases_of(request).invoices, account_of(request)
    if not reads(request):  # POST
        params.none(request.query_params)
        given = decode(await json_body(request), requests.InvoiceCreate).input()
        view = await call(invoices.create, account, given)
        return await invoice_written(request, account, UUID(view.id), 201)
    result = await call(invoices.list, account, params.invoice_params(request.query_params))
    return JSONResponse(render.invoice_page(result))


async def invoice_item(request: Request) -> Response:
    invoices, account = usecases_of(request).invoices, account_of(request)
    invoice_id = path_uuid(request, "invoice_id", "Invoice not found")
    if reads(request):  # GET, and HEAD with it: never a write, whatever body came
        return await _invoice_detail(request, account, invoice_id, params.moment_params(request.query_params))
    params.none(request.query_params)
    if request.method == "DELETE":
        await call(invoices.delete, account, invoice_id, etags.expected(request))
        return Response(status_code=204)
    update = decode(await json_body(request), requests.InvoiceUpdate)  # PUT, PATCH
    changes = update.changes()
    if update.status is not UNSET:  # sent back as read it is ignored; a new status is a command
        current = await call(invoices.detail, account, invoice_id)
        if update.status != current.status:
            raise ValidationError(
                "Field 'status' cannot be set; use POST /api/v1/invoices/{id}/send, /payments or /void"
            )
    await call(invoices.update, account, invoice_id, changes, etags.expected(request))
    return await invoice_written(request, account, invoice_id)


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
